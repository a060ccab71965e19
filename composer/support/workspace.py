"""Workspace discovery, issue ids, atomic writes."""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
from pathlib import Path

from composer.errors import WorkspaceError

CONFIG_NAME = "composer.toml"
ISSUE_ID = re.compile(r"^\d{4}-W\d{2}$")
MIN_YEAR, MAX_YEAR = 1900, 9998  # a week's dates and the week after it exist


def find_workspace(explicit: str | Path | None = None, start: Path | None = None) -> Path:
    """``-w DIR``, else ``COMPOSER_WORKSPACE``, else the nearest parent with composer.toml."""
    chosen = explicit or os.environ.get("COMPOSER_WORKSPACE")
    if chosen:
        path = Path(chosen).expanduser().resolve()
        if not _has_config(path):
            raise WorkspaceError(f"{path} has no {CONFIG_NAME} (create one with `composer init`)")
        return path
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if _has_config(folder):
            return folder
    raise WorkspaceError(
        f"no {CONFIG_NAME} in {here} or its parents; pass -w DIR or run `composer init DIR`"
    )


def _has_config(folder: Path) -> bool:
    """Does ``folder`` hold composer.toml? Something else by that name is a ConfigError."""
    from composer.errors import ConfigError

    config = folder / CONFIG_NAME
    if config.is_file():
        return True
    if config.is_dir():
        raise ConfigError(f"{config}: a folder, not a file", "composer.toml is a file")
    if config.exists():
        raise ConfigError(f"{config}: not a regular file (a device or a pipe)", "make it a file")
    if config.is_symlink():
        raise ConfigError(
            f"{config}: a symbolic link to nothing readable ({_link_problem(config)})",
            "fix or remove the link",
        )
    return False


def _link_problem(path: Path) -> str:
    try:
        path.stat()
    except OSError as exc:
        return exc.strerror or str(exc)
    return "not a file"


def issue_id(when: dt.datetime) -> str:
    """The ISO-week id (``2026-W48``) of a moment, in its own timezone."""
    year, week, _ = when.isocalendar()
    return f"{year}-W{week:02d}"


def current_issue_id(timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return issue_id(dt.datetime.now(ZoneInfo(timezone)))


def resolve_issue_id(text: str | None, timezone: str) -> str:
    """``text`` checked as a real ISO week id (``2026-W53`` exists, ``2025-W53`` does
    not); this week's id when ``text`` is None. A bad id is a UsageError (exit 2)."""
    from composer.errors import UsageError

    if text is None:
        return current_issue_id(timezone)
    m = ISSUE_ID.match(text)
    year = int(text[:4]) if m else 0
    if m and not MIN_YEAR <= year <= MAX_YEAR:
        problem = f"the year must be between {MIN_YEAR} and {MAX_YEAR}"
    elif m:
        week = int(text[6:])
        if 1 <= week <= weeks_in(year):
            return text
        problem = f"{year} has no week {week:02d} (its weeks are W01 to W{weeks_in(year)})"
    else:
        problem = "issue ids are ISO weeks like YYYY-Www"
    raise UsageError(
        f"'{text}' is not an issue id: {problem}",
        f"this week's issue is {current_issue_id(timezone)}",
    )


def weeks_in(year: int) -> int:
    """52 or 53: the number of ISO weeks of ``year``."""
    return dt.date(year, 12, 28).isocalendar()[1]


def week_bounds(issue: str, timezone: str) -> tuple[dt.datetime, dt.datetime]:
    """[Monday 00:00, next Monday 00:00) of an ISO week in ``timezone``."""
    from zoneinfo import ZoneInfo

    year, week = int(issue[:4]), int(issue[6:])
    start = dt.datetime.fromisocalendar(year, week, 1).replace(tzinfo=ZoneInfo(timezone))
    return start, start + dt.timedelta(days=7)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write via a temporary file in the same folder and rename over ``path``.

    When anything fails (no permission, a full disk ...) the previous ``path`` is left
    as it was, the temporary file is removed, and the OSError names ``path``.
    """
    import tempfile  # not at import time: `composer --help` stays fast

    raw = data.encode("utf-8") if isinstance(data, str) else data
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError:  # a file where the folder should be
        raise NotADirectoryError(
            errno.ENOTDIR, os.strerror(errno.ENOTDIR), str(path.parent)
        ) from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise _about(exc, path) from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(raw)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise _about(exc, path) from exc
        raise


def _about(exc: OSError, path: Path) -> OSError:
    """The same error, about ``path`` (not the temporary file that was being written)."""
    return OSError(exc.errno, exc.strerror or str(exc), str(path))
