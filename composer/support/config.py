"""composer.toml -> validated settings.

``[newsletter]``, ``[plugins]`` and ``[schedule]`` belong to the core
(``composer.support.settings``); every other top-level table belongs to the plugin
object that declares it (its ``config``:
a pydantic model or a dataclass, keyed by its ``config_key`` or ``name``: ``[feeds]``,
``[delivery.email]``, ``[events]`` ...). An unknown table or key, or a wrong type, is
a ConfigError naming the file and line. A table that plainly fits its dataclass is
built without pydantic (``composer.support.quickcheck``); pydantic is imported only
for the others, and words every error.
"""

from __future__ import annotations

import functools
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
    except ValueError as exc:  # an integer of thousands of digits
        raise ConfigError(f"{path}: {str(exc).split(';')[0]}") from None


def plugin_lists(path: Path | None, strict: bool = False) -> tuple[list[str], list[str]]:
    """``[plugins] local`` and ``disable``, read without validating the rest of the file.

    A file that cannot be read gives empty lists, or with ``strict`` its ConfigError.
    """
    if path is None or not path.is_file():
        return [], []
    try:
        data, _ = read_toml(path)
    except ConfigError:
        if strict:
            raise
        return [], []
    table = data.get("plugins") if isinstance(data.get("plugins"), dict) else {}
    local, disable = table.get("local", []), table.get("disable", [])
    return (
        [str(x) for x in local] if isinstance(local, list) else [],
        [str(x) for x in disable] if isinstance(disable, list) else [],
    )


def validate(
    schema: Any, data: Any, prefix: tuple, path: Path | None, text: str, context: Any = None
) -> Any:
    """``data`` validated against a pydantic model or dataclass; errors name the line.

    ``context`` reaches validators that take it (``SectionName`` reads the registered
    section types from ``{"sections": ...}``).
    """
    from composer.support.quickcheck import UNSURE, quick

    plain = quick(schema, data, context)
    if plain is not UNSURE:
        return plain
    from pydantic import ValidationError

    try:
        return _adapter(schema).validate_python(data, context=context)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, prefix, path, text)) from None


def _adapter(schema: Any):
    """pydantic's validator of ``schema``, built once per process (when hashable)."""
    try:
        hash(schema)
    except TypeError:
        return _new_adapter.__wrapped__(schema)
    return _new_adapter(schema)


@functools.lru_cache(maxsize=64)
def _new_adapter(schema: Any):
    from pydantic import TypeAdapter

    return TypeAdapter(schema)


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
            raise key_error(path, text, "schedule", "cron", str(exc)) from None
    return settings, data, text


def key_error(path: Path | None, text: str, table: str, key: str, message: str) -> ConfigError:
    """``file:line: [table] key: message``, the line being the key's in composer.toml."""
    return ConfigError(f"{path}:{line_of(text, table, key)}: [{table}] {key}: {message}")


def _check_timezone(zone: str, table: str, path: Path, text: str) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise key_error(path, text, table, "timezone", f"unknown timezone {zone!r}") from None


def check_newsletter(
    settings: Settings,
    sections: dict[str, Any],
    disabled: dict[str, str],
    broken: list[str],
    theme_folders: list[Path],
    path: Path | None,
    text: str,
    report: Any,
) -> None:
    """``[newsletter] sections`` against the registered section types (``sections``:
    name -> kinds) and ``language`` against the theme's strings.toml.

    An unknown name is an error, only a warning when it may belong to a plugin that
    did not load: a disabled one (``disabled``: name -> "the disabled plugin x") or a
    ``broken`` one.
    """
    from composer.support.constraints import section_problem

    for name in settings.newsletter.sections:
        problem = section_problem(name, sections)
        if not problem:
            continue
        line = line_of(text, "newsletter", "sections", rf"[\"']{re.escape(name)}[\"']")
        if name in disabled:
            why = f"a section of {disabled[name]}: ignored"
        elif broken:
            why = f"perhaps of {', '.join(broken)}, which did not load: ignored"
        else:
            why = ""
        if why and report is not None:
            report.warn(f"{path}:{line}", f"[newsletter] sections: {name!r}: {why}")
            continue
        raise ConfigError(f"{path}:{line}: [newsletter] sections: {problem}")
    _check_language(settings.newsletter.language, theme_folders, path, text)


