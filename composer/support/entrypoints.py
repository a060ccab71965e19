"""Entry points of installed distributions, read from their metadata files directly.

importlib.metadata would do, but importing it costs more than the rest of
``composer --help``; a ``composer`` group is a few lines of one file.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class EntryPoint:
    """An entry point of the ``composer`` group, found without importlib.metadata."""

    name: str
    value: str
    dist: str
    version: str

    def load(self) -> Any:
        module, _, attr = self.value.partition(":")
        obj = importlib.import_module(module.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
        return obj


def entry_points(group: str) -> list[EntryPoint]:
    """Entry points of ``group`` in the installed distributions on ``sys.path``.

    Reads ``*.dist-info/entry_points.txt`` directly: importing importlib.metadata
    costs more than the rest of ``composer --help``.
    """
    found: dict[tuple[str, str], EntryPoint] = {}
    for folder in sys.path:
        try:
            entries = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in entries:
            if not entry.endswith((".dist-info", ".egg-info")):
                continue
            meta = Path(folder or ".") / entry
            try:
                text = (meta / "entry_points.txt").read_text(encoding="utf-8")
            except OSError:
                continue
            points = _group(text, group)
            if not points:
                continue
            dist, version = _name_version(meta, entry)
            for name, value in points:
                found.setdefault((dist, name), EntryPoint(name, value, dist, version))
    return list(found.values())


def _group(text: str, group: str) -> list[tuple[str, str]]:
    points, inside = [], False
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            inside = line[1:-1].strip() == group
        elif inside and "=" in line and not line.startswith(("#", ";")):
            name, _, value = line.partition("=")
            points.append((name.strip(), value.strip()))
    return points


def _name_version(meta: Path, entry: str) -> tuple[str, str]:
    """The distribution's name and version as its metadata spells them."""
    name = version = ""
    for filename in ("METADATA", "PKG-INFO"):
        try:
            with open(meta / filename, encoding="utf-8") as fh:
                for line in fh:
                    if not line.strip():
                        break
                    if line.startswith("Name:"):
                        name = line[5:].strip()
                    elif line.startswith("Version:"):
                        version = line[8:].strip()
            break
        except OSError:
            continue
    stem = entry.rsplit(".", 1)[0]
    fallback_name, _, fallback_version = stem.partition("-")
    return name or fallback_name, version or fallback_version
