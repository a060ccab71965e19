"""The check stage: every loaded renderer's outputs, the issue itself, the settings.

For each loaded renderer: its declared outputs must exist, its ``faithful`` outputs
must carry every URL and sentence of the source, and its own ``check`` rules run.
Then the issue (no items, init's example note, empty sections, links in several
sections), the editor's punctuation, and, in a workspace, the settings a send needs.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from composer.contract.model import NOTE, Issue
from composer.contract.protocols import Problem, section_title
from composer.pipeline.fidelity import lost, source_rules
from composer.plugin_manager import describe
from composer.support.text import is_placeholder, urls

if TYPE_CHECKING:
    from composer.app import App


def _run_rules(app: App, owner: str, name: str, rules, *args) -> list[Problem]:
    """A plugin's own check, isolated: a raising check is a blocking problem."""
    try:
        with app.manager.trace(owner, f"check {name}"):
            return list(rules(*args))
    except Exception as exc:
        app.broken_plugin(owner, f"check: {describe(exc)}")
        return [
            Problem(name, "check-failed", f"plugin {owner}: its check failed ({describe(exc)})")
        ]


def renderer_problems(
    app: App, source: str, out: Path, ctx, files: dict[str, str] | None = None
) -> list[Problem]:
    """Missing outputs, lost text in faithful outputs, and each renderer's own rules.

    ``files`` collects {file name: text} of every output read, for deliverers' checks.
    """
    problems: list[Problem] = []
    files = {} if files is None else files
    for name, (owner, renderer) in app.renderers.items():
        mine: dict[str, str] = {}
        for filename in renderer.outputs:
            path = out / filename
            if not path.is_file():
                problems.append(
                    Problem(filename, "missing-output", f"{filename} was not written ({name})")
                )
                continue
            mine[filename] = path.read_text(encoding="utf-8", errors="replace")
        files.update(mine)
        for filename in getattr(renderer, "faithful", ()):
            if filename in mine:
                problems += lost(source, filename, mine[filename])
        rules = getattr(renderer, "check", None)
        if rules is not None and mine:
            problems += _run_rules(app, owner, name, rules, mine, ctx)
    return problems


def deliverer_problems(app: App, files: dict[str, str], ctx) -> list[Problem]:
    """The limits of every configured delivery target (``[delivery.*]`` present)."""
    problems: list[Problem] = []
    for owner, deliverer in app.deliverers:
        rules = getattr(deliverer, "check", None)
        if rules is not None and deliverer.config_key in app.plugin_config:
            problems += _run_rules(app, owner, deliverer.name, rules, files, ctx)
    return problems


def issue_rules(app: App, issue: Issue) -> list[Problem]:
    """The issue itself: items at all, init's example, empty sections, repeated links."""
    types = app.sections.types
    items = [item for item in issue.items() if item.kind != NOTE or item.text.strip()]
    out: list[Problem] = []
    if not items:
        out.append(Problem("issue", "empty-issue", "the issue has no items: nothing to send"))
    example = example_items(app)
    leftover = next((item for item in items if _from_example(item, example)), None)
    if leftover is not None:
        where = f" ({leftover.origin})" if leftover.origin else ""
        out.append(
            Problem(
                "issue",
                "example-note",
                f"the example note of `composer init` is still in the issue{where}: "
                "delete it (its placeholder title and link too) from issue.md and "
                "`composer render`, or from notes/ and `composer draft --force`",
            )
        )
    out += [
        Problem(
            "issue",
            "empty-section",
            f"section '{section_title(s, types)}' has no items",
            blocking=False,
        )
        for s in issue.sections
        if not s.items
    ]
    where: dict[str, list[str]] = defaultdict(list)
    for section in issue.sections:
        title = section_title(section, types)
        seen = set()
        for item in section.items:
            for url in urls(" ".join([item.url, item.text, *(t.text for t in item.turns)])):
                if url not in seen:
                    seen.add(url)
                    where[url].append(title)
    out += [
        Problem("issue", "duplicate-link", f"{u} appears in {', '.join(t)}", blocking=False)
        for u, t in where.items()
        if len(t) > 1
    ]
    return out