def _check_language(language: str, theme_folders: list[Path], path: Path | None, text: str):
    """The theme's strings.toml must have ``language`` (or its primary subtag: en-GB)."""
    import difflib

    where, languages = theme_languages(theme_folders)
    if language in languages or language.split("-")[0] in languages:
        return

    close = [x for x in languages if x.split("-")[0] == language.split("-")[0]]
    close = close or difflib.get_close_matches(language, languages, n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    raise ConfigError(
        f"{path}:{line_of(text, 'newsletter', 'language')}: [newsletter] language: "
        f"{where} has no {language!r} ({guess}languages: {', '.join(languages) or 'none'}); "
        f"a theme adds one as a [{language}] table in templates/strings.toml"
    )


def theme_languages(folders: list[Path]) -> tuple[str, list[str]]:
    """(where, languages) of the strings.toml the theme uses: the first in
    ``folders`` that has one, else the default theme's."""
    for folder in folders:
        candidate = folder / "strings.toml"
        if candidate.is_file():
            data, _ = read_toml(candidate)
            return str(candidate), [k for k, v in data.items() if isinstance(v, dict)]
    import composer.templates

    default = Path(composer.templates.__file__).with_name("strings.toml")
    data = tomllib.loads(default.read_text(encoding="utf-8"))
    return "the theme", [k for k, v in data.items() if isinstance(v, dict)]


def validate_plugin_tables(
    tables: dict[str, Any],
    models: dict[str, Any],
    path: Path | None,
    text: str,
    absent: dict[str, str] | None = None,
    report: Any = None,
    context: Any = None,
    broken: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Validate each plugin table with its owner's schema; unknown tables are errors.

    ``models`` maps a table name to (schema, owning plugin name). A table named after
    a plugin that did not load (``absent``: name -> "the disabled plugin x" ...) is
    only a warning in ``report``. ``context`` is handed to the validators. An unknown
    table's error names the ``broken`` plugins (name -> error), which may declare it.
    """
    out: dict[str, Any] = {}
    absent = absent or {}
    for key, value in _flatten_tables(tables, models).items():
        model, owner = models.get(key, (None, ""))
        if model is None:
            line = line_of(text, key, None)
            # a table of a plugin that did not load: declared by it (a disabled one is
            # read apart), or named after it ([acme], [delivery.acme])
            plugin = absent.get(key) or absent.get(key.split(".")[0])
            if not plugin and key.startswith("delivery."):
                plugin = absent.get(key.split(".", 1)[1])
            if plugin and report is not None:
                report.warn(f"{path}:{line}", f"[{key}] belongs to {plugin}: ignored")
                continue
            known = ", ".join(sorted([*CORE_TABLES, *models]))
            failed = "; ".join(f"plugin {n} failed: {e}" for n, e in (broken or {}).items())
            maybe = f"; perhaps it is a broken plugin's ({failed})" if failed else ""
            raise ConfigError(
                f"{path}:{line}: unknown table [{key}] (no loaded plugin declares it; "
                f"known: {known}{maybe})"
            )
        try:
            out[key] = validate(model, value, (key,), path, text, context)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (plugin {owner})") from None
    return out


def _flatten_tables(tables: dict[str, Any], models: dict[str, Any]) -> dict[str, Any]:
    """Join dotted tables (``[delivery.email]``) that a model is declared for.

    Under a table that only groups declared tables (``[delivery]``), every sub-table
    is named in full, so an unknown one reads ``[delivery.x]``.
    """
    out: dict[str, Any] = {}
    for key, value in tables.items():
        groups = key not in models and any(m.startswith(f"{key}.") for m in models)
        if groups and isinstance(value, dict):
            rest = {}
            for sub, inner in value.items():
                if isinstance(inner, dict):
                    out[f"{key}.{sub}"] = inner
                else:
                    rest[sub] = inner
            if rest:
                out[key] = rest
        else:
            out[key] = value
    return out


def _describe(exc, prefix: tuple, path: Path | None, text: str) -> str:
    """One line for the most telling error: ``file:line: [table] key: message``."""
    errors = exc.errors()
    err = next((e for e in errors if e["type"] == "value_error"), None)
    err = err or max(errors, key=lambda e: len(e["loc"]))
    loc = [*prefix, *err["loc"]]
    table, rest = str(loc[0]), loc[1:]
    key = str(rest[0]) if rest else None
    shown = (key or "") + "".join(
        f"[{p}]" if isinstance(p, int) else f".{p}" for p in rest[1:] if not _union_tag(p)
    )
    msg = err["msg"].removeprefix("Value error, ")
    if key is None:  # a check across keys: its message starts with the key it is about
        named = re.match(r"(\w+): (.*)", msg, re.S)
        if named and _find_line(text, table, named.group(1)):
            key = shown = named.group(1)
            msg = named.group(2)
    value = err.get("input")
    if err["type"] in ("extra_forbidden", "unexpected_keyword_argument"):
        near = _near(None, loc[-1]) if len(rest) > 1 else None
        where = f"{path}:{line_of(text, table, key, near)}"
        if key is None:
            return f"{where}: unknown table [{table}]"
        if len(rest) == 1:
            return f"{where}: unknown key '{key}' in [{table}]"
        return f"{where}: unknown key '{loc[-1]}' in [{table}] {shown.rsplit('.', 1)[0]}"
    line = line_of(text, table, key, _near(value, loc[-1]) if rest[1:] else None)
    what = f"[{table}] {shown}: {msg}" if key else f"[{table}]: {msg}"
    return f"{path}:{line}: {what}"


def _near(value: Any, name: Any) -> str | None:
    """A pattern for the line holding a nested value: the value, else its key."""
    if isinstance(value, str) and value:
        return rf"[\"']{re.escape(value)}[\"']"
    if isinstance(name, str) and not _union_tag(name):
        return rf"(^|[{{,\s])[\"']?{re.escape(name)}[\"']?\s*="
    return None


def _union_tag(part: Any) -> bool:
    """A step of an error location naming a union member (``str``, ``FeedSource``)."""
    if isinstance(part, int):
        return False
    return bool(re.search(r"[\[\]()]", part)) or part[:1].isupper() or part in _TYPE_NAMES


_TYPE_NAMES = {"str", "int", "float", "bool", "list", "dict", "none"}

_HEADER = re.compile(r"\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_PART = r"(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')"
_KEY = re.compile(rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=\s*(.?)")


def _dotted(name: str) -> tuple[str, ...]:
    parts = re.findall(_PART, name)
    return tuple(p.strip("\"'") for p in parts)


def line_of(text: str, table: str, key: str | None, near: str | None = None) -> int:
    """Line number of ``key`` in ``[table]`` (or of the table), 1 when neither is found.

    Finds ``[a.b]`` and ``[[a.b]]`` headers, dotted keys (``b.key = ``) and inline
    tables (``b = { key = ... }``). ``near``: a pattern for the line of the key's
    value that holds it (an element of a multi-line array).
    """
    found = _find_line(text, table, key)
    if found is None:
        found = _find_line(text, table, None) if key else None
        return found or 1
    if near:
        lines = text.splitlines()
        for n in range(found, len(lines) + 1):
            header = _HEADER.match(lines[n - 1])
            if n > found and header and lines[n - 1].strip() != lines[found - 1].strip():
                break  # the next table (another [[item]] of the same array goes on)
            if re.search(near, lines[n - 1]):
                return n
    return found


def _inline_holds(line: str, full: tuple[str, ...], target: tuple[str, ...]) -> bool:
    """Does the inline table ``full = { ... }`` on ``line`` hold the key ``target``?"""
    if full != target[: len(full)]:
        return False
    return all(
        re.search(rf"[{{,]\s*[\"']?{re.escape(p)}[\"']?\s*[=.]", line) for p in target[len(full) :]
    )


def _find_line(text: str, table: str, key: str | None) -> int | None:
    target = (*_dotted(table), *((key,) if key else ()))
    current: tuple[str, ...] = ()
    inside = None
    for n, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            current = _dotted(header.group(1))
            if current == target:
                return n
            if inside is None and current[: len(target)] == target:
                inside = n
            continue
        m = _KEY.match(line)
        if not m:
            continue
        full = (*current, *_dotted(m.group(1)))
        if full == target or (m.group(2) == "{" and _inline_holds(line, full, target)):
            return n
        if inside is None and full[: len(target)] == target:
            inside = n
    return inside if key is None else None
