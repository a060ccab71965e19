"""``composer add URL|FILE``: collect a link or a note file into this week's notes.

A URL goes to the section type that takes it best (``url_score``; ``--section``
chooses one), as that type's ``item_for_url`` makes it; enrichment plugins
(``process_issue``: the arXiv title ...) run on it before it is written to
``notes/inbox.md`` under the section's heading.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from composer.app import App
from composer.commands.draft import resolve_issue_id
from composer.contract.model import Issue, Section
from composer.errors import UsageError, UserError

INBOX = "inbox.md"


def add(
    app: App, what: str, section: str | None, note: str, issue_id: str | None, offline: bool = False
) -> str:
    """Append ``what`` to ID/notes; returns what happened and what to do next.

    Everything is checked before anything is written: a URL must be one http(s) URL,
    a file must be text (as notes are read), and the item must read back as one item
    of its section; otherwise a UsageError (exit 2) and the notes are untouched.
    """
    from composer.commands.common import input_file
    from composer.support.constraints import url_problem

    issue_id = resolve_issue_id(app, issue_id)
    notes = app.workspace / issue_id / "notes"
    path = input_file(what) if "://" not in what else None
    if path is not None:
        return _add_file(app, path, notes, issue_id)
    if "://" not in what:
        raise UsageError(f"{what}: no such file, and not a URL", "give an http(s) URL or a file")
    what = re.sub(r"^[A-Za-z][A-Za-z0-9+.\-]*(?=://)", lambda m: m.group(0).lower(), what)
    problem = url_problem(what)
    if problem:
        raise UsageError(f"composer add: {problem}", "give one http(s) URL (quote it in the shell)")
    if "@" in what.partition("://")[2].partition("/")[0]:
        raise UsageError(
            "composer add: the URL holds a user name or password (user@host): every reader "
            "would see it",
            "give the URL without it",
        )
    stype = taker(app, what, section)
    item = stype.item_for_url(what, one_paragraph(note))
    _enrich(app, issue_id, Section(stype.name, items=[item]), offline)
    block = f"## {stype.title}\n\n{stype.serialize([item]).strip()}\n"
    _check_reads_back(app, stype, item, block)
    from composer.support.state import State

    with State(app.workspace) as state, state.exclusive():  # adds at once: one after another
        append_to_inbox(notes / INBOX, block, f"{issue_id}/notes/{INBOX}")
    said = f"added to {issue_id}/notes/{INBOX} under {stype.title}"
    said += f": {item.title}" if item.title else ""
    return said + _next_step(app, issue_id, block)


def one_paragraph(note: str) -> str:
    """The editor's ``--note`` as one paragraph: line breaks and control characters
    become spaces, runs of spaces one (its Markdown otherwise stays as typed)."""
    spaced = "".join(" " if unicodedata.category(ch) == "Cc" else ch for ch in note)
    return " ".join(spaced.split())


def _check_reads_back(app: App, stype, item, block: str) -> None:
    """Refuse a block that would not read back as one item of ``stype``: a note (or a
    looked-up title) that starts a heading, a section name or a label would change
    the notes' structure."""
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text

    back = parse_text(block, INBOX, app.sections, Report()).sections
    items = back[0].items if len(back) == 1 and back[0].kind == stype.name else []
    if len(items) != 1 or items[0].url != item.url:
        raise UsageError(
            f"{item.url}: it would not read back as this one URL in {INBOX}; nothing was added",
            "check the URL (percent-encode what it should not hold)",
        )
    if " ".join(items[0].text.split()) == " ".join(item.text.split()):
        return
    raise UsageError(
        f"--note {item.text!r}: it would read as a heading, a list or a label in {INBOX}, "
        f"not as the text of one {stype.title} item; nothing was added",
        "reword the start of the note",
    )


def append_to_inbox(inbox: Path, block: str, label: str) -> None:
    """``block`` added at the end of ``inbox`` (a blank line between), written
    atomically: a failed write leaves the file as it was."""
    from composer.support.workspace import atomic_write

    before = inbox.read_bytes() if inbox.exists() else b""
    try:
        text = before.decode("utf-8")
    except UnicodeDecodeError:
        raise UserError(
            f"{label}: not UTF-8 text; not adding to it",
            f"save {label} as UTF-8, or move it away and add again",
        ) from None
    gap = "" if not text or text.endswith("\n\n") else "\n" if text.endswith("\n") else "\n\n"
    atomic_write(inbox, before + (gap + block).encode("utf-8"))


def taker(app: App, url: str, section: str | None):
    """The section type that takes ``url``: ``section`` if given, else the best scorer."""
    takers = {n: t for n, t in app.sections.types.items() if hasattr(t, "item_for_url")}
    if section is not None:
        if section in takers:
            return takers[section]
        problem = "cannot take a URL" if section in app.sections.types else "is not a section"
        raise UsageError(
            f"--section {section}: {problem}",
            f"sections that take URLs: {', '.join(sorted(takers)) or 'none loaded'}",
        )
    scored = [(float(getattr(t, "url_score", lambda u: 0.5)(url)), n) for n, t in takers.items()]
    scored = [(score, n) for score, n in scored if score > 0]
    if not scored:
        raise UsageError(f"{url}: no loaded section type takes URLs", "see `composer plugins`")
    return takers[max(scored, key=lambda s: s[0])[1]]


def _enrich(app: App, issue_id: str, section: Section, offline: bool) -> None:
    from composer.pipeline.assemble import process
    from composer.support.state import State

    with State(app.workspace) as state:
        ctx = app.context(issue_id, offline, state)
        process(app, Issue(id=issue_id, sections=[section]), ctx)


def _next_step(app: App, issue_id: str, block: str) -> str:
    """What the editor must do for the item to reach the issue."""
    from composer.commands.draft import edited

    issue_md = app.workspace / issue_id / "issue.md"
    if not issue_md.exists():
        return f"\n`composer draft --issue {issue_id}` puts it in the issue"
    if not edited(app, issue_md, issue_id):
        return f"\n`composer draft --issue {issue_id}` updates the issue with it"
    return (
        f"\n{issue_id}/issue.md was edited since it was drafted, so the item is NOT in it yet: "
        f"paste these lines into issue.md, or run `composer draft --issue {issue_id} --force` "
        "(rebuilds issue.md from the notes and keeps a backup of your edits):\n\n" + block
    )


def _add_file(app: App, path: Path, notes: Path, issue_id: str) -> str:
    """Copy a text file into ``notes`` as one more note (never over another)."""
    from composer.contract.protocols import Report
    from composer.errors import DialectError
    from composer.pipeline.parse import decode, read_source
    from composer.support.workspace import atomic_write

    if notes.is_dir() and path.resolve().parent == notes.resolve():
        raise UsageError(f"{path} is already a note of {issue_id}", "nothing to add")
    try:
        data = read_source(path, str(path))
        decode(data, str(path), Report())
    except DialectError as exc:
        raise UsageError(str(exc), "composer add takes a text file (UTF-8 or GB18030)") from None
    base = path.name.lstrip(".").rstrip("~") or "note"  # a hidden or backup name is not read
    name = base if base.lower().endswith((".md", ".markdown", ".txt")) else f"{base}.md"
    target = notes / name
    n = 2
    while target.exists():
        stem, dot, suffix = name.rpartition(".")
        target = notes / f"{stem}-{n}{dot}{suffix}"
        n += 1
    atomic_write(target, data)
    return f"added {path} as {issue_id}/notes/{target.name}"
