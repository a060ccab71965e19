"""``composer add URL|FILE``: collect a link or a note file into this week's notes.

A URL goes to the section type that takes it best (``url_score``; ``--section``
chooses one), as that type's ``item_for_url`` makes it; enrichment plugins
(``process_issue``: the arXiv title ...) run on it before it is written to
``notes/inbox.md`` under the section's heading.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from composer.app import App
from composer.commands.draft import resolve_issue_id
from composer.contract.model import Issue, Section
from composer.errors import UsageError

INBOX = "inbox.md"


def add(
    app: App, what: str, section: str | None, note: str, issue_id: str | None, offline: bool = False
) -> str:
    """Append ``what`` to ID/notes; returns what happened and what to do next."""
    issue_id = resolve_issue_id(app, issue_id)
    notes = app.workspace / issue_id / "notes"
    if Path(what).is_file():
        notes.mkdir(parents=True, exist_ok=True)
        return _add_file(Path(what), notes, issue_id)
    from composer.support.http import FetchError, check_url

    try:
        check_url(what)
    except FetchError as exc:
        raise UsageError(f"{what}: neither a file nor an http(s) URL", str(exc)) from None
    stype = taker(app, what, section)
    item = stype.item_for_url(what, note)
    _enrich(app, issue_id, Section(stype.name, items=[item]), offline)
    block = f"## {stype.title}\n\n{stype.serialize([item]).strip()}\n"
    notes.mkdir(parents=True, exist_ok=True)
    inbox = notes / INBOX
    before = inbox.read_text(encoding="utf-8") if inbox.exists() else ""
    with inbox.open("a", encoding="utf-8") as fh:
        fh.write(("\n" if before and not before.endswith("\n\n") else "") + block)
    said = f"added to {issue_id}/notes/{INBOX} under {stype.title}"
    said += f": {item.title}" if item.title else ""
    return said + _next_step(app, issue_id, block)


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


def _add_file(path: Path, notes: Path, issue_id: str) -> str:
    target = notes / path.name
    n = 2
    while target.exists():
        target = notes / f"{path.stem}-{n}{path.suffix}"
        n += 1
    if target.suffix.lower() not in (".md", ".markdown", ".txt"):
        target = target.with_suffix(target.suffix + ".md")
    shutil.copyfile(path, target)
    return f"added {path} as {issue_id}/notes/{target.name}"
