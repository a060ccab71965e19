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
def open_context(workspace: Path | None, issue_id: str | None = None, offline: bool = False):
    """A plugin command's Context: validated settings and config, the workspace state,
    and ``issue_id`` checked (default: this week's issue). Warnings are printed when
    the block ends."""
    from composer.support.state import State
    from composer.support.workspace import resolve_issue_id

    app = open_app(workspace)
    try:
        issue_id = resolve_issue_id(issue_id, app.settings.newsletter.timezone)
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
    from composer.errors import UsageError
    from composer.support.workspace import ISSUE_ID, current_issue_id, resolve_issue_id

    an_id = source is not None and ISSUE_ID.match(source) and not Path(source).is_file()
    path = None if source is None or an_id else input_file(source)
    if path is not None:
        app = open_app(workspace, required=False)
        if out is None:
            in_issue = path.name == "issue.md"
            out = path.parent / "out" if in_issue else Path.cwd() / "out" / path.stem
        return app, path, output_folder(out), str(path)
    if source and not ISSUE_ID.match(source):
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
    return app, path, output_folder(out or path.parent / "out"), f"{issue_id}/issue.md"


def input_file(source: str) -> Path | None:
    """``source`` as a file to read, or None when nothing is there. Something else
    there (a folder, a device, a symbolic link loop ...) is a UsageError naming it."""
    import errno
    import os
    import stat

    from composer.errors import UsageError

    path = Path(source)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        if exc.errno in (errno.ENOENT, errno.ENAMETOOLONG) and not path.is_symlink():
            return None
        if exc.errno == errno.ENOENT:
            raise UsageError(
                f"{source}: a symbolic link to {os.readlink(path)}, which does not exist",
                "fix or remove the link",
            ) from None
        raise UsageError(f"{source}: {exc.strerror or exc}", os_hint(exc)) from None
    if stat.S_ISDIR(mode):
        raise UsageError(f"{source}: a folder, not a file", "give a file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{source}: not a regular file (a device or a pipe)", "give a file")
    return path


def output_folder(out: Path) -> Path:
    """``out`` checked as a folder to write into: it, or its first existing parent, must
    be a folder (``--out /dev/null`` is a UsageError, before anything is rendered)."""
    from composer.errors import UsageError

    for folder in (out, *out.parents):
        if folder.is_dir():
            return out
        if folder.exists() or folder.is_symlink():
            what = (
                "is not a folder" if folder == out else f"is inside {folder}, which is not a folder"
            )
            raise UsageError(f"--out {out} {what}", "give a folder to write the outputs into")
    return out


# errno name -> what to do; the message itself is the system's (``Permission denied``)
OS_HINTS = {
    "EACCES": "check the permissions of the file and of its folder",
    "EPERM": "check the permissions of the file and of its folder",
    "EROFS": "the file system is read-only: write somewhere else",
    "ENOSPC": "the disk is full: free some space and run again (the old file is unchanged)",
    "EDQUOT": "the disk quota is used up: free some space and run again",
    "EISDIR": "it is a folder: give a file",
    "ENOTDIR": "a part of the path is a file, not a folder",
    "ELOOP": "it is a symbolic link that leads back to itself: fix or remove the link",
    "ENOENT": "check the path",
    "ENAMETOOLONG": "the name is too long: use a shorter path",
    "EEXIST": "something is already there: move it away",
    "EBUSY": "the file is in use: try again when it is free",
    "EIO": "the disk reported an error: check it",
    "EFBIG": "the file is larger than this system allows",
}


def describe_os_error(exc: BaseException) -> tuple[str, str, int] | None:
    """(message, hint, exit code) for an operating-system error on a file, else None."""
    if not isinstance(exc, OSError) or not getattr(exc, "filename", None):
        return None
    where = exc.filename
    if getattr(exc, "filename2", None):
        where = f"{where} -> {exc.filename2}"
    return f"{where}: {exc.strerror or exc}", os_hint(exc), 1


def describe_state_error(exc: BaseException) -> tuple[str, str, int] | None:
    """(message, hint, exit code) for an SQLite error of the workspace state, else None."""
    import sqlite3

    if not isinstance(exc, sqlite3.OperationalError):
        return None
    return (
        f".composer/state.db (the workspace state): {exc}",
        "check that .composer/ and the files in it are writable and the disk has space",
        1,
    )


def os_hint(exc: OSError) -> str:
    """What to do about an operating-system error (by its errno), or ''."""
    import errno

    return OS_HINTS.get(errno.errorcode.get(exc.errno or 0, ""), "")
