"""The content model: an Issue of Sections of Items, independent of any output format.

Every text body is Markdown exactly as the editor wrote it. Which fields an item
uses depends on its ``kind`` (owned by the plugin that registers it):

=========== ============================================================
discussion  ``title`` topic, ``text`` question, ``turns`` replies
paper       ``title``, ``url``, ``text`` summary, ``meta["ids"]``
qa / chat   ``turns`` (label + text)
link        ``title``, ``url``, ``text`` note, ``meta["source"]``
note        ``text``: anything not recognised, kept verbatim in place
=========== ============================================================

``origin`` (file:line or a feed URL) says where an item came from; it does not
take part in equality, so a parsed issue equals its re-parsed serialisation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

NOTE = "note"


@dataclass
class Turn:
    """One labelled contribution: ``Q``, ``A1``, ``研究员2``, ``D(Discussion)`` ..."""

    label: str
    text: str


@dataclass
class Link:
    """A link found in an item: its visible text and its target."""

    title: str
    url: str


@dataclass
class Item:
    kind: str
    title: str = ""
    url: str = ""
    text: str = ""
    turns: list[Turn] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    origin: str = field(default="", compare=False)

    # Readable names for templates and plugins.
    @property
    def question(self) -> str:
        return self.text

    @property
    def summary(self) -> str:
        return self.text

    @property
    def note(self) -> str:
        return self.text

    @property
    def source(self) -> str:
        return self.meta.get("source", "")


@dataclass
class Section:
    """A run of items under one heading (``title`` is empty when the editor wrote none)."""

    kind: str
    title: str = ""
    items: list[Item] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    level: int = 2


@dataclass
class Issue:
    id: str = ""
    title: str = ""
    date: str = ""
    meta: dict[str, Any] = field(default_factory=dict)
    sections: list[Section] = field(default_factory=list)

    def items(self):
        """Every item of every section, in order."""
        for section in self.sections:
            yield from section.items
