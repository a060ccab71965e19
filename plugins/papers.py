"""Paper shares: ``1.《title》url`` / ``### 1.《title》url`` / ``2. Title`` + url + summary."""

from __future__ import annotations

import re

from composer.contract.hookspecs import hookimpl
from composer.contract.model import NOTE, Item
from composer.contract.protocols import Block
from composer.support.text import arxiv_id, find_urls, split_at_url, trim_lines

KIND = "paper"
NUMBERED = re.compile(r"^(?:#{1,6}[ \t]*)?(\d{1,3})[ \t]*[.、)．][ \t]*(\S.*)$")
QUOTED = re.compile(r"^(?:#{1,6}[ \t]*)?(《[^》\n]+》.*)$")
FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _title_line(line: str, expected: int | None) -> str | None:
    """The rest of a line that opens a paper, else None."""
    heading = line.lstrip().startswith("#")
    m = NUMBERED.match(line)
    if m and (heading or expected is None or int(m.group(1)) == expected):
        return m.group(2)
    m = QUOTED.match(line)
    if m:
        return m.group(1)
    return None


def split_title(rest: str) -> tuple[str, str, str]:
    """(title, url, text after the url) of a title line."""
    before, url, after = split_at_url(rest)
    if not url:
        return before, "", ""
    if before.endswith(("(", "（")) and after.startswith((")", "）")):  # 《T》(url)
        before, after = before[:-1].rstrip(), after[1:].lstrip()
    if not before and after and not find_urls(after):
        return after, url, ""
    return before, url, after


class Papers:
    name = "papers"
    title = "论文分享"
    aliases = ("论文分析", "论文", "论文推荐", "Papers", "Paper", "Reading")
    config = None

    def sniff(self, block: Block) -> float:
        first = next((ln for ln in block.lines if ln.strip()), "")
        numbered = NUMBERED.match(first)
        if QUOTED.match(first) or (numbered and numbered.group(2).startswith("《")):
            return 0.8
        if numbered and find_urls(block.text):
            return 0.6
        return 0.0

    def parse(self, block: Block) -> list[Item]:
        items: list[Item] = []
        body: list[str] = []
        fence = None
        number = None
        after_blank = True

        def close() -> None:
            text = trim_lines("\n".join(body))
            body.clear()
            if not items or items[-1].kind == NOTE:
                if text:
                    if items:
                        items[-1].text += "\n\n" + text
                    else:
                        items.append(Item(NOTE, text=text, origin=block.where()))
                return
            _finish(items[-1], text)

        for offset, line in enumerate(block.lines):
            heading = line.lstrip().startswith("#")
            if fence is None and (after_blank or heading):
                rest = _title_line(line, None if number is None else number + 1)
                if rest is not None:
                    close()
                    title, url, after = split_title(rest)
                    m = NUMBERED.match(line)
                    number = int(m.group(1)) if m else (number or 0) + 1
                    items.append(Item(KIND, title=title, url=url, origin=block.where(offset)))
                    if after:
                        body.append(after)
                        body.append("")
                    after_blank = True  # a list of titles needs no blank lines
                    continue
            after_blank = not line.strip()
            m = FENCE.match(line)
            if m:
                fence = None if fence and m.group(1)[0] == fence[0] else (fence or m.group(1))
            body.append(line)
        close()
        return items

    def serialize(self, items: list[Item]) -> str:
        out = []
        for n, item in enumerate(items, 1):
            head = f"{n}. " + " ".join(p for p in (item.title, item.url) if p)
            out.append(head + (f"\n\n{item.text}" if item.text else ""))
        return "\n\n".join(out)


def _finish(item: Item, text: str) -> None:
    if not item.url:
        first, _, rest = text.partition("\n\n")
        found = find_urls(first)
        if len(found) == 1 and first.strip() == found[0][2]:
            item.url, text = found[0][2], trim_lines(rest)
    item.text = text
    ids = [i for i in (arxiv_id(u) for _, _, u in find_urls(f"{item.url} {text}")) if i]
    if ids:
        item.meta["ids"] = list(dict.fromkeys(ids))


@hookimpl
def register_sections(register):
    register(Papers())
