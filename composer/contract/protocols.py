"""The objects plugins register and receive: Block, SectionType, Renderer, Deliverer,
Context."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    from composer.contract.model import Issue, Item


@dataclass
class Warning_:
    """A problem worth telling the editor about, with the place it concerns."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


@dataclass
class Report:
    """Collects warnings during a run; the CLI prints them."""

    warnings: list[Warning_] = field(default_factory=list)

    def warn(self, where: str, message: str) -> None:
        w = Warning_(where, message)
        if w not in self.warnings:
            self.warnings.append(w)


@dataclass
class Block:
    """A run of source lines under one heading (or none), as the core split it."""

    lines: list[str]
    file: str = "<text>"
    line: int = 1
    heading: str | None = None
    level: int = 2

    @property
    def text(self) -> str:
        from composer.support.text import trim_lines

        return trim_lines("\n".join(self.lines))

    def where(self, offset: int = 0) -> str:
        return f"{self.file}:{self.line + offset}"

    def paragraphs(self) -> Iterator[tuple[int, list[str]]]:
        """(offset, lines) of each blank-line separated paragraph, code fences kept whole."""
        start, buf, fence = 0, [], None
        for i, line in enumerate(self.lines):
            stripped = line.strip()
            if fence is None and not stripped:
                if buf:
                    yield start, buf
                buf = []
                continue
            if not buf:
                start = i
            buf.append(line)
            if stripped.startswith(("```", "~~~")):
                marker = stripped[:3]
                fence = None if fence == marker else (fence or marker)
        if buf:
            yield start, buf


@runtime_checkable
class SectionType(Protocol):
    """A kind of section. Built-ins live in ``composer.plugins``.

    ``config`` is a pydantic model class (or None) validating the top-level
    composer.toml table named ``name``; import pydantic lazily (a property).
    """

    name: str
    title: str
    aliases: tuple[str, ...]

    def sniff(self, block: Block) -> float: ...

    def parse(self, block: Block) -> list[Item]: ...

    def serialize(self, items: list[Item]) -> str: ...


@runtime_checkable
class Renderer(Protocol):
    """An output format: ``render`` returns {file name: text or bytes}."""

    name: str
    outputs: tuple[str, ...]

    def render(self, issue: Issue, ctx: RenderContext) -> dict[str, str | bytes]: ...


@dataclass
class Delivery:
    """One issue on its way out: its rendered files and who should get it."""

    issue: Issue
    outputs: dict[str, Path]  # file name (email.html, post.md ...) -> path
    to: list[str] = field(default_factory=list)  # `composer send --to`: replaces recipients

    def read(self, name: str) -> str:
        return self.outputs[name].read_text(encoding="utf-8")


class DeliveryError(Exception):
    """A delivery that failed; ``str()`` is one line the editor can act on."""


@runtime_checkable
class Deliverer(Protocol):
    """A delivery target. Runs only when its table (``config_key``) is in composer.toml."""

    name: str
    config_key: str

    def describe(self, delivery: Delivery, ctx: Context) -> str:
        """What ``deliver`` would do, for ``--dry-run`` (no side effects)."""

    def deliver(self, delivery: Delivery, ctx: Context) -> str:
        """Deliver; return where it went (recorded). Raise DeliveryError on failure."""


@dataclass
class Context:
    """What a run knows: settings, where it works, whether it may use the network."""

    settings: Any = None
    workspace: Path | None = None
    issue_id: str = ""
    offline: bool = False
    report: Report = field(default_factory=Report)
    state: Any = None
    plugin_config: dict[str, Any] = field(default_factory=dict)

    def warn(self, where: str, message: str) -> None:
        self.report.warn(where, message)

    config_models: dict[str, Any] = field(default_factory=dict)

    def config_for(self, name: str) -> Any:
        """The validated config of plugin table ``name``; its defaults when the table is
        absent; None for a name no plugin declares."""
        if name not in self.plugin_config and name in self.config_models:
            self.plugin_config[name] = self.config_models[name]()
        return self.plugin_config.get(name)


@dataclass
class RenderContext(Context):
    """A Context plus the Jinja environment and the section types, for renderers."""

    env: Any = None
    sections: dict[str, SectionType] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)  # results renderers share in a run

    def page_vars(self, issue) -> dict[str, Any]:
        """Variables every page template gets besides the issue."""
        newsletter = self.settings.newsletter
        web_url = newsletter.url.replace("{id}", issue.id) if newsletter.url else ""
        return {
            "issue": issue,
            "ctx": self,
            "t": self.strings,
            "web_url": web_url,
            "unsubscribe_url": newsletter.unsubscribe_url,
        }

    def section_title(self, section) -> str:
        """The heading to print for ``section``: the editor's, else the type's default."""
        if section.title:
            return section.title
        stype = self.sections.get(section.kind)
        return stype.title if stype else self.strings.get("notes", "")
