"""Putting Markdown blocks together in the Markdown outputs (WeChat, Hugo, third parties)."""

from __future__ import annotations

import re

from composer.support.fences import mark

LIST_ITEM = re.compile(r"\d{1,9}[.)](\s|$)")


def label_first(label: str, body: str) -> str:
    """Put a turn label in front of its first paragraph, or on its own line before a block."""
    first = body.split("\n", 1)[0]
    block_start = first.startswith(("```", "- ", "> ", "#", "|", "    "))
    if not body or block_start or LIST_ITEM.match(first):
        return f"{label}\n\n{body}" if body else label
    if body.startswith("*"):  # "**Q**：**粗体**" reads as a bold "：" to some editors
        return f"{label} {body}"
    return label + body


def blockquote(text: str) -> str:
    """``text`` as a Markdown blockquote."""
    return "\n".join("> " + ln if ln else ">" for ln in text.split("\n"))


def squeeze(text: str) -> str:
    """At most one blank line between blocks, trailing spaces dropped, outside code fences."""
    out: list[str] = []
    for line, code in mark(text.split("\n")):
        if not code and not line.strip() and out and not out[-1].strip():
            continue
        out.append(line if code else line.rstrip())
    return "\n".join(out).strip("\n") + "\n"
