"""Code fences, the CommonMark way, for everything that scans lines.

A fence opens with three or more backticks or tildes (indented at most three
spaces) and closes with a line of the same character, at least as long, followed
by nothing but spaces. Inside a fence, nothing is a heading, a label or a list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})(.*)$")


def fence_marker(line: str) -> str | None:
    """The run of backticks or tildes that opens a fence on ``line``, else None."""
    m = FENCE.match(line)
    if not m or (m.group(1)[0] == "`" and "`" in m.group(2)):
        return None
    return m.group(1)


def closes(line: str, marker: str) -> bool:
    """Does ``line`` close the fence opened by ``marker``?"""
    m = FENCE.match(line)
    return bool(
        m
        and m.group(1)[0] == marker[0]
        and len(m.group(1)) >= len(marker)
        and not m.group(2).strip()
    )


class Fences:
    """Follows a sequence of lines: :meth:`step` says whether each is fenced code."""

    def __init__(self) -> None:
        self.marker: str | None = None

    @property
    def open(self) -> bool:
        return self.marker is not None

    def step(self, line: str) -> bool:
        """Feed the next line; True when it opens, lies inside or closes a fence."""
        if self.marker is not None:
            if closes(line, self.marker):
                self.marker = None
            return True
        self.marker = fence_marker(line)
        return self.marker is not None


def mark(lines: Iterable[str]) -> Iterator[tuple[str, bool]]:
    """Each line with whether it is part of a code fence."""
    fences = Fences()
    for line in lines:
        yield line, fences.step(line)
