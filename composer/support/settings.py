"""The core settings: plain dataclasses, so a run without composer.toml needs no pydantic.

``composer.support.config`` validates composer.toml against these same classes (pydantic
validates dataclasses; ``__pydantic_config__`` forbids unknown keys). Numbers are
``Within`` a range (composer.support.constraints), NaN and infinities refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from composer.support.constraints import Within

FORBID = {"extra": "forbid"}


@dataclass
class NoSettings:
    """The table of an object that takes no settings: it must stay empty."""

    __pydantic_config__ = FORBID


@dataclass
class NewsletterSettings:
    __pydantic_config__ = FORBID
    title: str = "AI 研究周报"
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    sections: list[str] = field(default_factory=list)
    url: str = ""
    unsubscribe_url: str = ""
    author: str = ""

    def __post_init__(self) -> None:
        twice = sorted({name for name in self.sections if self.sections.count(name) > 1})
        if twice:
            raise ValueError(f"sections: {', '.join(map(repr, twice))} listed twice (once each)")


@dataclass
class PluginsSettings:
    __pydantic_config__ = FORBID
    disable: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    collect_timeout: Annotated[float, Within(0, 3600, above=True)] = 60.0  # seconds per collect


ACTIONS = ("draft", "draft+send")


@dataclass
class ScheduleSettings:
    """``[schedule]``: when ``composer schedule`` drafts (and sends) the week's issue."""

    __pydantic_config__ = FORBID
    cron: str = ""  # standard 5-field crontab, in `timezone`
    timezone: str = ""  # default: [newsletter] timezone
    action: str = "draft"
    # a missed fire time is caught up within this window (a day to a week)
    catch_up_hours: Annotated[float, Within(24, 168)] = 36.0

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"action: must be one of {', '.join(ACTIONS)}, not {self.action!r}")


@dataclass
class Settings:
    __pydantic_config__ = FORBID
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    plugins: PluginsSettings = field(default_factory=PluginsSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
