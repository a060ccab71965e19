"""``composer add URL|FILE``: collect a link or a note file into this week's notes."""

from __future__ import annotations

import shutil
from pathlib import Path

from composer.app import App
from composer.commands.draft import resolve_issue_id
from composer.contract.model import Item
from composer.errors import UsageError
from composer.support.http import FetchError, check_url
from composer.support.state import State
from composer.support.text import arxiv_id

INBOX = "inbox.md"


def add(
    app: App, what: str, section: str | None, note: str, issue_id: str | None, offline: bool = False
) -> str:
    """Append ``what`` to ID/notes; returns a sentence saying where it went."""
    issue_id = resolve_issue_id(app, issue_id)
    notes = app.workspace / issue_id / "notes"
    notes.mkdir(parents=True, exist_ok=True)
    if Path(what).is_file():
        return _add_file(Path(what), notes, issue_id)
    try:
        check_url(what)
    except FetchError as exc:
        raise UsageError(f"{what}: neither a file nor an http(s) URL", str(exc)) from None
    ident = arxiv_id(what)
    name = section or ("papers" if ident else "links")
    stype = app.sections.types.get(name)
    if stype is None:
        known = ", ".join(sorted(app.sections.types))
        raise UsageError(f"no section named '{name}'", f"sections: {known}")
    title = _arxiv_title(app, ident, issue_id, offline) if ident else ""
    if name == "papers":
        item = Item("paper", title=f"《{title}》" if title else "", url=what, text=note)
    else:
        item = Item("link", title=title, url=what, text=note)
    inbox = notes / INBOX
    before = inbox.read_text(encoding="utf-8") if inbox.exists() else ""
    block = f"## {stype.title}\n\n{stype.serialize([item]).strip()}\n"
    with inbox.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if before and not before.endswith("\n\n") else "") + block)
    return f"added to {issue_id}/notes/{INBOX} under {stype.title}" + (
        f": {title}" if title else ""
    )


def _add_file(path: Path, notes: Path, issue_id: str) -> str:
    target = notes / path.name
    n = 2
    while target.exists():
        target = notes / f"{path.stem}-{n}{path.suffix}"
        n += 1
    if target.suffix not in (".md", ".txt"):
        target = target.with_suffix(target.suffix + ".md")
    shutil.copyfile(path, target)
    return f"added {path} as {issue_id}/notes/{target.name}"


def _arxiv_title(app: App, ident: str, issue_id: str, offline: bool) -> str:
    from composer.plugins.arxiv import lookup

    with State(app.workspace) as state:
        ctx = app.context(issue_id, offline, state)
        config = ctx.config_for("arxiv")
        if config is None:
            return ""
        found = lookup([ident], config, ctx)
    return found.get(ident, ("", []))[0]
