"""``composer draft``: collect + assemble + write issue.md (protected) + render."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from composer.app import App
from composer.contract.protocols import Report
from composer.errors import Refusal
from composer.pipeline.assemble import assemble
from composer.pipeline.notes import note_files, warn_stray_notes
from composer.pipeline.parse import parse_text, serialize_issue
from composer.pipeline.render import lost_text, render_issue
from composer.support.dates import issue_day
from composer.support.state import State
from composer.support.workspace import atomic_write
from composer.support.workspace import resolve_issue_id as check_issue_id


@dataclass
class DraftResult:
    issue_id: str
    issue_md: Path
    outputs: list[Path] = field(default_factory=list)
    backup: Path | None = None


class EditedIssue(Refusal):
    """issue.md was edited since it was generated: draft will not overwrite it."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def resolve_issue_id(app: App, issue_id: str | None) -> str:
    """``issue_id`` checked (a real ISO week), else this week's id."""
    return check_issue_id(issue_id, app.settings.newsletter.timezone)


def edited(app: App, issue_md: Path, issue_id: str) -> bool:
    """Was ``issue_md`` changed since ``composer draft`` wrote it?"""
    with State(app.workspace) as state:
        return _edited(state, issue_md, issue_id)


def _edited(state: State, issue_md: Path, issue_id: str) -> bool:
    return issue_md.exists() and state.generated_hash(issue_id) != sha256(issue_md.read_bytes())


def protect(state: State, issue_md: Path, issue_id: str, force: bool) -> Path | None:
    """Refuse to overwrite an issue.md edited since it was generated (backup with force)."""
    if not _edited(state, issue_md, issue_id):
        return None
    if not force:
        raise EditedIssue(
            f"{issue_md} was edited since it was generated; not overwriting it",
            "render your edits with `composer render "
            f"{issue_id}`, or run `composer draft --force` to regenerate (a backup is kept)",
        )
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    backup = issue_md.with_name(f"issue.md.{stamp}.bak")
    backup.write_bytes(issue_md.read_bytes())
    return backup


def write_generated(state: State, issue_md: Path, issue_id: str, text: str) -> None:
    """Write issue.md and record it as generated. The record comes first: a state that
    cannot be written stops before issue.md changes, and a failed write puts the
    previous record back."""
    previous = state.generated_hash(issue_id)
    state.record_generated(issue_id, sha256(text.encode("utf-8")))
    try:
        atomic_write(issue_md, text)
    except OSError:
        if previous:
            state.record_generated(issue_id, previous)
        raise


def draft(
    app: App, issue_id: str | None, offline: bool = False, force: bool = False
) -> DraftResult:
    ws = app.workspace
    issue_id = resolve_issue_id(app, issue_id)
    folder = ws / issue_id
    notes = note_files(folder / "notes")
    warn_stray_notes(app, issue_id, folder)
    if (folder / "notes").exists() and not (folder / "notes").is_dir():
        app.report.warn(
            f"{issue_id}/notes",
            "a file, not a folder: notes are files in the folder notes/ (move it to notes/x.md)",
        )
    elif not notes:
        app.report.warn(f"{issue_id}/notes", "no notes yet: the issue has only collected items")
    with State(ws) as state:
        ctx = app.context(issue_id, offline, state)
        issue_md = folder / "issue.md"
        if not force:  # refuse before collecting; a draft writing beside us is waited for
            with state.exclusive():
                protect(state, issue_md, issue_id, force)
        day = issue_day(issue_id, app.settings.schedule.cron)
        title = f"{app.settings.newsletter.title} {issue_id}"
        issue = assemble(app, issue_id, notes, ctx, title, day.isoformat() if day else "")
        text = serialize_issue(issue, app.sections, app.report)
        with state.exclusive():  # issue.md and its hash change together
            backup = protect(state, issue_md, issue_id, force)
            write_generated(state, issue_md, issue_id, text)
    # what is rendered is what issue.md says; its warnings were given for the notes
    final = parse_text(text, f"{issue_id}/issue.md", app.sections, Report(), app.broken_plugin)
    outputs = render_issue(app, final, folder / "out")
    lost = lost_text(app, text, outputs)
    if lost:  # the outputs stay written: the editor can look at them
        raise lost
    return DraftResult(issue_id, issue_md, outputs, backup)
