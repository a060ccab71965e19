"""A composer.toml table that plainly fits its dataclass, validated without pydantic.

Importing pydantic and building its validators costs about a tenth of a second per
run, while most tables hold only strings, numbers, booleans and lists of them.
:func:`quick` builds the object the way pydantic would (fields set, defaults filled,
``__post_init__`` run) when every value is exactly of its declared type and passes
its constraints (``Within``, ``HttpURL``, ``EmailAddress``, ``SectionName``).
Anything else (a pydantic model, a type it does not know, a value that would need
converting or is wrong, an unknown key) is ``UNSURE``: pydantic then decides, and
words the error.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from composer.support.constraints import Checked, SectionName

UNSURE = object()
PLAIN_DEFAULTS = (str, int, float, bool, type(None), tuple, frozenset)


class _Unsure(Exception):
    """This value is for pydantic to judge."""


def quick(schema: Any, data: Any, context: Any = None) -> Any:
    """``data`` as an instance of the dataclass ``schema``, or ``UNSURE``."""
    try:
        return _dataclass(schema, data, types.SimpleNamespace(context=context))
    except _Unsure:
        return UNSURE


def _dataclass(schema: Any, data: Any, info: Any) -> Any:
    if not _plain_dataclass(schema) or type(data) is not dict:
        raise _Unsure
    config = dict(getattr(schema, "__pydantic_config__", None) or {})
    extra = config.pop("extra", "ignore")
    fields = dataclasses.fields(schema)
    names = {f.name for f in fields}
    unknown = any(key not in names for key in data)
    if config or extra not in ("ignore", "forbid") or (unknown and extra == "forbid"):
        raise _Unsure
    try:
        hints = typing.get_type_hints(schema, include_extras=True)
    except Exception:
        raise _Unsure from None
    values = {}
    for f in fields:
        if f.name in data:
            values[f.name] = _value(data[f.name], hints[f.name], info)
        elif f.default_factory is not dataclasses.MISSING:
            values[f.name] = f.default_factory()
        elif f.default is not dataclasses.MISSING and type(f.default) in PLAIN_DEFAULTS:
            values[f.name] = f.default
        else:
            raise _Unsure
    made = schema.__new__(schema)
    made.__dict__.update(values)
    post_init = getattr(made, "__post_init__", None)
    if post_init is not None:
        try:
            post_init()
        except Exception:
            raise _Unsure from None
    return made


def _plain_dataclass(schema: Any) -> bool:
    """A stdlib dataclass (not pydantic's) whose fields are all set by ``__init__``
    and kept in ``__dict__`` (no slots, no InitVar)."""
    return (
        isinstance(schema, type)
        and dataclasses.is_dataclass(schema)
        and not hasattr(schema, "__pydantic_validator__")
        and "__slots__" not in schema.__dict__
        and all(f.init for f in dataclasses.fields(schema))
        and not any(
            "InitVar" in str(a)
            for c in schema.__mro__
            for a in vars(c).get("__annotations__", {}).values()
        )
    )


def _value(value: Any, hint: Any, info: Any) -> Any:
    """``value`` checked against ``hint`` (raises _Unsure unless it plainly fits)."""
    origin = typing.get_origin(hint)
    if origin is typing.Annotated:
        base, *marks = typing.get_args(hint)
        value = _value(value, base, info)
        for mark in marks:
            value = _constrained(value, mark, info)
        return value
    if hint is str or hint is bool or hint is int:
        if type(value) is not hint:
            raise _Unsure
        return value
    if hint is float:
        if type(value) not in (int, float):
            raise _Unsure
        return float(value)
    if origin is list and type(value) is list:
        (item,) = typing.get_args(hint) or (Any,)
        return [_value(v, item, info) for v in value]
    if origin is dict and type(value) is dict:
        key, item = typing.get_args(hint) or (Any, Any)
        return {_value(k, key, info): _value(v, item, info) for k, v in value.items()}
    if origin in (typing.Union, types.UnionType):
        return _one_of(value, typing.get_args(hint), info)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, value, info)
    raise _Unsure


def _one_of(value: Any, members: tuple, info: Any) -> Any:
    """The one member of a union ``value`` plainly fits (two or none: unsure)."""
    fits = []
    for member in members:
        try:
            fits.append(_value(value, member, info))
        except _Unsure:
            continue
    if len(fits) != 1:
        raise _Unsure
    return fits[0]


def _constrained(value: Any, mark: Any, info: Any) -> Any:
    try:
        if isinstance(mark, Checked):  # Within, HttpURL, EmailAddress
            return mark.check(value)
        if type(mark) is SectionName:
            return mark.check(value, info)
    except ValueError:
        raise _Unsure from None
    raise _Unsure
