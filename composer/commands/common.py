"""Pieces every command shares (core and plugin commands alike): options, the run's
context, warnings and tables on the terminal."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

import click

workspace_option = click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace folder (default: $COMPOSER_WORKSPACE, else the nearest composer.toml).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat any warning as an error.")


def open_app(workspace: Path | None, required: bool = True):
    """The run's App: ``-w DIR``, else $COMPOSER_WORKSPACE, else the nearest composer.toml."""
    from composer.app import open_workspace

    return open_workspace(workspace, required)


@contextlib.contextmanager
def open_context(workspace: Path | None, issue_id: str = "", offline: bool = False):
    """A plugin command's Context: validated settings and config, the workspace state.

    Warnings are printed when the block ends.
    """
    from composer.support.state import State

    app = open_app(workspace)
    try:
        with State(app.workspace) as state:
            yield app.context(issue_id, offline, state)
    finally:
        report(app.report)


def fail(message: str, hint: str = "", code: int = 1) -> None:
    """Print one error line (and a hint) and exit with ``code``; URL credentials masked."""
    import sys

    from composer.support.text import mask_urls

    click.secho(f"Error: {mask_urls(message)}", fg="red", err=True)
    if hint:
        click.echo(f"  hint: {mask_urls(hint)}", err=True)
    sys.exit(code)


def report(warnings, strict: bool = False) -> None:
    """Print a run's warnings (a Report), URL credentials masked; under --strict any
    warning is a failure (exit 1)."""
    from composer.support.text import mask_urls

    for warning in warnings:
        click.secho(f"warning: {mask_urls(str(warning))}", fg="yellow", err=True)
    if strict and len(warnings):
        fail(f"{len(warnings)} warning(s) under --strict")


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Rows in aligned columns; the last column is not padded."""
    table = [tuple(header), *(tuple(r) for r in rows)]
    widths = [max(len(r[i]) for r in table) for i in range(len(header) - 1)]
    for row in table:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


def locate(source: str | None, out: Path | None, workspace):
    """(app, dialect file, output folder, label) for an issue id, a file, or this week."""
    if source and Path(source).is_file():
        path = Path(source)
        app = open_app(workspace, required=False)
        if out is None:
            in_issue = path.name == "issue.md"
            out = path.parent / "out" if in_issue else Path.cwd() / "out" / path.stem
        return app, path, out, str(path)
    from composer.errors import UsageError
    from composer.support.workspace import ISSUE_ID, current_issue_id, resolve_issue_id

    if source and not ISSUE_ID.match(source):
        if Path(source).exists():
            raise UsageError(f"{source}: not a file", "give a dialect file or an issue id")
        raise UsageError(
            f"{source}: no such file, and not an issue id",
            "give a dialect file, or an issue id such as "
            + current_issue_id(open_app(workspace, required=False).settings.newsletter.timezone),
        )
    app = open_app(workspace, required=True)
    issue_id = resolve_issue_id(source, app.settings.newsletter.timezone)
    path = app.workspace / issue_id / "issue.md"
    if not path.is_file():
        raise UsageError(f"{path} does not exist", f"run `composer draft --issue {issue_id}`")
    return app, path, out or path.parent / "out", f"{issue_id}/issue.md"


def describe_os_error(exc: BaseException) -> tuple[str, str, int] | None:
    """(message, hint, exit code) for an operating-system error on a file, else None."""
    if not isinstance(exc, OSError) or not getattr(exc, "filename", None):
        return None
    where = exc.filename
    hints = {
        PermissionError: "check the file's permissions (and the folder's)",
        IsADirectoryError: "give a file, not a folder",
        NotADirectoryError: "a part of the path is a file, not a folder",
        FileNotFoundError: "check the path",
    }
    hint = next((h for kind, h in hints.items() if isinstance(exc, kind)), "")
    return f"{where}: {exc.strerror or exc}", hint, 1
