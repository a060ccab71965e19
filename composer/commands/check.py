"""``composer check``: a pre-send lint of every output of an issue."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from composer.commands.render import locate
from composer.contract.model import Issue
from composer.pipeline.assemble import read_issue
from composer.pipeline.fidelity import Problem, check_all
from composer.pipeline.parse import decode
from composer.support.text import urls


def issue_rules(issue: Issue, section_title) -> list[Problem]:
    """Warnings about the issue's structure: empty sections, links in several sections."""
    out = [
        Problem(
            "issue", "empty-section", f"section '{section_title(s)}' has no items", blocking=False
        )
        for s in issue.sections
        if not s.items
    ]
    where: dict[str, list[str]] = defaultdict(list)
    for section in issue.sections:
        title = section_title(section)
        seen = set()
        for item in section.items:
            for url in urls(" ".join([item.url, item.text, *(t.text for t in item.turns)])):
                if url not in seen:
                    seen.add(url)
                    where[url].append(title)
    for url, titles in where.items():
        if len(titles) > 1:
            out.append(
                Problem(
                    "issue",
                    "duplicate-link",
                    f"{url} appears in {', '.join(titles)}",
                    blocking=False,
                )
            )
    return out


def check(source: str | None, out: Path | None, workspace) -> tuple[object, list[Problem]]:
    app, path, out, label = locate(source, out, workspace)
    return app, problems(app, path, out, label)


def problems(app, path: Path, out: Path, label: str, issue: Issue | None = None) -> list[Problem]:
    """Every problem of the dialect file ``path`` (parsed already: ``issue``) and its
    outputs in ``out``."""
    text = decode(path.read_bytes(), label, app.report)
    issue = issue or read_issue(app, path, label)
    stypes = app.sections.types

    def title(section):
        return section.title or (stypes[section.kind].title if section.kind in stypes else "")

    return check_all(text, out, label) + issue_rules(issue, title)
