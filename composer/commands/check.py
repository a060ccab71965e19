"""``composer check``: a pre-send lint of every output of an issue."""

from __future__ import annotations

import contextlib
from pathlib import Path

from composer.contract.protocols import Problem
from composer.pipeline.assemble import read_issue
from composer.pipeline.check import check_issue
from composer.pipeline.parse import decode


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
        found = problems(app, path, out, label)
    return app, found, note


def _any_output(app, out: Path) -> bool:
    return any((out / f).is_file() for _, r in app.renderers.values() for f in r.outputs)


def problems(app, path: Path, out: Path, label: str, issue=None) -> list[Problem]:
    """Every problem of the dialect file ``path`` (parsed already: ``issue``) and its
    outputs in ``out``."""
    text = decode(path.read_bytes(), label, app.report)
    issue = issue or read_issue(app, path, label)
    if app.workspace is None:
        return check_issue(app, text, label, issue, out, app.context(issue.id))
    from composer.support.state import State

    with State(app.workspace) as state:
        return check_issue(app, text, label, issue, out, app.context(issue.id, state=state))
