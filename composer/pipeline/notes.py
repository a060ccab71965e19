"""An issue's notes: which files are read, and which look like notes but are not.

Notes are the files directly in ``ID/notes/`` whose names end in .md, .markdown or
.txt (any case), read in file-name order. Anything else that looks like a note (a
note-named or text file elsewhere in the issue folder, a text file with another
extension or none in notes/) is named in a warning saying where it should go.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from composer.app import App

NOTE_SUFFIXES = (".md", ".markdown", ".txt")
MAX_NAMED = 20  # stray files named one by one; more are counted


def note_files(folder: Path) -> list[Path]:
    """The notes in ``folder`` (an issue's notes/): names ending in .md, .markdown or
    .txt in any case, in file-name order. Hidden files and editor backups (``~``)
    are not notes; a note that cannot be opened stays listed, so reading it fails
    with its name."""
    if not folder.is_dir():
        return []
    found = [p for p in folder.iterdir() if _note_name(p.name) and not p.is_dir()]
    return sorted(found, key=lambda p: p.name)


def _note_name(name: str) -> bool:
    return not _hidden(name) and name.lower().endswith(NOTE_SUFFIXES)


def _hidden(name: str) -> bool:
    return name.startswith(".") or name.endswith("~")


def stray_notes(issue_folder: Path) -> list[Path]:
    """Files of an issue folder that look like notes but are not read: note-named or
    text files outside notes/ (its out/ and issue.md aside), text files without a
    note's extension in notes/, and note-like files in folders under notes/."""
    notes = issue_folder / "notes"
    found: list[Path] = []
    for path in _walk(issue_folder, skip={notes, issue_folder / "out"}):
        if path.parent == issue_folder and path.name.startswith("issue.md"):
            continue
        if _note_name(path.name) or _text_without_suffix(path):
            found.append(path)
    for path in _walk(notes, skip=set()) if notes.is_dir() else ():
        if path.parent != notes:
            if _note_name(path.name) or _text_without_suffix(path):
                found.append(path)
        elif not _note_name(path.name) and _text_file(path):
            found.append(path)
    return sorted(found)


def _walk(folder: Path, skip: set[Path]):
    """Files under ``folder`` (not hidden, not under ``skip``), depth first."""
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        return
    for entry in entries:
        if _hidden(entry.name) or entry in skip:
            continue
        if entry.is_dir() and not entry.is_symlink():
            yield from _walk(entry, skip)
        elif entry.is_file():
            yield entry


def _text_without_suffix(path: Path) -> bool:
    return not path.suffix and _text_file(path)


def _text_file(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(4096)
    except OSError:
        return False
    return looks_like_text(head)


def looks_like_text(head: bytes) -> bool:
    """Do these first bytes of a file read as text (UTF-8 or GB18030, no NUL)?"""
    if not head.strip() or b"\x00" in head:
        return False
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the 4 KB limit
                return True
    return False


def _renamed(path: Path) -> str:
    stem = path.stem if path.suffix and path.stem and not path.stem.startswith(".") else path.name
    return f"{stem}.md"


def warn_stray_notes(app: App, issue_id: str, issue_folder: Path) -> None:
    """One warning per file that looks like a note but is not read, saying where to
    put it."""
    strays = stray_notes(issue_folder)
    where = f"{issue_id}/notes/"
    for path in strays[:MAX_NAMED]:
        label = f"{issue_id}/{path.relative_to(issue_folder).as_posix()}"
        named = "" if _note_name(path.name) else f" as {path.name}.md"
        if path.parent == issue_folder / "notes":
            fix = f"a note's name ends in .md, .markdown or .txt: rename it {_renamed(path)}"
        else:
            fix = f"notes are read only from {where}: move it there{named}"
        app.report.warn(label, f"not read: {fix}")
    if len(strays) > MAX_NAMED:
        more = len(strays) - MAX_NAMED
        app.report.warn(f"{issue_id}/", f"{more} more file(s) like these are not read either")
