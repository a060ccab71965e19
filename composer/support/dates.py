"""Issue dates: the day an issue carries, reading the dates editors write, showing them.

An issue is dated a day of its own ISO week: the weekday ``[schedule] cron`` fires on
(the first it names, Monday first), else Friday. Front matter may say otherwise, in any
common form; it is shown in the newsletter's language without the process locale.
"""

from __future__ import annotations

import datetime as dt
import re

from composer.support.crontab import CronError, cron_fields

FRIDAY = 5
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
DEFAULT_FORMAT = "{year}-{month:02}-{day:02}"

NUMERIC = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:(?:T|\s+)(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.(?P<f>\d{1,6})\d*)?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
CHINESE = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*[日号]"
    r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2}))?"
)
ENGLISH = re.compile(
    r"(?:[A-Za-z]+,?\s+)?(?:(?P<d1>\d{1,2})\s+(?P<m1>[A-Za-z]{3,})\.?,?|"
    r"(?P<m2>[A-Za-z]{3,})\.?\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?)\s+(?P<y>\d{4})"
)


def schedule_weekday(cron: str | None) -> int:
    """ISO weekday (1 = Monday) an issue is dated: the first day ``cron`` names, else Friday."""
    if not cron:
        return FRIDAY
    try:
        days = cron_fields(cron)["day_of_week"]
    except CronError:
        return FRIDAY
    first = days.split(",")[0]
    return WEEKDAYS.index(first) + 1 if first in WEEKDAYS else FRIDAY


def issue_day(issue_id: str, cron: str | None = None) -> dt.date | None:
    """The day issue ``2023-W47`` is dated (None for an id that is no ISO week)."""
    m = re.fullmatch(r"(\d{4})-W(\d{2})", issue_id or "")
    if not m:
        return None
    try:
        return dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), schedule_weekday(cron))
    except ValueError:
        return None


def parse_when(text: str) -> dt.date | dt.datetime | None:
    """The date (or date and time) ``text`` names, or None: ``2023-02-28``,
    ``2023-02-28T15:30:03+00:00``, ``2023-02-28 15:30``, ``2023/2/28``, ``2023年2月28日``,
    ``28 February 2023``, ``Feb 28, 2023``, ``Tue, 28 Feb 2023 15:30:03 +0000``."""
    text = str(text).strip()
    try:
        return _numeric(text) or _chinese(text) or _english(text)
    except ValueError:  # 2023-02-30, 25:00 ...
        return None


def _numeric(text: str) -> dt.date | dt.datetime | None:
    m = NUMERIC.fullmatch(text)
    if not m:
        return None
    day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    if not m["H"]:
        return day
    micro = int((m["f"] or "0").ljust(6, "0"))
    when = dt.datetime(
        day.year, day.month, day.day, int(m["H"]), int(m["M"]), int(m["S"] or 0), micro
    )
    if m["tz"]:
        when = when.replace(tzinfo=_zone(m["tz"]))
    return when


def _zone(text: str) -> dt.timezone:
    if text == "Z":
        return dt.UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _chinese(text: str) -> dt.date | dt.datetime | None:
    m = CHINESE.fullmatch(text)
    if not m:
        return None
    day = dt.date(int(m["y"]), int(m["m"]), int(m["d"]))
    if not m["H"]:
        return day
    return dt.datetime(day.year, day.month, day.day, int(m["H"]), int(m["M"]))


def _english(text: str) -> dt.date | dt.datetime | None:
    m = ENGLISH.fullmatch(text)
    if m:
        month = _month(m["m1"] or m["m2"])
        return dt.date(int(m["y"]), month, int(m["d1"] or m["d2"])) if month else None
    import email.utils

    try:
        return email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None


def _month(name: str) -> int | None:
    name = name.lower()
    for n, month in enumerate(MONTHS, 1):
        if len(name) >= 3 and month.lower().startswith(name):
            return n
    return None


def machine_date(when: dt.date | dt.datetime) -> str:
    """ISO 8601, as Hugo reads it: ``2023-02-28`` or ``2023-02-28T15:30:00+08:00``."""
    if isinstance(when, dt.datetime):
        return when.isoformat(timespec="seconds")
    return when.isoformat()


def show_date(text: str, pattern: str = DEFAULT_FORMAT, months: list[str] | None = None) -> str:
    """``text`` as a reader's date: ``pattern`` takes {year}, {month}, {day} and
    {month_name} (from ``months``, English by default). Text that is no date stays as typed."""
    when = parse_when(text) if text else None
    if when is None:
        return str(text or "")
    names = months if months and len(months) == 12 else MONTHS
    fields = {"year": when.year, "month": when.month, "day": when.day}
    fields["month_name"] = names[when.month - 1]
    if "{" not in pattern and "%" in pattern:  # strftime style, without the locale
        pattern = re.sub(r"%(-?)([YmdB%])", lambda m: STRFTIME[m.group(1) + m.group(2)], pattern)
    try:
        return pattern.format(**fields)
    except (KeyError, IndexError, ValueError):
        return DEFAULT_FORMAT.format(**fields)


STRFTIME = {
    "Y": "{year}",
    "m": "{month:02}",
    "d": "{day:02}",
    "-m": "{month}",
    "-d": "{day}",
    "B": "{month_name}",
    "%": "%",
    "-Y": "{year}",
    "-B": "{month_name}",
    "-%": "%",
}
