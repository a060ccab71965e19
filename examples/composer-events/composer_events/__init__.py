"""composer-events: an 「活动日历」 section for newsletter-composer.

Events come from iCalendar files or URLs listed in ``[events] calendars`` and from
notes written as ``- WHEN · TITLE[ · PLACE][ URL]`` lines.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from composer import api
from composer.api import NOTE, Item, hookimpl

COMPOSER_API = "1"
KIND = "event"
LINE = re.compile(r"^ {0,3}- (?P<when>\d{4}-\d{2}-\d{2}(?: \d{1,2}:\d{2})?) · (?P<rest>.+)$")


@dataclass
class EventsConfig:
    """``[events]`` in composer.toml."""

    __pydantic_config__ = {"extra": "forbid"}
    calendars: list[str] = field(default_factory=list)
    days: int = 21


class Events:
    name = "events"
    title = "活动日历"
    aliases = ("活动", "Events", "日历")
    config = EventsConfig

    def sniff(self, block) -> float:
        lines = [ln for ln in block.lines if ln.strip()]
        hits = sum(1 for ln in lines if LINE.match(ln))
        return 0.8 if lines and hits == sum(1 for ln in lines if not ln.startswith(" ")) else 0.0

    def parse(self, block) -> list[Item]:
        items: list[Item] = []
        notes: list[str] = []  # indented lines (and blank ones) under the last event

        def close() -> None:
            if items and items[-1].kind == KIND:
                items[-1].text = api.trim_lines("\n".join(notes))
            notes.clear()

        for offset, line in enumerate(block.lines):
            m = LINE.match(line)
            if m:
                close()
                items.append(event_item(m.group("when"), m.group("rest"), block.where(offset)))
            elif items and items[-1].kind == KIND and (not line.strip() or line[:1] in " \t"):
                notes.append(line.strip())
            elif items and items[-1].kind == NOTE:
                items[-1].text += "\n" + line
            elif not line.strip():
                continue
            else:
                close()
                items.append(Item(NOTE, text=line, origin=block.where(offset)))
        close()
        for item in items:
            if item.kind == NOTE:
                item.text = api.trim_lines(item.text)
        return items

    def serialize(self, items: list[Item]) -> str:
        out = []
        for item in items:
            parts = [item.meta["when"], item.title] + (
                [item.meta["place"]] if item.meta.get("place") else []
            )
            line = "- " + " · ".join(parts) + (f" {item.url}" if item.url else "")
            note = "".join(f"\n    {ln}" if ln.strip() else "\n" for ln in item.text.split("\n"))
            out.append(line + (note if item.text else ""))
        return "\n".join(out)

    def collect(self, ctx) -> list[Item]:
        config = ctx.config_for(self.name)
        if not config or not config.calendars:
            return []
        from composer.api import week_bounds

        zone = ctx.settings.newsletter.timezone
        start, _ = week_bounds(ctx.issue_id, zone)
        end = start + dt.timedelta(days=config.days)
        items = []
        for source in config.calendars:
            text = read_calendar(source, ctx)
            if text is None:
                continue
            from .ics import read_events

            for event in read_events(text, zone):
                moment = event.start
                if isinstance(moment, dt.date) and not isinstance(moment, dt.datetime):
                    moment = dt.datetime.combine(moment, dt.time(), start.tzinfo)
                if start <= moment < end:
                    items.append(from_event(event, zone, source))
        return sorted(items, key=lambda i: i.meta["when"])


def event_item(when: str, rest: str, origin: str) -> Item:
    from composer.api import find_urls

    urls = find_urls(rest)
    url = ""
    if urls:
        begin, finish, url = urls[-1]
        rest = (rest[:begin] + rest[finish:]).strip()
    title, _, place = rest.partition(" · ")
    meta = {"when": when}
    if place.strip():
        meta["place"] = place.strip()
    return Item(KIND, title=title.strip(), url=url, meta=meta, origin=origin)


def from_event(event, zone: str, source: str) -> Item:
    from zoneinfo import ZoneInfo

    if isinstance(event.start, dt.datetime):
        when = event.start.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    else:
        when = event.start.isoformat()
    meta = {"when": when}
    if event.location:
        meta["place"] = event.location
    return Item(
        KIND,
        title=event.title,
        url=event.url,
        text=event.description.strip(),
        meta=meta,
        origin=source,
    )


def read_calendar(source: str, ctx) -> str | None:
    """An .ics file (relative to the workspace) or an http(s) URL; None when unreadable."""
    if source.startswith(("http://", "https://")):
        if ctx.offline:
            return None
        from composer.api import FetchError, http_get

        try:  # composer's client: size and time caps, the network policy
            response = http_get(source, timeout=10, max_bytes=2_000_000)
        except FetchError as exc:
            ctx.warn(source, f"calendar not fetched: {exc}")
            return None
        if response.status >= 400:
            ctx.warn(source, f"calendar not fetched: HTTP {response.status}")
            return None
        return response.content.decode("utf-8", "replace")
    path = Path(source)
    if not path.is_absolute() and ctx.workspace:
        path = ctx.workspace / path
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        ctx.warn(str(path), f"calendar not read: {exc.strerror}")
        return None


@hookimpl
def register_sections(register):
    register(Events())
