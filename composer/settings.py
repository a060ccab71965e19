"""The core settings: plain dataclasses, so a run without composer.toml needs no pydantic.

``composer.config`` validates composer.toml against these same classes (pydantic
validates dataclasses; ``__pydantic_config__`` forbids unknown keys).
"""

from __future__ import annotations

from dataclasses import dataclass, field

FORBID = {"extra": "forbid"}


@dataclass
class NewsletterSettings:
    __pydantic_config__ = FORBID
    title: str = "AI 研究周报"
    language: str = "zh-CN"
    timezone: str = "Asia/Shanghai"
    sections: list[str] = field(default_factory=list)
    url: str = ""
    unsubscribe_url: str = "mailto:unsubscribe@example.org?subject=unsubscribe"
    author: str = ""


@dataclass
class PluginsSettings:
    __pydantic_config__ = FORBID
    disable: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    collect_timeout: float = 60.0  # seconds a section's collect may take


@dataclass
class Settings:
    __pydantic_config__ = FORBID
    newsletter: NewsletterSettings = field(default_factory=NewsletterSettings)
    plugins: PluginsSettings = field(default_factory=PluginsSettings)
