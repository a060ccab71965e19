"""Paper shares: ``1.《title》url`` / ``### 1.《title》url`` / ``2. Title`` + url + summary."""

from __future__ import annotations

import re

from composer import api
from composer.api import hookimpl

KIND = "paper"
NUMBERED = re.compile(r"^(?:#{1,6}[ \t]*)?(\d{1,3})[ \t]*[.、)．][ \t]*(\S.*)$")
QUOTED = re.compile(r"^(?:#{1,6}[ \t]*)?(《[^》\n]+》.*)$")


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
    """(title, url, text after the url) of a title line; the title is plain text
    (``\\:`` in it is a colon: see ``escape_title``)."""
    before, url, after = api.split_at_url(rest)
    if not url:
        return api.unescape_title(before), "", ""
    if before.endswith(("(", "（")) and after.startswith((")", "）")):  # 《T》(url)
        before, after = before[:-1].rstrip(), after[1:].lstrip()
    if not before and after and not api.find_urls(after):
        return api.unescape_title(after), url, ""
    return api.unescape_title(before), url, after


class Papers:
    name = "papers"
    title = "论文分享"
    aliases = ("论文分析", "论文", "论文推荐", "Papers", "Paper", "Reading")
    kinds = (KIND,)
    config = None

    def sniff(self, block: api.Block) -> float:
        first = next((ln for ln in block.lines if ln.strip()), "")
        numbered = NUMBERED.match(first)
        if numbered and api.find_urls(first):
            return 0.96  # "1. title URL" starts a paper: it beats a reply label below
        if QUOTED.match(first) or (numbered and numbered.group(2).startswith("《")):
            return 0.8
        if numbered and api.find_urls(block.text):
            return 0.6
        return 0.0

    def parse(self, block: api.Block) -> list[api.Item]:
        items: list[api.Item] = []
        body: list[str] = []
        fences = api.Fences()
        number = None
        after_blank = True

        def close() -> None:
            text = api.trim_lines("\n".join(body))
            body.clear()
            if not items or items[-1].kind == api.NOTE:
                if text:
                    if items:
                        items[-1].text += "\n\n" + text
                    else:
                        items.append(api.Item(api.NOTE, text=text, origin=block.where()))
                return
            _finish(items[-1], text)

        for offset, line in enumerate(block.lines):
            heading = line.lstrip().startswith("#")
            if not fences.open and (after_blank or heading):
                rest = _title_line(line, None if number is None else number + 1)
                if rest is not None:
                    close()
                    title, url, after = split_title(rest)
                    m = NUMBERED.match(line)
                    number = int(m.group(1)) if m else (number or 0) + 1
                    items.append(api.Item(KIND, title=title, url=url, origin=block.where(offset)))
                    if after:
                        body.append(after)
                        body.append("")
                    after_blank = True  # a list of titles needs no blank lines
                    continue
            after_blank = not line.strip()
            fences.step(line)
            body.append(line)
        close()
        return items

    def url_score(self, url: str) -> float:
        """``composer add``: an arXiv link is a paper."""
        return 0.9 if api.arxiv_id(url) else 0.0

    def item_for_url(self, url: str, note: str) -> api.Item:
        """The editor's ``--note`` is text, not Markdown: it is shown as typed."""
        return api.Item(
            KIND, url=api.dialect_url(url), text=api.literal_markdown(api.clean_line(note))
        )

    def serialize(self, items: list[api.Item]) -> str:
        out = []
        for n, item in enumerate(items, 1):
            head = f"{n}. " + " ".join(p for p in (api.escape_title(item.title), item.url) if p)
            first, blank, rest = item.text.partition("\n\n")
            whole = first and first == first.strip() and "\n" not in first
            if item.title and item.url and whole and not _stands_alone(first):
                # as it came: after the URL on its line (parse puts a blank line after it)
                out.append(f"{head} {first}" + (f"\n{rest}" if blank else ""))
            else:
                out.append(head + (f"\n\n{item.text}" if item.text else ""))
        return "\n\n".join(out)


SENTENCE_END = re.compile(r"[.,;!?。，；！？…]")


def _stands_alone(text: str) -> bool:
    """May a paper's text start a paragraph of its own? Not when its first line would
    read as something else there: a turn label (``研究员:``), a paper's title line
    (``《x》``, ``2. x``) or a short line without punctuation, which can be a bare
    section heading (``论文分享``)."""
    first = text.split("\n", 1)[0].strip()
    if api.match_label(first) or _title_line(first, None) is not None:
        return False
    return len(first) > 40 or bool(SENTENCE_END.search(first))


def _finish(item: api.Item, text: str) -> None:
    if not item.url:
        first, _, rest = text.partition("\n\n")
        found = api.find_urls(first)
        if len(found) == 1 and first.strip() == found[0][2]:
            item.url, text = found[0][2], api.trim_lines(rest)
    item.text = text
    ids = [i for i in (api.arxiv_id(u) for _, _, u in api.find_urls(f"{item.url} {text}")) if i]
    if ids:
        item.meta["ids"] = list(dict.fromkeys(ids))


@hookimpl
def register_sections(register):
    register(Papers())
