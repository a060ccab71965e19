"""The digest text dialect <-> the content model.

The core only decodes the text, reads the front matter, splits the body into
blocks at headings, and hands each block to the section type whose aliases match
its heading, or, for a block without a known heading, to the one whose ``sniff``
scores highest. Whatever no plugin claims stays verbatim as a ``note`` item.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from composer.contract.model import NOTE, Issue, Item, Section
from composer.contract.protocols import Block, Report, SectionType, section_title
from composer.errors import DialectError
from composer.support.fences import mark
from composer.support.frontmatter import dump_front_matter, split_front_matter
from composer.support.text import as_read, fragments, may_nest_deep, squashed, trim_lines, unescaped

ATX_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*#*[ \t]*$")
SNIFF_THRESHOLD = 0.5


# -- decoding ------------------------------------------------------------------
MAX_SOURCE_BYTES = 8 * 1024 * 1024  # a year of issues is well under 1 MB


def read_source(path: Path, where: str) -> bytes:
    """The bytes of a dialect file (a note, an issue.md), refused with its name when it
    is not a regular file (a device or a pipe would never end or never answer) or is
    larger than ``MAX_SOURCE_BYTES``."""
    import os
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # OSError: named upstream
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise DialectError(f"{where}: not a regular file (a device or a pipe)")
        data = fh.read(MAX_SOURCE_BYTES + 1)
    if len(data) > MAX_SOURCE_BYTES:
        raise DialectError(
            f"{where}: larger than {MAX_SOURCE_BYTES // 2**20} MB; a digest is text "
            "(split it into several notes)"
        )
    return data


def decode(data: bytes, where: str, report: Report) -> str:
    """Bytes -> text: BOM and CRLF handled, GB18030 accepted with a warning."""
    if not data.strip():
        raise DialectError(f"{where}: the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = data.decode("utf-16")
    elif b"\x00" in data[:4096]:
        raise DialectError(f"{where}: this is a binary file, not digest text")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            _refuse_mixed(data, exc.start, where)
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise DialectError(
                    f"{where}: not UTF-8 (bad byte at offset {exc.start}) nor GB18030; "
                    "save the file as UTF-8"
                ) from None
            report.warn(where, "not UTF-8: decoded as GB18030 (save it as UTF-8 to be sure)")
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():  # a byte order mark and nothing else
        raise DialectError(f"{where}: the file is empty")
    controls = sum(1 for ch in text[:4096] if ord(ch) < 32 and ch not in "\n\t\f")
    if controls > 8:
        raise DialectError(f"{where}: this looks like a binary file, not digest text")
    return text


def _refuse_mixed(data: bytes, bad: int, where: str) -> None:
    """UTF-8 text (non-ASCII characters and all) up to byte ``bad``, then something
    else: two encodings in one file. Read as GB18030 its UTF-8 part would be garbled
    (讨论 -> 璁ㄨ), so it is refused, naming the line where UTF-8 stops."""
    before = data[:bad].decode("utf-8-sig", errors="replace")
    if sum(1 for ch in before if ord(ch) > 127) >= 2:
        line = before.count("\n") + 1
        raise DialectError(
            f"{where}:{line}: UTF-8 until this line, then another encoding (GB18030?): "
            "save the whole file as UTF-8"
        )


# -- section registry ----------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def heading_key(text: str) -> str:
    """Normalise a heading for alias matching: numbering, brackets, emoji, "本周",
    colons, spaces, case ("📚 本周论文分享：" and "【论文分享】" match 论文分享)."""
    t = unicodedata.normalize("NFKC", text).strip()
    t = "".join(c for c in t if not unicodedata.category(c).startswith("S")).strip()
    t = re.sub(r"^(\d+(\.\d+)*[.、)]?|[一二三四五六七八九十]+[、.])\s*", "", t)
    t = t.strip().rstrip(":").strip().strip("*").strip().strip("【】[]「」").strip()
    t = re.sub(r"^(本周|本期|今日|本月)\s*", "", t)
    t = re.sub(r"\s*(&|和|与|/|、)\s*", "&", t)
    return t.lower()


@dataclass
class Sections:
    """The registered section types, their owners, and the alias index."""

    types: dict[str, SectionType] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, registered: Iterable[tuple[str, SectionType]]) -> Sections:
        """The registry of (plugin, section type) pairs, in registration order."""
        found = cls()
        for owner, stype in registered:
            found.add(stype, owner)
        return found

    def add(self, stype: SectionType, owner: str) -> None:
        self.types[stype.name] = stype
        self.owners[stype.name] = owner
        for alias in (stype.title, *getattr(stype, "aliases", ())):
            self.aliases.setdefault(heading_key(alias), stype.name)

    def for_heading(self, heading: str | None) -> str | None:
        return self.aliases.get(heading_key(heading)) if heading else None


# -- splitting -----------------------------------------------------------------
def split_blocks(body: str, file: str, first_line: int, sections: Sections) -> list[Block]:
    """Cut the body at section headings (ATX at the top level, or bare alias lines)."""
    lines = list(mark(body.split("\n")))
    levels = []
    for line, code in lines:
        m = not code and ATX_RE.match(line)
        if m and (m.group(2) or "").strip():
            levels.append(len(m.group(1)))
        elif not code and _heading(line, 0, sections):
            levels.append(2)  # a bare section heading stands for a level-2 heading
    top = min(levels) if levels else 2
    blocks = [Block([], file, first_line, None, top)]
    for n, (line, code) in enumerate(lines):
        heading = None if code else _heading(line, top, sections)
        if heading is None:
            blocks[-1].lines.append(line)
        else:
            blocks.append(Block([], file, first_line + n + 1, heading[0], heading[1]))
    return blocks


def _heading(line: str, top: int, sections: Sections) -> tuple[str, int] | None:
    m = ATX_RE.match(line)
    if m and (m.group(2) or "").strip():  # an empty heading cannot open a section
        level, title = len(m.group(1)), m.group(2).strip()
        if level <= top or sections.for_heading(title):
            return title, level
        return None
    stripped = line.strip()
    if stripped and line[0] not in " \t" and len(stripped) <= 40 and sections.for_heading(stripped):
        return stripped, top
    return None


# -- parsing -------------------------------------------------------------------
def parse_text(
    text: str, file: str, sections: Sections, report: Report, owners_broken=None
) -> Issue:
    """Parse digest text into an Issue; problems go to ``report``."""
    meta, body, body_line = split_front_matter(text, file, report)
    issue = Issue(
        id=str(meta.get("issue", "")),
        title=str(meta.get("title", "")),
        date=str(meta.get("date", "")),
        meta=meta,
    )
    for block in split_blocks(body, file, body_line, sections):
        section = parse_block(block, sections, report, owners_broken)
        if section is not None:
            issue.sections.append(section)
    return issue


def parse_block(block: Block, sections: Sections, report: Report, on_broken=None) -> Section | None:
    """One block -> one Section, delegated to the section type that claims it."""
    text = block.text
    if not text.strip() and block.heading is None:
        return None
    name = sections.for_heading(block.heading)
    if name is None and text.strip():
        name = _sniff(block, sections, report, on_broken)
    if name is None:
        items = [note(text, block.where(_first_text_line(block)))] if text.strip() else []
        if items and block.heading is None:
            report.warn(items[0].origin, "text not recognised as any section: kept as a note")
        _warn_flattened(items, block, report)
        return Section(NOTE, block.heading or "", items, level=block.level)
    stype = sections.types[name]
    items = _parse_with(stype, block, sections.owners[name], report, on_broken)
    if items is None:  # the plugin failed and was named: the block is kept as a note
        return Section(name, block.heading or "", [_block_note(block)], level=block.level)
    for item in items:
        if item.kind == NOTE and item.text.strip():
            report.warn(item.origin or block.where(), f"not understood as {name}: kept as a note")
    _warn_flattened(items, block, report)
    return Section(name, block.heading or "", items, level=block.level)


def _block_note(block: Block) -> Item:
    return note(block.text, block.where(_first_text_line(block)))


def _warn_flattened(items: list[Item], block: Block, report: Report) -> None:
    """A warning at each place where quotes or lists nest too deep to render as such."""
    if not may_nest_deep(block.text):
        return
    from composer.support.mdwriter import flattened

    for item in items:
        for text in (item.text, *(t.text for t in item.turns)):
            for line in flattened(text):
                offset = next((i for i, ln in enumerate(block.lines) if line in ln), 0)
                report.warn(
                    block.where(offset),
                    "quotes or lists nested deeper than they can be shown: "
                    "flattened, their text kept",
                )


def _first_text_line(block: Block) -> int:
    return next((i for i, line in enumerate(block.lines) if line.strip()), 0)


def _sniff(block: Block, sections: Sections, report: Report, on_broken) -> str | None:
    best, best_score = None, SNIFF_THRESHOLD
    for name, stype in sections.types.items():
        try:
            score = float(stype.sniff(block))
        except (Exception, SystemExit) as exc:
            _plugin_failed(sections.owners[name], "sniff", exc, block, report, on_broken)
            continue
        if score > best_score:
            best, best_score = name, score
    return best


def _parse_with(stype, block: Block, owner: str, report: Report, on_broken) -> list[Item] | None:
    """The items ``stype`` reads from ``block``; None when it failed (already named)."""
    try:
        items = list(stype.parse(block))
        bad = [i for i in items if not isinstance(i, Item)]
        if bad:
            raise TypeError(f"parse returned {type(bad[0]).__name__}, not Item")
    except (Exception, SystemExit) as exc:
        _plugin_failed(owner, "parse", exc, block, report, on_broken, "text kept as a note")
        return None
    lost = missing_text(block.text, items)
    if lost:
        report.warn(
            block.where(_first_text_line(block)),
            f"plugin {owner} dropped text («{lost[0][:30]}»): block kept verbatim as a note",
        )
        return None
    return items


def _plugin_failed(owner, hook, exc, block, report, on_broken, outcome="") -> None:
    from composer.plugin_manager import describe

    message = describe(exc)
    where = block.where(_first_text_line(block))
    then = outcome or "that section type was left out for this block"
    report.warn(f"plugin {owner}", f"{hook} failed at {where} ({message}); {then}")
    if on_broken:
        on_broken(owner, f"{hook}: {message}")


def note(text: str, origin: str = "") -> Item:
    return Item(kind=NOTE, text=trim_lines(text), origin=origin)


def item_text(item: Item) -> str:
    """All text an item carries, for loss checks."""
    parts = [item.title, item.url, item.text, *(f"{t.label} {t.text}" for t in item.turns)]
    parts += [str(v) for v in item.meta.values() if isinstance(v, str)]
    return "\n".join(parts)


def missing_text(source: str, items: Iterable[Item]) -> list[str]:
    """Fragments and URLs of ``source`` that none of ``items`` carries."""
    return lost_between(source, "\n".join(item_text(i) for i in items))


def lost_between(source: str, carried: str, raw: str = "") -> list[str]:
    """Sentence fragments and URLs of ``source`` that ``carried`` lacks (a URL may also
    be in ``raw``, the text before unescaping: ``&amp;`` or ``\\#`` in a URL is the URL's)."""
    from composer.support.text import Haystack, url_spans, urls

    hay = squashed(carried)
    lost = [f for f in fragments(unescaped(source)) if f not in hay]
    links = Haystack(carried, url_spans(carried))
    lost += [u for u in urls(source) if u not in links and (not raw or u not in raw)]
    return lost


# -- serialising ---------------------------------------------------------------
def serialize_issue(issue: Issue, sections: Sections, report: Report | None = None) -> str:
    """The Issue written back in the dialect; parsing it gives an equal Issue.

    A section type whose ``serialize`` raises is named in ``report``; its items are
    written as plain notes instead, so their text and URLs still reach the issue.
    """
    parts = [dump_front_matter(issue.meta)] if issue.meta else []
    for n, section in enumerate(issue.sections):
        chunk = []
        title = section.title or (section_title(section, sections.types) if n > 0 else "")
        if title or n > 0:
            closing = " " + "#" * section.level if title.endswith("#") else ""
            chunk.append("#" * section.level + " " + title + closing)
        body = serialize_items(section, sections, report if report is not None else Report())
        if body:
            chunk.append(body)
        parts.append("\n\n".join(chunk))
    text = "\n\n".join(p.strip("\n") for p in parts if p.strip()) + "\n"
    if not issue.meta and text.startswith("---"):
        text = "\n" + text  # not front matter: keep it from reading as such
    return text


def serialize_items(section: Section, sections: Sections, report: Report) -> str:
    stype = sections.types.get(section.kind)
    out, run = [], []

    def flush():
        if not run:
            return
        owner = sections.owners.get(section.kind, section.kind)
        problem = ""
        try:
            written = stype.serialize(list(run))
            if not isinstance(written, str):
                raise TypeError(f"serialize returned {type(written).__name__}, not str")
        except (Exception, SystemExit) as exc:
            from composer.plugin_manager import describe

            problem = describe(exc)
        else:
            fields = [[i.title, i.url, i.text, *(u.text for u in i.turns)] for i in run]
            source = "\n".join(f for item in fields for f in item)
            lost = lost_between(source, as_read(written), written)
            problem = f"it dropped «{lost[0][:30]}»" if lost else ""
        if problem:
            report.warn(
                f"plugin {owner}",
                f"serialize failed ({problem}); {len(run)} of its items in "
                f"'{section.title or section.kind}' are written to issue.md as plain notes",
            )
            out.extend(plain_text(item) for item in run)
        else:
            out.append(written.strip("\n"))
        run.clear()

    for item in section.items:
        if item.kind == NOTE or stype is None:
            flush()
            out.append(item.text)
        else:
            run.append(item)
    flush()
    return "\n\n".join(p for p in out if p)


def plain_text(item: Item) -> str:
    """An item's text, URLs and text-valued meta as a plain paragraph group. The plain
    fields (title, meta) of an item collected from elsewhere (its origin a URL) are
    written so that nothing in them becomes live; the editor's own stay as typed."""
    from composer.support.literal import literal_markdown

    outside = item.origin.startswith(("http://", "https://"))
    shown = literal_markdown if outside else str
    title = shown(item.title) if item.title else ""
    head = " ".join(p for p in (title, item.url) if p)
    meta = [shown(v) for v in item.meta.values() if isinstance(v, str) and v]
    turns = [f"{t.label}: {t.text}" for t in item.turns]
    return "\n\n".join(p for p in (head, " · ".join(meta), item.text, *turns) if p)
