"""``composer render``: find what to render (an issue id or any dialect file) and where."""

from __future__ import annotations

from pathlib import Path

from composer.commands.common import locate
from composer.pipeline.parse import decode, read_source
from composer.pipeline.render import lost_text, render_file


def render_source(source: str | None, out: Path | None, formats: str | None, workspace):
    """Render SOURCE (file, issue id, or this week's issue): (app, written paths, a
    LostText error when an output lost a URL or sentence of SOURCE, else None)."""
    app, path, out, label = locate(source, out, workspace)
    written = render_file(app, path, out, label, formats)[1]
    from composer.contract.protocols import Report

    return app, written, lost_text(app, decode(read_source(path, label), label, Report()), written)
