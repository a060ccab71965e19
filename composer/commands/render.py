"""``composer render``: find what to render (an issue id or any dialect file) and where."""

from __future__ import annotations

from pathlib import Path

from composer.errors import DialectError, UsageError
from composer.pipeline.assemble import read_issue
from composer.pipeline.render import render_issue
from composer.support.workspace import ISSUE_ID, current_issue_id


def _app(workspace: Path | None, required: bool):
    from composer.app import open_workspace

    return open_workspace(workspace, required)


def locate(source: str | None, out: Path | None, workspace):
    """(app, dialect file, output folder, label) for an issue id, a file, or this week."""
    if source and Path(source).is_file():
        path = Path(source)
        app = _app(workspace, required=False)
        if out is None:
            in_issue = path.name == "issue.md"
            out = path.parent / "out" if in_issue else Path.cwd() / "out" / path.stem
        return app, path, out, str(path)
    if source and not ISSUE_ID.match(source):
        raise DialectError(
            f"{source}: no such file, and not an issue id",
            "give a dialect file, or an issue id such as 2026-W48",
        )
    app = _app(workspace, required=True)
    issue_id = source or current_issue_id(app.settings.newsletter.timezone)
    path = app.workspace / issue_id / "issue.md"
    if not path.is_file():
        raise UsageError(f"{path} does not exist", f"run `composer draft --issue {issue_id}`")
    return app, path, out or path.parent / "out", f"{issue_id}/issue.md"


def render_source(source: str | None, out: Path | None, formats: str | None, workspace):
    """Render SOURCE (file, issue id, or this week's issue); returns (app, written paths)."""
    app, path, out, label = locate(source, out, workspace)
    return app, render_file(app, path, out, label, formats)[1]


def render_file(app, path: Path, out: Path, label: str, formats: str | None = None):
    """Parse the dialect file ``path`` and render it into ``out``: (issue, written paths)."""
    issue = read_issue(app, path, label)
    issue.title = issue.title or app.settings.newsletter.title
    return issue, render_issue(app, issue, out, formats)


def preview_builder(source: str | None, workspace):
    """(build function, watched paths, language) for ``composer preview``."""
    app, path, _, label = locate(source, Path("."), workspace)
    watched = [path]
    if app.workspace:
        watched.append(app.workspace / "templates")

    def build(out: Path):
        fresh = _app(workspace, required=False) if app.workspace is None else None
        run_app = fresh or _reopen(app)
        issue = read_issue(run_app, path, label)
        issue.title = issue.title or run_app.settings.newsletter.title
        render_issue(run_app, issue, out)
        return issue.title, [str(w) for w in run_app.report.warnings]

    return build, watched, app.settings.newsletter.language


def _reopen(app):
    from composer.app import open_app

    return open_app(app.workspace)
