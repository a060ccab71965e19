"""Section providers -> one Issue: parse notes, collect, merge, order, process."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from .dialect import decode, parse_text
from .model import NOTE, Issue, Section
from .types import Context

if TYPE_CHECKING:
    from .app import App


def read_issue(app: App, path: Path, label: str | None = None) -> Issue:
    """Parse one dialect file (a note, an issue.md, a sample) into an Issue."""
    where = label or str(path)
    text = decode(path.read_bytes(), where, app.report)
    return parse_text(text, where, app.sections, app.report, app.broken_plugin)


def note_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".md", ".txt") and p.is_file())


def merge(app: App, issues: list[Issue]) -> list[Section]:
    """Sections of several parsed files, same kind + heading merged, in first-seen order."""
    merged: list[Section] = []
    index: dict[tuple[str, str], Section] = {}
    for issue in issues:
        for section in issue.sections:
            stype = app.sections.types.get(section.kind)
            title = section.title or (stype.title if stype else "")
            key = (section.kind, title)
            if section.kind == NOTE or key not in index:
                copy = Section(section.kind, title, list(section.items), dict(section.meta))
                merged.append(copy)
                if section.kind != NOTE:
                    index[key] = copy
            else:
                index[key].items.extend(section.items)
    return merged


def collect(app: App, ctx: Context, sections: list[Section]) -> None:
    """Items from every section type that collects (feeds ...), each in isolation."""
    for name, stype in app.sections.types.items():
        gather = getattr(stype, "collect", None)
        if gather is None:
            continue
        owner = app.sections.owners[name]
        budget = app.settings.plugins.collect_timeout
        try:
            items = run_with_budget(lambda g=gather: list(g(ctx) or []), budget)
        except TimeoutError:
            ctx.warn(
                f"plugin {owner}",
                f"collect took longer than {budget:g} s "
                f"([plugins] collect_timeout); its {name} items are missing",
            )
            continue
        except Exception as exc:
            app.broken_plugin(owner, f"collect: {type(exc).__name__}: {exc}")
            ctx.warn(
                f"plugin {owner}",
                f"collect failed ({type(exc).__name__}: {exc}); "
                f"its {name} items are missing from this issue",
            )
            continue
        if not items:
            continue
        target = next((s for s in sections if s.kind == name), None)
        if target is None:
            target = Section(name, stype.title)
            sections.append(target)
        target.items.extend(items)


def run_with_budget(work, seconds: float):
    """``work()`` on a daemon thread; TimeoutError if it is not done within ``seconds``.

    A late thread is abandoned (it cannot hold the process open at exit).
    """
    result: dict[str, object] = {}

    def target() -> None:
        try:
            result["value"] = work()
        except BaseException as exc:  # handed to the caller
            result["error"] = exc

    thread = threading.Thread(target=target, daemon=True, name="composer-collect")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError
    if "error" in result:
        raise result["error"]
    return result["value"]


def order(app: App, sections: list[Section]) -> list[Section]:
    wanted = app.settings.newsletter.sections
    if not wanted:
        return sections
    rank = {name: n for n, name in enumerate(wanted)}
    return sorted(sections, key=lambda s: rank.get(s.kind, len(rank)))


def process(app: App, issue: Issue, ctx: Context) -> None:
    """process_issue hooks one by one; a raising plugin's partial changes are undone."""
    calls = app.manager.each("process_issue", issue=issue, ctx=ctx)
    while True:
        snapshot = copy.deepcopy(issue)
        try:
            name, result = next(calls)
        except StopIteration:
            return
        if getattr(result, "error", None):
            issue.__dict__.update(snapshot.__dict__)
            ctx.warn(
                f"plugin {name}",
                f"process_issue failed ({result.error}); its changes to the issue are missing",
            )


def assemble(app: App, issue_id: str, notes: list[Path], ctx: Context, title: str, date: str):
    parsed = [read_issue(app, p, f"{issue_id}/notes/{p.name}") for p in notes]
    sections = merge(app, parsed)
    collect(app, ctx, sections)
    issue = Issue(id=issue_id, title=title, date=date, sections=order(app, sections))
    issue.meta = {"title": title, "date": date, "issue": issue_id}
    process(app, issue, ctx)
    return issue
