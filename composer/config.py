"""composer.toml -> validated settings.

``[newsletter]`` and ``[plugins]`` belong to the core; every other top-level table
belongs to the plugin object that declares it (its ``config`` model, keyed by its
``config_key`` or ``name``: ``[feeds]``, ``[delivery.email]``, ``[events]`` ...). An
unknown table or key, or a wrong type, is a ConfigError naming the file and line.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from .errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewsletterConfig(Strict):
    title: str = "AI 研究周报"
    language: Literal["zh-CN", "en"] | str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    sections: list[str] = []
    url: str = ""
    unsubscribe_url: str = "mailto:unsubscribe@example.org?subject=unsubscribe"
    author: str = ""

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone {value!r}") from None
        return value


class PluginsConfig(Strict):
    disable: list[str] = []
    local: list[str] = []


class Settings(Strict):
    newsletter: NewsletterConfig = NewsletterConfig()
    plugins: PluginsConfig = PluginsConfig()


def read_toml(path: Path) -> tuple[dict[str, Any], str]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from None


def load_core(path: Path | None) -> tuple[Settings, dict[str, Any], str]:
    """Core settings plus the raw plugin tables (validated later by their owners)."""
    if path is None:
        return Settings(), {}, ""
    data, text = read_toml(path)
    core = {k: data.pop(k) for k in ("newsletter", "plugins") if k in data}
    try:
        settings = Settings.model_validate(core)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, (), path, text)) from None
    return settings, data, text


def validate_plugin_tables(
    tables: dict[str, Any], models: dict[str, Any], path: Path | None, text: str
) -> dict[str, Any]:
    """Validate each plugin table with its owner's model; unknown tables are errors."""
    flat = _flatten_tables(tables, models)
    out: dict[str, Any] = {}
    for key, value in flat.items():
        model = models.get(key)
        if model is None:
            line = _line_of(text, key, None)
            known = ", ".join(sorted(["newsletter", "plugins", *models])) or "none"
            raise ConfigError(
                f"{path}:{line}: unknown table [{key}] (no loaded plugin declares it; "
                f"known: {known})"
            )
        try:
            out[key] = model.model_validate(value)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, (key,), path, text)) from None
    for key, model in models.items():
        if key not in out:
            try:
                out[key] = model()
            except ValidationError:
                out[key] = None
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


def _describe(exc: ValidationError, prefix: tuple, path: Path | None, text: str) -> str:
    err = exc.errors()[0]
    loc = (*prefix, *(str(p) for p in err["loc"]))
    table = ".".join(loc[:-1]) if len(loc) > 1 else loc[0]
    key = loc[-1] if len(loc) > 1 else None
    line = _line_of(text, table, key)
    if err["type"] == "extra_forbidden":
        what = f"unknown key '{key}' in [{table}]"
    else:
        msg = err["msg"].removeprefix("Value error, ")
        what = f"[{table}] {key}: {msg}" if key else f"[{table}]: {msg}"
    return f"{path}:{line}: {what}"


def _line_of(text: str, table: str, key: str | None) -> int:
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
