"""composer.toml -> validated settings.

``[newsletter]``, ``[plugins]`` and ``[schedule]`` belong to the core
(``composer.support.settings``); every other top-level table belongs to the plugin
object that declares it (its ``config``:
a pydantic model or a dataclass, keyed by its ``config_key`` or ``name``: ``[feeds]``,
``[delivery.email]``, ``[events]`` ...). An unknown table or key, or a wrong type, is
a ConfigError naming the file and line. pydantic is imported only when there is a
file to validate.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from composer.errors import ConfigError
from composer.support.settings import Settings

CORE_TABLES = ("newsletter", "plugins", "schedule")


MAX_CONFIG_BYTES = 1_000_000


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    """composer.toml parsed, and its text; anything unreadable is one ConfigError."""
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES:,} bytes; is it the right file?")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path}: tables or arrays nested too deep to read") from None


def plugin_lists(path: Path | None) -> tuple[list[str], list[str]]:
    """``[plugins] local`` and ``disable``, read without validating the rest of the file."""
    if path is None or not path.is_file():
        return [], []
    try:
        data, _ = read_toml(path)
    except ConfigError:
        return [], []
    table = data.get("plugins") if isinstance(data.get("plugins"), dict) else {}
    local, disable = table.get("local", []), table.get("disable", [])
    return (
        [str(x) for x in local] if isinstance(local, list) else [],
        [str(x) for x in disable] if isinstance(disable, list) else [],
    )


def validate(schema: Any, data: Any, prefix: tuple, path: Path | None, text: str) -> Any:
    """``data`` validated against a pydantic model or dataclass; errors name the line."""
    from pydantic import TypeAdapter, ValidationError

    try:
        return TypeAdapter(schema).validate_python(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, prefix, path, text)) from None


def load_core(path: Path | None) -> tuple[Settings, dict[str, Any], str]:
    """Core settings plus the raw plugin tables (validated later by their owners)."""
    if path is None:
        return Settings(), {}, ""
    data, text = read_toml(path)
    core = {k: data.pop(k) for k in CORE_TABLES if k in data}
    settings = validate(Settings, core, (), path, text)
    _check_timezone(settings.newsletter.timezone, "newsletter", path, text)
    schedule = settings.schedule
    if schedule.timezone:
        _check_timezone(schedule.timezone, "schedule", path, text)
    if schedule.cron:
        from composer.support.crontab import CronError, cron_fields

        try:
            cron_fields(schedule.cron)
        except CronError as exc:
            line = line_of(text, "schedule", "cron")
            raise ConfigError(f"{path}:{line}: [schedule] cron: {exc}") from None
    return settings, data, text


def _check_timezone(zone: str, table: str, path: Path, text: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        line = line_of(text, table, "timezone")
        raise ConfigError(f"{path}:{line}: [{table}] timezone: unknown timezone {zone!r}") from None


def validate_plugin_tables(
    tables: dict[str, Any],
    models: dict[str, Any],
    path: Path | None,
    text: str,
    disabled: dict[str, str] | None = None,
    report: Any = None,
) -> dict[str, Any]:
    """Validate each plugin table with its owner's schema; unknown tables are errors.

    ``models`` maps a table name to (schema, owning plugin name). A table named after
    a disabled plugin (``disabled``: name -> plugin) is only a warning in ``report``.
    """
    out: dict[str, Any] = {}
    disabled = disabled or {}
    for key, value in _flatten_tables(tables, models).items():
        model, owner = models.get(key, (None, ""))
        if model is None:
            line = line_of(text, key, None)
            plugin = disabled.get(key) or disabled.get(key.split(".")[0])
            if plugin and report is not None:
                report.warn(
                    f"{path}:{line}", f"[{key}] belongs to the disabled plugin {plugin}: ignored"
                )
                continue
            known = ", ".join(sorted([*CORE_TABLES, *models]))
            raise ConfigError(
                f"{path}:{line}: unknown table [{key}] (no loaded plugin declares it; "
                f"known: {known})"
            )
        try:
            out[key] = validate(model, value, (key,), path, text)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (plugin {owner})") from None
    return out


def _flatten_tables(tables: dict[str, Any], models: dict[str, Any]) -> dict[str, Any]:
    """Join dotted tables (``[delivery.email]``) that a model is declared for."""
    out: dict[str, Any] = {}
    for key, value in tables.items():
        nested = {f"{key}.{k}": v for k, v in value.items() if isinstance(v, dict)}
        if key not in models and nested and any(n in models for n in nested):
            out.update(nested)
            rest = {k: v for k, v in value.items() if not isinstance(v, dict)}
            if rest:
                out[key] = rest
        else:
            out[key] = value
    return out


def _describe(exc, prefix: tuple, path: Path | None, text: str) -> str:
    err = exc.errors()[0]
    loc = (*prefix, *(str(p) for p in err["loc"]))
    table = ".".join(loc[:-1]) if len(loc) > 1 else loc[0]
    key = loc[-1] if len(loc) > 1 else None
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        if key is None:
            return f"{path}:{line_of(text, table, None)}: unknown table [{table}]"
        return f"{path}:{line_of(text, table, key)}: unknown key '{key}' in [{table}]"
    msg = err["msg"].removeprefix("Value error, ")
    what = f"[{table}] {key}: {msg}" if key else f"[{table}]: {msg}"
    return f"{path}:{line_of(text, table, key)}: {what}"


def line_of(text: str, table: str, key: str | None) -> int:
    """Line number of ``key`` in ``[table]`` (or of the table header)."""
    current, header_line = "", 0
    for n, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*\[\s*([^\]]+?)\s*\]\s*(#.*)?$", line)
        if m:
            current = m.group(1).replace('"', "")
            if current == table:
                header_line = n
            continue
        if key and current == table and re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return n
    return header_line or 1
