"""``composer render``: find what to render (an issue id or any dialect file) and where."""

from __future__ import annotations

from pathlib import Path

from composer.commands.common import locate
from composer.pipeline.render import render_file


def render_source(source: str | None, out: Path | None, formats: str | None, workspace):
    """Render SOURCE (file, issue id, or this week's issue); returns (app, written paths)."""
    app, path, out, label = locate(source, out, workspace)
    return app, render_file(app, path, out, label, formats)[1]
