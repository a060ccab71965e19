"""``composer check``: a pre-send lint of every output of an issue."""

from __future__ import annotations

import contextlib
from pathlib import Path

from composer.contract.protocols import Problem, Report
from composer.pipeline.assemble import read_issue
from composer.pipeline.check import check_issue
from composer.pipeline.parse import decode, read_source


def check(source: str | None, out: Path | None, workspace) -> tuple[object, list[Problem], str]:
    """(app, problems, note): a FILE whose outputs do not exist yet is rendered first
    into a temporary folder, and ``note`` says so."""
    from composer.commands.common import locate

    app, path, out, label = locate(source, out, workspace)
    rendered_now = source is not None and Path(source).is_file() and not _any_output(app, out)
    with contextlib.ExitStack() as stack:
        note = ""
        if rendered_now:
            import tempfile

            from composer.pipeline.render import render_file

            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="composer-check-")))
            render_file(app, path, out, label)
            note = f"{label} had no outputs yet: rendered into a temporary folder to check it"
        found = _stale_outputs(app, path, out, label) + problems(app, path, out, label)
    return app, found, note


def _stale_outputs(app, path: Path, out: Path, label: str) -> list[Problem]:
    """Outputs older than the issue they were rendered from: what they lack is not lost,
    only not rendered yet."""
    try:
        edited = path.stat().st_mtime
    except OSError:
        return []
    names = [f for _, r in app.renderers.values() for f in r.outputs]
    old = [f for f in names if (out / f).is_file() and (out / f).stat().st_mtime < edited]
    if not old:
        return []
    source = label.removesuffix("/issue.md")
    message = (
        f"{', '.join(old)} older than {label}: `composer render {source}` renders them "
        "again (problems below may be only that)"
    )
    return [Problem(str(out.name) + "/", "stale-output", message, blocking=False)]


def _any_output(app, out: Path) -> bool:
    return any((out / f).is_file() for _, r in app.renderers.values() for f in r.outputs)


def problems(app, path: Path, out: Path, label: str, issue=None) -> list[Problem]:
    """Every problem of the dialect file ``path`` (parsed already: ``issue``) and its
    outputs in ``out``."""
    text = decode(read_source(path, label), label, app.report)
    issue = issue or read_issue(app, path, label)
    found = _folder_problems(label, issue, text) + _note_problems(app, path, label)
    if app.workspace is None:
        return found + check_issue(app, text, label, issue, out, app.context(issue.id))
    from composer.support.state import State

    with State(app.workspace) as state:
        ctx = app.context(issue.id, state=state)
        return found + check_issue(app, text, label, issue, out, ctx)


def _folder_problems(label: str, issue, text: str) -> list[Problem]:
    """An ID/issue.md whose front matter names another issue (last week's, copied), or
    (a warning) whose date is not a day of its week."""
    folder, _, name = label.rpartition("/")
    if name != "issue.md" or not folder:
        return []
    if not issue.id or issue.id == folder:
        return _date_problems(label, folder, issue.date)
    message = (
        f"its front matter says issue: {issue.id}, but it is the issue.md of {folder}: "
        f"set issue: {folder} (and its title and date) or draft {folder} again"
    )
    import re

    said = re.search(r"(?m)^issue\s*:", text)
    line = text.count("\n", 0, said.start()) + 1 if said else 0
    return [Problem(label, "wrong-issue", message, line)]


def _date_problems(label: str, folder: str, date: str) -> list[Problem]:
    import datetime as dt

    try:
        year, week, _ = dt.date.fromisoformat(str(date)[:10]).isocalendar()
    except ValueError:
        return []
    if f"{year}-W{week:02d}" == folder:
        return []
    message = f"its date {str(date)[:10]} is not a day of {folder} (a note's front matter?)"
    return [Problem(label, "date-outside-week", message, blocking=False)]


def _note_problems(app, path: Path, label: str) -> list[Problem]:
    """Notes of an ID/issue.md that draft could not read (binary, undecodable, a pipe,
    too large): the issue lacks their text, so sending it is blocked. Files that look
    like notes but are not read are named too (not blocking: they may be on purpose)."""
    from composer.errors import DialectError
    from composer.pipeline.notes import note_files, stray_notes

    folder, _, name = label.rpartition("/")
    if name != "issue.md" or not folder:
        return []
    issue_folder = app.workspace / folder if app.workspace else path.parent  # send: a copy
    out: list[Problem] = []
    for note in note_files(issue_folder / "notes"):
        where = f"{folder}/notes/{note.name}"
        try:
            decode(read_source(note, where), where, Report())
        except (DialectError, OSError) as exc:
            reason = str(exc).removeprefix(f"{where}: ")
            if reason != "the file is empty":  # else nothing of the editor's is missing
                message = f"not read ({reason}): its text is not in the issue"
                out.append(Problem(where, "note-not-read", message))
    for stray in stray_notes(issue_folder):
        where = f"{folder}/{stray.relative_to(issue_folder).as_posix()}"
        message = "looks like a note but is not read (see `composer draft`'s warning)"
        out.append(Problem(where, "stray-note", message, blocking=False))
    return out
