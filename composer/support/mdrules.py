"""markdown-it rules of our parser: escapes remembered, deep nesting flattened.

``join_text`` replaces markdown-it's ``text_join``: it still joins text with the
characters the source escaped (``\\*``, ``&#42;``), and remembers where they were
(``token.meta["escaped"]``), so the Markdown writers escape them again: text from
outside, escaped by ``literal_markdown``, stays literal in every Markdown output.

``flat_inline`` drops the markup of emphasis nested past ``INLINE_DEEP`` levels.

``too_deep`` keeps markdown-it from dropping text: past ``maxNesting`` (20 levels of
quotes and lists) it skips the rest of a document. Past ``DEEP`` levels the rest of
a container becomes one paragraph of its lines instead.
"""

from __future__ import annotations

import re

from markdown_it.token import Token

from composer.support.text import DEEP

ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def join_text(state) -> None:
    """Core rule in place of markdown-it's ``text_join``: text and escaped characters
    joined into one text token, whose ``meta["escaped"]`` lists the offsets of the
    characters the source escaped (``\\*``, ``&#42;``), so writers escape them again."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        for child in block.children:
            if child.children:
                child.children = _joined(child.children)
        block.children = _joined(block.children)


def _joined(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for tok in tokens:
        escaped = False
        if tok.type == "text_special":
            escaped = tok.content in ASCII_PUNCT and tok.markup != tok.content
            tok.type = "text"
        if tok.type != "text":
            out.append(tok)
            continue
        content = tok.content
        if out and out[-1].type == "text":
            tok = out[-1]
        else:
            tok.content, tok.meta = "", {}
            out.append(tok)
        if escaped:
            tok.meta.setdefault("escaped", []).append(len(tok.content))
        tok.content += content
    return out


DEEP_MARKERS = re.compile(r"^(?:>[ \t]?|[-+*](?:[ \t]+|$)|[ \t]+)+")


def too_deep(state, start: int, end: int, silent: bool) -> bool:
    """Block rule: past ``DEEP`` levels, the rest of the container is one paragraph
    of its lines (quote and bullet markers dropped, text kept)."""
    if state.level < DEEP:
        return False
    if silent:
        return True
    lines: list[str] = []
    line = start
    while line < end:
        if not state.isEmpty(line):
            if state.sCount[line] < state.blkIndent:
                break
            text = state.src[state.bMarks[line] + state.tShift[line] : state.eMarks[line]]
            text = DEEP_MARKERS.sub("", text).strip()
            if text:
                lines.append(text)
        line += 1
    state.line = line
    if lines:
        opened = state.push("paragraph_open", "p", 1)
        opened.map = [start, line]
        opened.meta["flattened"] = True
        inline = state.push("inline", "", 0)
        inline.content, inline.map, inline.children = "\n".join(lines), [start, line], []
        state.push("paragraph_close", "p", -1)
    return True


INLINE_DEEP = 16  # emphasis inside emphasis ... past this is text: no reader sees more
STYLES = ("em", "strong", "s")


def flat_inline(state) -> None:
    """Core rule: emphasis nested deeper than ``INLINE_DEEP`` loses its markup (its
    text stays), so no writer recurses 1,200 levels into ``***…text…***``. Links are
    never dropped (they cannot nest; their URL must reach every output)."""
    for block in state.tokens:
        if block.type != "inline" or not block.children:
            continue
        kept: list[Token] = []
        dropped: list[bool] = []
        depth = 0
        for tok in block.children:
            style = tok.type.rsplit("_", 1)[0] in STYLES
            if style and tok.nesting == 1:
                deep = depth >= INLINE_DEEP
                dropped.append(deep)
                depth += not deep
                if deep:
                    continue
            elif style and tok.nesting == -1 and dropped:
                if dropped.pop():
                    continue
                depth -= 1
            kept.append(tok)
        block.children = kept
