"""Helpers for testing a plugin through composer itself: a supported API, like
``composer.api``, used by the tests ``composer plugins new`` writes.

``plugins`` arguments take the same value as ``COMPOSER_PLUGINS``: ``"builtins"``,
or a comma-separated list such as ``"builtins,composer-events"``.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

from composer.contract.model import Issue

ISSUE = "2026-W48"  # a week with known dates: Monday 2026-11-23 .. Sunday 2026-11-29


def run(
    *args: object,
    cwd: Path | str | None = None,
    plugins: str = "builtins",
    env: dict[str, str] | None = None,
    input: str | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess:
    """``composer ARGS`` in a subprocess (this interpreter), with ``COMPOSER_PLUGINS``."""
    full_env = dict(os.environ, COMPOSER_PLUGINS=plugins, NO_COLOR="1")
    full_env.pop("COMPOSER_WORKSPACE", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "composer", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=timeout,
    )


@contextlib.contextmanager
def preview(source: Path | str, cwd: Path | str, plugins: str = "builtins"):
    """``composer preview SOURCE --port 0`` running while the block runs: yields the
    URL it serves (on 127.0.0.1), and stops it afterwards."""
    import re
    import time

    env = dict(os.environ, COMPOSER_PLUGINS=plugins, NO_COLOR="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "composer", "preview", str(source), "--port", "0"],
        cwd=cwd,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    url, deadline = None, time.monotonic() + 60
    try:
        while url is None and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            found = re.search(r"preview at (http://127\.0\.0\.1:\d+/)", line)
            url = found.group(1) if found else None
        if url is None:
            raise RuntimeError("composer preview did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def workspace(
    folder: Path, config: str = "", notes: dict[str, str] | None = None, issue_id: str = ISSUE
) -> Path:
    """A workspace in ``folder``: composer.toml (``config`` appended to a minimal
    ``[newsletter]``) and the note files ``notes`` ({file name: text}) of ``issue_id``."""
    folder.mkdir(parents=True, exist_ok=True)
    base = '[newsletter]\ntimezone = "Asia/Shanghai"\n'
    (folder / "composer.toml").write_text(base + config, encoding="utf-8")
    for name, text in (notes or {}).items():
        path = folder / issue_id / "notes" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _app(plugins: str):
    from composer.app import open_app

    return open_app(None, plugins=plugins)


def parse(text: str, plugins: str = "builtins", file: str = "notes.md") -> tuple[Issue, list[str]]:
    """(the Issue ``text`` reads as, the warnings) with the given plugins loaded."""
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text

    report = Report()
    issue = parse_text(text, file, _app(plugins).sections, report)
    return issue, [str(w) for w in report]


def serialize(issue: Issue, plugins: str = "builtins") -> str:
    """``issue`` written back in the dialect (what ``composer draft`` puts in issue.md)."""
    from composer.pipeline.parse import serialize_issue

    return serialize_issue(issue, _app(plugins).sections)


def round_trip(text: str, plugins: str = "builtins") -> tuple[Issue, Issue]:
    """(``text`` parsed, its serialisation parsed again): a plugin keeps them equal."""
    first, _ = parse(text, plugins)
    again, _ = parse(serialize(first, plugins), plugins)
    return first, again


def render(text: str, out: Path, plugins: str = "builtins") -> dict[str, str]:
    """Render dialect ``text`` with every loaded renderer into ``out``: {file: text}.

    Raises ``composer.api.UserError`` when a renderer fails.
    """
    from composer.pipeline.render import render_file

    out.mkdir(parents=True, exist_ok=True)
    source = out / "source.md"
    source.write_text(text, encoding="utf-8")
    _, written = render_file(_app(plugins), source, out, source.name)
    return {p.name: p.read_text(encoding="utf-8", errors="replace") for p in written}


def faithful_outputs(plugins: str = "builtins") -> list[str]:
    """The outputs that must carry every URL and sentence of the source."""
    app = _app(plugins)
    return [f for _, r in app.renderers.values() for f in getattr(r, "faithful", ())]
