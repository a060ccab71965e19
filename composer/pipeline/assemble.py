"""Section providers -> one Issue: parse notes, collect, merge, order, process."""

from __future__ import annotations

import copy
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from composer.contract.model import NOTE, Issue, Item, Section
from composer.contract.protocols import Context, section_title
from composer.errors import DialectError
from composer.pipeline.parse import decode, parse_text, read_source
from composer.plugin_manager import describe
from composer.support.text import arxiv_id, canonical_url, urls

if TYPE_CHECKING:
    from composer.app import App


def read_issue(app: App, path: Path, label: str | None = None) -> Issue:
    """Parse one dialect file (a note, an issue.md, a sample) into an Issue."""
    where = label or str(path)
    text = decode(read_source(path, where), where, app.report)
    return parse_text(text, where, app.sections, app.report, app.broken_plugin)


def read_notes(app: App, issue_id: str, notes: list[Path]) -> list[Issue]:
    """Each note parsed; an empty, binary or undecodable one is named in a warning and
    skipped, so the others still make the issue."""
    parsed = []
    for path in notes:
        label = f"{issue_id}/notes/{path.name}"
        try:
            issue = read_issue(app, path, label)
            issue.meta["_from"] = label
            parsed.append(issue)
        except DialectError as exc:
            reason = str(exc).removeprefix(f"{label}: ")
            app.report.warn(label, f"{reason}: skipped (the other notes are read)")
    return parsed


def merge(app: App, issues: list[Issue]) -> list[Section]:
    """Sections of several parsed files, same kind + heading merged, in first-seen order."""
    merged: list[Section] = []
    index: dict[tuple[str, str], Section] = {}
    for issue in issues:
        for section in issue.sections:
            title = section_title(section, app.sections.types)
            key = (section.kind, title)
            if section.kind == NOTE or key not in index:
                copy = Section(section.kind, title, list(section.items), dict(section.meta))
                merged.append(copy)
                if section.kind != NOTE:
                    index[key] = copy
            else:
                index[key].items.extend(section.items)
    return merged


def collect(app: App, ctx: Context, sections: list[Section]) -> set[int]:
    """Items from every section type that collects (feeds ...), each in isolation.

    Items go to the section named by their ``meta["section"]`` (default: the
    collector's own). Returns the ids of the collected items.
    """
    collected: set[int] = set()
    for name, stype in app.sections.types.items():
        gather = getattr(stype, "collect", None)
        if gather is None:
            continue
        owner = app.sections.owners[name]
        budget = app.settings.plugins.collect_timeout
        try:
            with app.manager.trace(owner, f"collect {name}"):
                items = run_with_budget(lambda g=gather: list(g(ctx) or []), budget)
        except TimeoutError:
            ctx.warn(
                f"plugin {owner}",
                f"collect took longer than {budget:g} s "
                f"([plugins] collect_timeout); its {name} items are missing",
            )
            continue
        except (Exception, SystemExit) as exc:
            app.broken_plugin(owner, f"collect: {describe(exc)}")
            ctx.warn(
                f"plugin {owner}",
                f"collect failed ({describe(exc)}); its {name} items are missing from this issue",
            )
            continue
        strays = [i for i in items if not isinstance(i, Item)]
        if strays:
            app.broken_plugin(owner, f"collect: returned {type(strays[0]).__name__}, not Item")
            ctx.warn(
                f"plugin {owner}",
                f"collect returned {len(strays)} thing(s) that are not items "
                f"({type(strays[0]).__name__}): left out",
            )
            items = [i for i in items if isinstance(i, Item)]
        for item in items:
            collected.add(id(item))
            wanted = item.meta.pop("section", name)
            kind = wanted if _holds(app.sections.types.get(wanted), item) else name
            target = next((s for s in sections if s.kind == kind), None)
            if target is None:
                target = Section(kind, app.sections.types[kind].title)
                sections.append(target)
            target.items.append(item)
    return collected


def _holds(stype, item: Item) -> bool:
    """Can section type ``stype`` write ``item`` back in the dialect?"""
    return stype is not None and item.kind in getattr(stype, "kinds", (item.kind,))


def item_keys(item: Item, everywhere: bool) -> set[str]:
    """What identifies an item's link: guid, canonical URL, arXiv id.

    ``everywhere``: every URL the item mentions (the editor's items), not only its own.
    """
    found = [item.url] if item.url else []
    if everywhere:
        found += urls(" ".join([item.text, *(t.text for t in item.turns)]))
    keys = {f"url:{canonical_url(u)}" for u in found}
    keys |= {f"arxiv:{a}" for a in (arxiv_id(u) for u in found) if a}
    if item.meta.get("guid"):
        keys.add(f"guid:{item.meta['guid']}")
    return keys


def dedupe(sections: list[Section], collected: set[int], ctx: Context) -> None:
    """Drop collected items whose link the editor (or an earlier feed entry) already has."""
    seen: set[str] = set()
    for section in sections:
        for item in section.items:
            if id(item) not in collected:
                seen |= item_keys(item, everywhere=True)
    for section in sections:
        kept = []
        for item in section.items:
            if id(item) in collected:
                keys = item_keys(item, everywhere=False)
                if keys & seen:
                    continue
                seen |= keys
            kept.append(item)
        section.items = kept


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
    hooks = len(app.manager.pm.hook.process_issue.get_hookimpls())
    calls = app.manager.call("process_issue", issue=issue, ctx=ctx)
    for _ in range(hooks):  # a snapshot only before a hook that runs
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


def notes_meta(issue_id: str, notes: list[Issue], defaults: dict, ctx: Context) -> dict:
    """The issue's front matter: ``defaults`` (title, date, issue id) overridden by what
    the notes' front matter says, first note first. A later note that says otherwise, or
    an ``issue:`` that is not this issue, is named in a warning."""
    meta = dict(defaults)
    said: dict[str, str] = {}
    for note in notes:
        where = note.meta.pop("_from")
        for key, value in note.meta.items():
            if key == "issue" and str(value) != issue_id:
                ctx.warn(where, f"says issue: {value}, but it is a note of {issue_id}: ignored")
            elif key in said and meta[key] != value:
                ctx.warn(
                    where,
                    f"says {key}: {value!s:.60}, but {said[key]} said {meta[key]!s:.60} "
                    "first: its value is not used (keep one)",
                )
            elif key not in said:
                meta[key] = value
                said[key] = where
    return meta


def assemble(app: App, issue_id: str, notes: list[Path], ctx: Context, title: str, date: str):
    parsed = read_notes(app, issue_id, notes)
    defaults = {"title": title, "date": date, "issue": issue_id}
    meta = notes_meta(issue_id, parsed, defaults, ctx)
    sections = merge(app, parsed)
    dedupe(sections, collect(app, ctx, sections), ctx)
    issue = Issue(
        id=issue_id, title=str(meta["title"]), date=str(meta["date"]), sections=order(app, sections)
    )
    issue.meta = meta
    process(app, issue, ctx)
    return issue
