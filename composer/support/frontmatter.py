"""YAML front matter: read (dates kept as written, duplicate keys warned) and written.

What is read is bounded: a Hugo post's front matter is a few lines, so one larger
than :data:`MAX_BYTES`, with more than :data:`MAX_NODES` keys and values, nested
deeper than :data:`MAX_DEPTH`, or using anchors and aliases (``&a`` / ``*a``: a
400-byte "billion laughs" expands to gigabytes) is not read as YAML: it is kept as
text, with a warning naming its line.
"""

from __future__ import annotations

import re

from composer.contract.protocols import Report

MAX_BYTES = 64 * 1024
MAX_NODES = 2_000
MAX_DEPTH = 20
MAX_INT_CHARS = 30  # a longer integer is kept as its text


def _yaml_loader():
    import yaml

    class Loader(yaml.SafeLoader):
        """SafeLoader that keeps dates, and integers too long to be a count or a
        number (``n: 999…``, ``0xfff…``), as the strings the editor wrote."""

        def construct_yaml_int(self, node):
            text = self.construct_scalar(node)
            return text if len(text) > MAX_INT_CHARS else super().construct_yaml_int(node)

    Loader.add_constructor("tag:yaml.org,2002:int", Loader.construct_yaml_int)
    Loader.yaml_implicit_resolvers = {
        k: [r for r in v if r[0] != "tag:yaml.org,2002:timestamp"]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }
    return Loader


def split_front_matter(text: str, where: str, report: Report) -> tuple[dict, str, int]:
    """(front matter dict, body, line number where the body starts)."""
    if not text.startswith("---\n"):
        return {}, text, 1
    end = re.search(r"(?m)^---[ \t]*$", text[4:])
    if not end:
        return {}, text, 1
    raw = text[4 : 4 + end.start()]
    body = text[4 + end.end() :]
    body_line = raw.count("\n") + 3
    if body.startswith("\n"):
        body = body[1:]
    seen: dict[str, int] = {}
    for n, line in enumerate(raw.splitlines(), 2):
        m = re.match(r"([A-Za-z_][\w-]*)\s*:", line)
        if not m:
            continue
        key = m.group(1)
        if key in seen:
            report.warn(
                f"{where}:{n}",
                f"front matter key '{key}' repeats line {seen[key]}: the last one wins",
            )
        seen[key] = n
    import yaml

    refused = _beyond_bounds(raw)
    if refused:
        line, reason = refused
        report.warn(f"{where}:{line}", f"front matter {reason}: kept as text")
        return {}, text, 1
    try:
        meta = yaml.load(raw, Loader=_yaml_loader()) or {}
    except yaml.YAMLError as exc:
        where_mark = getattr(exc, "problem_mark", None)
        line = f":{where_mark.line + 2}" if where_mark else ""
        report.warn(f"{where}{line}", "front matter is not valid YAML: kept as text")
        return {}, text, 1
    if not isinstance(meta, dict):
        report.warn(f"{where}:2", "front matter is not a mapping: kept as text")
        return {}, text, 1
    _check_date(meta, f"{where}:{seen.get('date', 2)}", report)
    return {str(k): v for k, v in meta.items()}, body, body_line


def _beyond_bounds(raw: str) -> tuple[int, str] | None:
    """(line, reason) when the front matter is more than a post needs, else None.

    Reads YAML events only (nothing is built), so it costs as much as the text is long.
    """
    import yaml

    size = len(raw.encode("utf-8"))
    if size > MAX_BYTES:
        return 2, f"is {size:,} bytes, more than {MAX_BYTES:,}"
    depth = nodes = 0
    try:
        for event in yaml.parse(raw, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 2
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                return line, "uses a YAML anchor or alias (&name, *name), which a post never needs"
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    return line, f"is nested deeper than {MAX_DEPTH} levels"
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
            if isinstance(event, yaml.NodeEvent):
                nodes += 1
                if nodes > MAX_NODES:
                    return line, f"has more than {MAX_NODES:,} keys and values"
    except yaml.YAMLError:
        return None  # reported as invalid YAML by the caller
    return None


def _check_date(meta: dict, where: str, report: Report) -> None:
    from composer.support.dates import parse_when

    value = meta.get("date")
    if value not in (None, "") and parse_when(str(value)) is None:
        report.warn(
            where,
            f"date {str(value)!r} is not a date composer can read (e.g. 2023-11-24): "
            "shown as typed",
        )


def dump_front_matter(meta: dict, escape_tags: bool = False) -> str:
    """YAML front matter; values written as JSON, which YAML reads as they are.
    ``escape_tags``: ``<`` written as ``\\u003c`` (the same value), so a tool that
    strips tags from the file's text keeps ``<Weekly>`` in a title."""
    import json

    def value(v) -> str:
        text = json.dumps(v, ensure_ascii=False, default=str)
        return text.replace("<", "\\u003c") if escape_tags else text

    lines = [f"{_yaml_key(k)}: {value(v)}" for k, v in meta.items()]
    return "---\n" + "\n".join(lines) + ("\n" if lines else "") + "---\n"


def _yaml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z_][\w-]*", key) else json_str(key)


def json_str(value: str) -> str:
    import json

    return json.dumps(value, ensure_ascii=False)
