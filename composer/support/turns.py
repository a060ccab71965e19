"""Labelled turns of the dialect (``Q:``, ``A1：``, ``研究员2:``, ``D(Discussion):`` ...).

Section plugins built on turns (discussions, Q&A, chat threads) share this scanner:
it cuts a block into segments, each starting at a labelled line or at an
unlabelled paragraph, with code fences kept whole.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from composer.contract.model import NOTE, Item, Turn
from composer.contract.protocols import Block
from composer.support.fences import Fences
from composer.support.text import trim_lines

LABEL = (
    r"Q\d*(?:[-_ ]?(?i:continue))?"
    r"|A\d*"
    r"|D(?:[(（](?i:discussion)[)）])?\d*"
    r"|F(?:[(（](?i:follow)[)）])?\d*"
    r"|研究员\s*\d*|研究者\s*\d*"
)
# "Q：", "**Q**：" and "**Q：**": the bold after the colon only closes a bold label,
# so in "Q：**粗体** ..." and "**Q**：**粗体**" the editor's own bold stays in the text.
LABEL_LINE = re.compile(
    rf"^ {{0,3}}(?P<open>\*\*)?(?P<label>{LABEL})(?P<shut>\*\*)?[ \t]*[:：]"
    r"(?(open)(?(shut)|(?:\*\*)?))[ \t]*(?P<rest>.*)$"
)
# Looks like a label but is none we know: "B:", "R2：", "Q3x:" at a paragraph start.
UNKNOWN_LABEL = re.compile(r"^ {0,3}(?:\*\*)?[A-Z]{1,2}\d{0,2}(?:\*\*)?[ \t]*[:：]")


@dataclass
class Segment:
    offset: int
    label: str | None
    lines: list[str] = field(default_factory=list)
    unknown: bool = False

    @property
    def text(self) -> str:
        return trim_lines("\n".join(self.lines))


def match_label(line: str) -> tuple[str, str] | None:
    m = LABEL_LINE.match(line)
    return (m.group("label"), m.group("rest")) if m else None


def scan(block: Block) -> list[Segment]:
    """Cut a block into labelled and unlabelled segments."""
    segments: list[Segment] = []
    fences = Fences()
    after_blank = True
    for offset, line in enumerate(block.lines):
        if fences.open:
            segments[-1].lines.append(line)
            fences.step(line)
            continue
        found = match_label(line)
        if found:
            segments.append(Segment(offset, found[0], [found[1]]))
        elif not line.strip():
            if segments:
                segments[-1].lines.append(line)
            after_blank = True
            continue
        elif after_blank or not segments:
            unknown = bool(UNKNOWN_LABEL.match(line))
            segments.append(Segment(offset, None, [line], unknown=unknown))
        else:
            segments[-1].lines.append(line)
        fences.step(found[1] if found else line)
        after_blank = False
    return segments


def label_number(label: str) -> int | None:
    m = re.search(r"(\d+)$", label)
    return int(m.group(1)) if m else None


def parse_threads(block: Block, kind: str, starts: Callable[[str], bool]) -> list[Item]:
    """Items of ``kind``, each a thread of turns opened by a label ``starts`` accepts.

    Unlabelled paragraphs continue the turn before them; text before the first
    label, and paragraphs opened by an unknown label, become notes in place.
    """
    items: list[Item] = []
    current: Item | None = None
    for seg in scan(block):
        if seg.label is not None:
            if current is None or starts(seg.label):
                current = Item(kind=kind, origin=block.where(seg.offset))
                items.append(current)
            current.turns.append(Turn(seg.label, seg.text))
        elif seg.unknown or current is None or not current.turns:
            if items and items[-1].kind == NOTE and not seg.unknown:
                items[-1].text += "\n\n" + seg.text
            else:
                items.append(Item(kind=NOTE, text=seg.text, origin=block.where(seg.offset)))
            current = None
        else:
            turn = current.turns[-1]
            turn.text = trim_lines(turn.text + "\n\n" + seg.text)
    return items


def serialize_turns(turns: list[Turn], colon: str = ": ") -> str:
    """Turns back in the dialect, one paragraph group per turn."""
    out = []
    for turn in turns:
        sep = "：" if not turn.label.isascii() else colon
        if turn.text[:1].isspace():  # an indented first line stays off the label line
            sep = sep.rstrip() + "\n"
        out.append(f"{turn.label}{sep}{turn.text}")
    return "\n\n".join(out)


def thread_score(block: Block, starts: Callable[[str], bool]) -> float:
    """How much of a block reads as threads opened by ``starts``: 0..1."""
    segs = scan(block)
    if not segs:
        return 0.0
    labelled = [s for s in segs if s.label is not None and not s.label.startswith("研究")]
    if not labelled or not any(starts(s.label) for s in labelled):
        return 0.0
    return 0.4 + 0.5 * len(labelled) / len(segs)
