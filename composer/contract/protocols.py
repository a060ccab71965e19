"""What plugins register and receive: the objects' protocols and the run's context.

Required attributes are declared on each Protocol; optional ones are listed in its
docstring and looked up with ``getattr`` by the core. The core checks every
registered object against its protocol when it is registered (a missing attribute
is an error naming the plugin). This module imports nothing else from composer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, runtime_checkable

if TYPE_CHECKING:
    from composer.contract.model import Issue, Item, Section


# -- problems and warnings -----------------------------------------------------------
@dataclass(frozen=True)
class Warning_:
    """A problem worth telling the editor about, with the place it concerns."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class Report:
    """The warnings of one run, each once, in the order first seen."""

    def __init__(self) -> None:
        self._seen: dict[Warning_, None] = {}

    def warn(self, where: str, message: str) -> None:
        self._seen.setdefault(Warning_(where, message), None)

    @property
    def warnings(self) -> list[Warning_]:
        return list(self._seen)

    def __len__(self) -> int:
        return len(self._seen)

    def __iter__(self) -> Iterator[Warning_]:
        return iter(list(self._seen))


@dataclass
class Problem:
    """One finding of ``composer check``: blocking ones stop ``composer send``."""

    output: str  # the file (or "issue", "config") it concerns
    rule: str  # a short name: lost-url, script, size ...
    message: str
    line: int = 0
    blocking: bool = True

    def __str__(self) -> str:
        where = f"{self.output}:{self.line}" if self.line else self.output
        return f"{where}: [{self.rule}] {self.message}"


# -- parsing ---------------------------------------------------------------------------
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
        """The lines joined, without leading and trailing blank lines."""
        lines = list(self.lines)
        while lines and not lines[0].strip():
            lines.pop(0)
        while lines and not lines[-1].strip():
            lines.pop()
        return "\n".join(lines)

    def where(self, offset: int = 0) -> str:
        """``file:line`` of the block's line ``offset``."""
        return f"{self.file}:{self.line + offset}"


@runtime_checkable
class SectionType(Protocol):
    """A kind of section: reads and writes its part of the dialect.

    Optional attributes: ``config`` (a pydantic model or dataclass validating the
    top-level table ``[<name>]``; a property importing pydantic lazily keeps start-up
    fast), ``kinds`` (the item kinds ``serialize`` can write; collected items of other
    kinds never go to this section), ``collect(ctx) -> list[Item]`` (items from
    elsewhere for ``ctx.issue_id``), ``url_score(url) -> float`` and
    ``item_for_url(url, note) -> Item`` (``composer add URL`` asks every section type
    and uses the highest score above 0).
    """

    name: str
    title: str
    aliases: tuple[str, ...]

    def sniff(self, block: Block) -> float: ...

    def parse(self, block: Block) -> list[Item]: ...

    def serialize(self, items: list[Item]) -> str: ...


def section_title(section: Section, types: Mapping[str, Any], fallback: str = "") -> str:
    """The heading of ``section``: the editor's, else its type's default, else ``fallback``."""
    if section.title:
        return section.title
    stype = types.get(section.kind)
    return stype.title if stype is not None else fallback


# -- rendering -------------------------------------------------------------------------
@runtime_checkable
class Renderer(Protocol):
    """An output format: ``render`` returns {file name: text or bytes}.

    ``outputs`` names every file it writes. Optional attributes: ``faithful`` (the
    outputs that must carry every URL and sentence of the source; the core checks
    them, reading ``.html`` files as HTML and others as text), ``check(files, ctx)
    -> list[Problem]`` (its own client rules over {file name: text} of its
    outputs), ``after`` (names of renderers whose outputs it reads from
    ``ctx.rendered``: they run first), ``config``, ``preview(files) -> list[Preview]``
    (what ``composer preview`` shows of its outputs, given {file name: text} of
    them: one frame per :class:`Preview`).
    """

    name: str
    outputs: tuple[str, ...]

    def render(self, issue: Issue, ctx: RenderContext) -> dict[str, str | bytes]: ...


class Preview(NamedTuple):
    """One frame of ``composer preview``: a caption, a whole HTML page, its width.

    The page is served from its own URL on 127.0.0.1 in an iframe that may write to
    the clipboard (``allow="clipboard-write"``).
    """

    caption: str
    page: str
    width: int = 375


# -- delivery --------------------------------------------------------------------------
@dataclass
class Delivery:
    """One issue on its way out: its rendered files and who should get it."""

    issue: Issue
    outputs: dict[str, Path]  # file name -> path of the freshly rendered file
    to: list[str] = field(default_factory=list)  # `composer send --to`: replaces recipients

    def read(self, name: str) -> str:
        return self.outputs[name].read_text(encoding="utf-8")


