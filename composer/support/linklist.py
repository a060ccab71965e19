"""Link lists of the dialect: ``- title: url`` items, an indented note, ``来源：`` source.

Shared by the section types that hold links (the built-in links and feeds).
"""

from __future__ import annotations

import re

from composer.contract.model import NOTE, Item
from composer.contract.protocols import Block
from composer.support.literal import escape_title, strip_title_end, unescape_title
from composer.support.text import find_urls, split_at_url, trim_lines

BULLET = re.compile(r"^ {0,3}[-*+][ \t]+(.*)$")
SOURCE = re.compile(r"^(?:来源|Source|source|via)[ \t]*[:：][ \t]*(.+)$")


INDENT = "    "


def _dedent(line: str) -> str:
    """A continuation line without its indentation (up to four spaces or a tab)."""
    if line.startswith("\t"):
        return line[1:]
    stripped = line.lstrip(" ")
    return line[min(4, len(line) - len(stripped)) :]


def split_link(content: str) -> tuple[str, str, str]:
    """(title, url, note) of one list item's first line; the title is plain text
    (``\\:`` in it is a colon, see :func:`escape_title`)."""
    title, url, note = split_at_url(content)
    if not url:
        return unescape_title(title), "", ""
    return unescape_title(strip_title_end(title)), url, note


def parse_link_list(block: Block, kind: str) -> list[Item]:
    """Items of ``kind`` from a ``- title: url`` list; other paragraphs become notes in place."""
    items: list[Item] = []
    lines: list[str] = []
    blank = False

    def finish() -> None:
        if not items:  # blank lines before the first item
            lines.clear()
            return
        item = items[-1]
        if item.kind == NOTE:
            item.text = trim_lines(item.text + "\n" + "\n".join(lines)) if lines else item.text
        else:
            extra = []
            for line in lines:
                m = SOURCE.match(line.strip())
                if m and not extra and "source" not in item.meta:
                    item.meta["source"] = unescape_title(m.group(1).strip())
                else:
                    extra.append(_dedent(line))
            note = trim_lines("\n".join(extra))
            item.text = "\n\n".join(p for p in (item.text, note) if p)
        lines.clear()

    for offset, line in enumerate(block.lines):
        m = BULLET.match(line)
        if m:
            finish()
            title, url, note = split_link(m.group(1))
            items.append(Item(kind, title=title, url=url, text=note, origin=block.where(offset)))
        elif not line.strip():
            lines.append("")
            blank = True
            continue
        elif items and items[-1].kind != NOTE and (line.startswith((" ", "\t")) or not blank):
            lines.append(line)
        elif items and items[-1].kind == NOTE:
            lines.append(line)
        else:
            finish()
            items.append(Item(NOTE, text=line, origin=block.where(offset)))
        blank = False
    finish()
    return items


def serialize_link_list(items: list[Item]) -> str:
    out = []
    for item in items:
        head = ": ".join(p for p in (escape_title(item.title), item.url) if p)
        lines = [f"- {head}"]
        if item.source:
            lines.append(f"{INDENT}来源：{escape_title(item.source)}")
        if item.text:  # four spaces: no line of the note can read as a heading
            lines += [f"{INDENT}{ln}" if ln else "" for ln in item.text.split("\n")]
        out.append("\n".join(lines))
    return "\n".join(out)


def link_list_score(block: Block) -> float:
    body = [ln for ln in block.lines if ln.strip()]
    if not body or not BULLET.match(body[0]):
        return 0.0
    listy = all(BULLET.match(ln) or ln.startswith((" ", "\t")) for ln in body)
    return 0.7 if listy and find_urls(block.text) else 0.0
