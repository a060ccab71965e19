"""Constraints for composer.toml values, usable in any config model or dataclass.

Each is a marker for ``typing.Annotated`` that pydantic understands (through
``__get_pydantic_core_schema__``), so a plugin declares what a value must be where
it declares the value, and a wrong value is reported like every config error: one
line naming the file, the line and the key. Nothing here imports pydantic until a
file is validated.

- ``Annotated[float, Within(0, 600, above=True)]``: a finite number in a range
  (NaN and infinities are refused).
- ``Annotated[str, HttpURL()]``: one http(s) URL with a host, no spaces or controls.
- ``Annotated[str, EmailAddress()]``: one email address, bare or with a display name
  (``周报 <editor@example.org>``), no controls, no second address.
- ``Annotated[str, SectionName(holds="link")]``: the name of a registered section
  type (that can hold items of that kind). The core passes the registry in the
  validation context as ``{"sections": {name: kinds or None}}``; without it the
  name is not checked.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Any


class Checked:
    """A marker whose ``check(value)`` runs after pydantic's own validation."""

    __slots__ = ()

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


class Within(Checked):
    """A finite number from ``low`` to ``high`` (``above``: greater than ``low``)."""

    __slots__ = ("low", "high", "above")

    def __init__(self, low: float, high: float, above: bool = False) -> None:
        self.low, self.high, self.above = low, high, above

    def __repr__(self) -> str:
        return f"Within({self.low}, {self.high}, above={self.above})"

    def check(self, value: float) -> float:
        """``value`` itself, or ValueError saying the allowed range."""
        low_ok = value > self.low if self.above else value >= self.low
        if not (math.isfinite(value) and low_ok and value <= self.high):
            low, high = _number(self.low), _number(self.high)
            wanted = f"above {low} and at most {high}" if self.above else f"from {low} to {high}"
            raise ValueError(f"must be a number {wanted}, not {value!r}")
        return value


def _number(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


class HttpURL(Checked):
    """One http or https URL (what composer may fetch or send to)."""

    __slots__ = ()

    def check(self, value: str) -> str:
        problem = url_problem(value)
        if problem:
            raise ValueError(problem)
        return value


class EmailAddress(Checked):
    """One email address, bare or with a display name."""

    __slots__ = ()

    def check(self, value: str) -> str:
        problem = address_problem(value)
        if problem:
            raise ValueError(problem)
        return value


def address_problem(value: str) -> str:
    """Why ``value`` is not one email address (``a@b.org``, ``Name <a@b.org>``), or ''."""
    import email.utils

    bad = next((ch for ch in value if ord(ch) < 32 or ch in "\x7f\u2028\u2029\x85"), None)
    if bad is not None:
        return f"{value!r} is not one email address: it contains {_name_char(bad)}"
    found = email.utils.getaddresses([value])
    if len(found) != 1:
        return f"{value!r} is not one email address (one per entry)"
    local, at, domain = found[0][1].rpartition("@")
    if not (local and at and domain) or any(ch.isspace() for ch in found[0][1]):
        return f"{value!r} is not an email address like editor@example.org"
    return ""


class SectionName:
    """The name of a registered section type; with ``holds``, one that can hold
    items of that kind (its ``kinds``)."""

    __slots__ = ("holds",)

    def __init__(self, holds: str | None = None) -> None:
        self.holds = holds

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> Any:
        from pydantic_core import core_schema

        return core_schema.with_info_after_validator_function(self.check, handler(source))

    def check(self, value: str, info: Any) -> str:
        sections = (getattr(info, "context", None) or {}).get("sections")
        if sections is not None:
            problem = section_problem(value, sections, self.holds)
            if problem:
                raise ValueError(problem)
        return value


def url_problem(url: str) -> str:
    """Why ``url`` is not one http(s) URL with a host, or ''."""
    from urllib.parse import urlsplit

    from composer.support.text import mask_urls

    if not url:
        return "an empty URL"
    shown = mask_urls(url)
    bad = next((ch for ch in url if ch.isspace() or ord(ch) < 32 or ord(ch) == 127), None)
    if bad is not None:
        return f"{shown!r} is not one URL: it contains {_name_char(bad)}"
    hidden = next((ch for ch in url if unicodedata.category(ch) in ("Cf", "Cc", "Co")), None)
    if hidden is not None:
        return (
            f"{shown!r} holds the invisible character U+{ord(hidden):04X}, which can make "
            "a link read as another: percent-encode it or remove it"
        )
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises ValueError for a port that is no number)
    except ValueError as exc:
        return f"{shown!r} is not a URL ({exc})"
    if parts.scheme.lower() not in ("http", "https"):
        scheme = f"{parts.scheme}:" if parts.scheme else "no scheme"
        return f"{shown!r} is not an http(s) URL ({scheme}; only http and https are allowed)"
    if not parts.hostname:
        return f"{shown!r} has no host name"
    return ""


def _name_char(ch: str) -> str:
    if ch == " ":
        return "a space"
    if ch in "\r\n\u2028\u2029\x85":
        return "a line break"
    return f"the character U+{ord(ch):04X}"


def section_problem(name: str, sections: dict[str, Any], holds: str | None = None) -> str:
    """Why ``name`` is not a section type (that can hold ``holds`` items), or ''.

    ``sections`` maps each registered name to its ``kinds`` (None: any kind).
    """
    import difflib

    if name in sections:
        kinds = sections[name]
        if holds is None or kinds is None or holds in kinds:
            return ""
        able = sorted(n for n, k in sections.items() if k is None or holds in k)
        return (
            f"the section type {name!r} cannot hold {holds} items "
            f"(sections that can: {', '.join(able) or 'none loaded'})"
        )
    close = difflib.get_close_matches(name, list(sections), n=1, cutoff=0.6)
    guess = f"did you mean {close[0]}? " if close else ""
    known = ", ".join(sections) or "none loaded"
    return f"no section type named {name!r} ({guess}section types: {known})"