class DeliveryError(Exception):
    """A delivery that failed; ``str()`` is one line the editor can act on.

    ``delivered``: where it went all the same (some recipients took it): it is
    recorded, so nothing is sent there twice, and the send still fails. ``uncertain``:
    it may have gone out (the server took the message but its answer never came):
    nothing is retried until the editor has looked and sends with ``--resend``.
    """

    def __init__(self, message: str, delivered: str = "", uncertain: bool = False) -> None:
        super().__init__(message)
        self.delivered, self.uncertain = delivered, uncertain


@runtime_checkable
class Deliverer(Protocol):
    """A delivery target; runs only when its table (``config_key``) is in composer.toml.

    Optional: ``config``, ``check(files, ctx) -> list[Problem]`` (this target's limits
    over {file name: text} of the rendered outputs; run by ``composer check`` and
    before sending when its table is present; blocking problems stop the send),
    ``takes_recipients`` (True when ``delivery.to`` replaces its recipients: only such
    targets run for ``composer send --to``, a proof).
    """

    name: str
    config_key: str

    def describe(self, delivery: Delivery, ctx: Context) -> str:
        """What ``deliver`` would do, for ``--dry-run`` (no side effects)."""

    def deliver(self, delivery: Delivery, ctx: Context) -> str:
        """Deliver; return where it went (recorded). Raise DeliveryError on failure."""


# -- state -----------------------------------------------------------------------------
class Table(Protocol):
    """A plugin's own key-value table in the workspace state (``ctx.state.table(name)``).

    Keys are strings; values are JSON-serialisable or bytes. Each call commits.
    """

    def get(self, key: str, default: Any = None) -> Any: ...

    def put(self, key: str, value: Any) -> None: ...

    def setdefault(self, key: str, value: Any) -> Any: ...

    def delete(self, key: str) -> None: ...

    def items(self, prefix: str = "") -> list[tuple[str, Any]]: ...


class StateAPI(Protocol):
    """The workspace's persistent state as plugins see it."""

    def table(self, name: str) -> Table: ...


# -- run context -----------------------------------------------------------------------
@dataclass
class Context:
    """What a run knows: settings, where it works, whether it may use the network."""

    settings: Any = None
    workspace: Path | None = None
    issue_id: str = ""
    offline: bool = False
    report: Report = field(default_factory=Report)
    state: StateAPI | None = None
    plugin_config: dict[str, Any] = field(default_factory=dict)
    config_models: dict[str, Any] = field(default_factory=dict)

    def warn(self, where: str, message: str) -> None:
        self.report.warn(where, message)

    def config_for(self, name: str) -> Any:
        """The validated config of table ``name``; its defaults when the table is
        absent; None for a name no plugin declares."""
        if name not in self.plugin_config and name in self.config_models:
            self.plugin_config[name] = self.config_models[name]()
        return self.plugin_config.get(name)


@dataclass
class RenderContext(Context):
    """A Context plus what renderers need: Jinja, the section types, the theme's words.

    ``page`` holds the variables every page template gets (``issue`` is added by
    :meth:`page_vars`); ``rendered`` the outputs of renderers that ran before.
    """

    env: Any = None
    sections: dict[str, SectionType] = field(default_factory=dict)
    strings: dict[str, str] = field(default_factory=dict)
    page: dict[str, Any] = field(default_factory=dict)
    rendered: dict[str, str | bytes] = field(default_factory=dict)
    memo: dict[Any, Any] = field(default_factory=dict)
    passed: dict[str, set[str]] = field(default_factory=dict)  # template -> variable names

    def page_vars(self, issue: Issue, **extra: Any) -> dict[str, Any]:
        """Variables for a page template: ``page``, the issue, and ``extra``."""
        return {**self.page, "issue": issue, "ctx": self, **extra}

    def render_page(self, template: str, issue: Issue, **helpers: Any) -> str:
        """Render the page template ``template`` with :meth:`page_vars` and ``helpers``
        (the format's ``md``, ``turn`` ...); section templates see the same names."""
        variables = self.page_vars(issue, **helpers)
        self.passed.setdefault(template, set()).update(variables)
        return self.env.get_template(template).render(variables)

    def section_title(self, section: Section) -> str:
        """The heading to print for ``section``."""
        return section_title(section, self.sections, self.strings.get("notes", ""))


Registrar = Callable[..., None]