def _from_example(item, example: list) -> bool:
    """``item`` is init's example, or keeps its placeholder link or title."""
    if item in example:
        return True
    placeholders = {e.url for e in example if e.url}
    titles = {e.title for e in example if e.title}
    said = urls(" ".join([item.url, item.text, *(t.text for t in item.turns)]))
    return bool(placeholders & set(said)) or bool(item.title and item.title in titles)


# a marker at a line's start (after list, quote, heading or bracket marks), in any
# case, or in brackets anywhere; XXX only in capitals at a line's start and not as a
# speaker (``XXX：`` stands for a name left out); Chinese notes to self anywhere
UNFINISHED = re.compile(
    r"(?im)^[ \t>*\-#+]*(?:\d{1,3}[.、)][ \t]*)?(?:\*\*|[【\[（(])?[ \t]*(?:TODO|FIXME|TBD)\b"
    r"|[【\[（(][ \t]*(?:TODO|FIXME|TBD)[ \t]*[】\]）)]"
    r"|(?-i:^[ \t>*\-]*XXX\b(?![ \t]*[:：]))"
    r"|待补充|待完善|待填写|（?占位）?文字"
)
MAX_UNFINISHED = 20  # named one by one; the count says the rest


def unfinished_rules(source: str, label: str) -> list[Problem]:
    """Blocking: each line that says it is not finished (TODO, FIXME, TBD, 待补充 ...)."""
    found = []
    for m in UNFINISHED.finditer(source):
        line = source.count("\n", 0, m.start()) + 1
        if found and found[-1].line == line:
            continue
        marker = m.group(0).strip(" \t>*-#+【】[]（）()0123456789.、")
        message = f"«{marker}»: a part of the issue says it is not finished"
        found.append(Problem(label, "unfinished", message, line))
    return found


def example_items(app: App) -> list:
    """The items of init's example note, as the loaded section types read them."""
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text
    from composer.support.starter import EXAMPLE_NOTE

    example = parse_text(EXAMPLE_NOTE, "example.md", app.sections, Report())
    return [item for item in example.items() if item.kind != NOTE]


def settings_rules(app: App) -> list[Problem]:
    """What a workspace must set before anything is sent: no placeholders."""
    if app.workspace is None:
        return []
    newsletter = app.settings.newsletter
    out = []
    for key, value, what in (
        ("unsubscribe_url", newsletter.unsubscribe_url, "where readers unsubscribe"),
        ("url", newsletter.url, "the web address of each issue, {id} for its id"),
    ):
        if not value.strip():
            out.append(
                Problem("config", "unset", f"set [newsletter] {key} in composer.toml ({what})")
            )
        elif is_placeholder(value):
            out.append(
                Problem(
                    "config",
                    "placeholder",
                    f"[newsletter] {key} = {value!r} is a placeholder: set {what}",
                )
            )
        elif not value.strip().lower().startswith(SCHEMES[key]):
            allowed = " or ".join(SCHEMES[key])
            message = f"[newsletter] {key} = {value!r}: readers open it: an {allowed} address"
            out.append(Problem("config", "scheme", message))
    return out


SCHEMES = {"unsubscribe_url": ("https://", "http://", "mailto:"), "url": ("https://", "http://")}


def check_issue(app: App, source: str, label: str, issue: Issue, out: Path, ctx) -> list[Problem]:
    """Every problem of an issue (its dialect ``source``) and of its outputs in ``out``."""
    files: dict[str, str] = {}
    return (
        renderer_problems(app, source, out, ctx, files)
        + deliverer_problems(app, files, ctx)
        + issue_rules(app, issue)
        + settings_rules(app)
        + unfinished_rules(source, label)
        + source_rules(source, label)
    )
