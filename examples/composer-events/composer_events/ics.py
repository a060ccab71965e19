"""A small iCalendar reader: VEVENTs with SUMMARY, DTSTART, LOCATION, URL, DESCRIPTION."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo


@dataclass
class Event:
    start: dt.datetime | dt.date
    title: str
    location: str = ""
    url: str = ""
    description: str = ""


def unfold(text: str) -> list[str]:
    """Content lines with RFC 5545 folding undone."""
    lines: list[str] = []
    for raw in text.replace("\r\n", "\n").split("\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def unescape(value: str) -> str:
    return (
        value.replace("\\n", "\n")
        .replace("\\N", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
    )


def parse_when(value: str, params: dict[str, str], zone: str) -> dt.datetime | dt.date:
    if params.get("VALUE") == "DATE" or len(value) == 8:
        return dt.datetime.strptime(value, "%Y%m%d").date()
    if value.endswith("Z"):
        return dt.datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    local = dt.datetime.strptime(value, "%Y%m%dT%H%M%S")
    return local.replace(tzinfo=ZoneInfo(params.get("TZID", zone)))


def read_events(text: str, zone: str) -> list[Event]:
    """Every VEVENT of an iCalendar text; times without a zone are in ``zone``."""
    events: list[Event] = []
    current: dict[str, tuple[str, dict[str, str]]] | None = None
    for line in unfold(text):
        name_part, _, value = line.partition(":")
        name, *raw_params = name_part.split(";")
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        name = name.upper()
        if name == "BEGIN" and value.upper() == "VEVENT":
            current = {}
        elif name == "END" and value.upper() == "VEVENT" and current is not None:
            if "DTSTART" in current and "SUMMARY" in current:
                events.append(
                    Event(
                        start=parse_when(*current["DTSTART"], zone),
                        title=unescape(current["SUMMARY"][0]),
                        location=unescape(current.get("LOCATION", ("", {}))[0]),
                        url=current.get("URL", ("", {}))[0],
                        description=unescape(current.get("DESCRIPTION", ("", {}))[0]),
                    )
                )
            current = None
        elif current is not None:
            current[name] = (value, params)
    return events
