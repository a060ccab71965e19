"""Standard 5-field crontab lines for APScheduler 3's CronTrigger.

APScheduler 3 numbers weekdays from Monday = 0 (``CronTrigger.from_crontab`` too);
crontab numbers them from Sunday = 0, with 7 also Sunday. :func:`cron_fields`
translates the weekday field into names, so ``5`` and ``fri`` mean Friday in both.
"""

from __future__ import annotations

import datetime as dt

CRON_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class CronError(ValueError):
    """A crontab line we cannot read; ``str()`` says why."""


def _day(token: str) -> int:
    if token.isdigit() and 0 <= int(token) <= 7:
        return int(token)
    if token in CRON_DAYS:
        return CRON_DAYS.index(token)
    raise CronError(f"{token!r} is not a weekday (0-7 or sun..sat; 0 and 7 are Sunday)")


def weekdays(field: str) -> str:
    """A crontab weekday field as APScheduler names: ``"1-5"`` -> ``"mon,tue,wed,thu,fri"``."""
    field = field.strip().lower()
    if field in ("*", "?"):
        return "*"
    days: set[int] = set()
    for part in field.split(","):
        span, slash, step_text = part.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) > 0):
            raise CronError(f"{part!r}: the step after / must be a positive number")
        step = int(step_text) if slash else 1
        if span == "*":
            first, last = 0, 6
        else:
            start, dash, end = span.partition("-")
            first = _day(start)
            last = _day(end) if dash else (7 if slash else first)
            if last < first and last == 0:  # fri-sun: Sunday as 7
                last = 7
            if last < first:
                wrapped = ",".join(str(d % 7) for d in range(first, last + 8))
                raise CronError(f"{part!r}: a range must go forward (use a list: {wrapped})")
        days |= {day % 7 for day in range(first, last + 1, step)}
    monday_first = sorted(days, key=lambda d: (d - 1) % 7)
    return ",".join(CRON_DAYS[d] for d in monday_first)


def cron_fields(expr: str) -> dict[str, str]:
    """CronTrigger keyword arguments for a crontab line (or @weekly, @daily ...)."""
    line = NICKNAMES.get(expr.strip().lower(), expr)
    values = line.split()
    if len(values) != 5:
        raise CronError(
            f"{len(values)} field(s); a crontab line has 5: minute hour day-of-month month "
            "day-of-week (e.g. '0 9 * * fri')"
        )
    minute, hour, day, month, day_of_week = values
    if day not in ("*", "?") and day_of_week not in ("*", "?"):
        raise CronError(
            "both day-of-month and day-of-week are set; crontab would run when either "
            "matches, which APScheduler cannot express: set one of them to *"
        )
    return {
        "minute": minute,
        "hour": hour,
        "day": "*" if day == "?" else day,
        "month": month,
        "day_of_week": weekdays(day_of_week),
    }


def make_trigger(expr: str, timezone: dt.tzinfo):
    """An APScheduler CronTrigger for ``expr`` in ``timezone`` (CronError if invalid)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = cron_fields(expr)
    try:
        return CronTrigger(**fields, timezone=timezone)
    except ValueError as exc:
        for name, value in fields.items():  # name the field APScheduler did not accept
            try:
                CronTrigger(**{name: value})
            except ValueError as field_exc:
                raise CronError(f"{name.replace('_', '-')} {value!r}: {field_exc}") from None
        raise CronError(str(exc)) from None


def fire_times(trigger, after: dt.datetime, until: dt.datetime | None = None, limit: int = 0):
    """Fire times strictly after ``after``: the next ``limit``, or all up to ``until``."""
    found: list[dt.datetime] = []
    previous = None
    now = after + dt.timedelta(microseconds=1)
    while True:
        when = trigger.get_next_fire_time(previous, now)
        if when is None or (until is not None and when > until):
            return found
        found.append(when)
        if limit and len(found) >= limit:
            return found
        previous, now = when, when
