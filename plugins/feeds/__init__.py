"""External RSS/Atom feeds: collected each week, written in the dialect as a link list.

``[feeds] urls`` are fetched concurrently (bounded), each within its own timeout and
size cap, with conditional GET (ETag / Last-Modified kept in the state). Entries
dated inside the issue's ISO week are kept (undated ones once); their HTML is
sanitised with nh3 down to a short plain summary. A broken feed is one warning
naming its URL; its last good copy is used instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from composer import api
from composer.api import hookimpl

FORBID = {"extra": "forbid"}


@dataclass
class FeedSource:
    __pydantic_config__ = FORBID
    url: Annotated[str, api.HttpURL()]
    name: str = ""
    section: Annotated[str, api.SectionName(holds="link")] = "feeds"


@dataclass
class FeedsConfig:
    """``[feeds]`` in composer.toml."""

    __pydantic_config__ = FORBID
    urls: list[Annotated[str, api.HttpURL()] | FeedSource] = field(default_factory=list)
    timeout: Annotated[float, api.Within(0, 600, above=True)] = 10.0
    max_bytes: Annotated[int, api.Within(1, 1_000_000_000)] = 5_000_000
    concurrency: Annotated[int, api.Within(1, 256)] = 16
    max_entries: Annotated[int, api.Within(0, 10_000)] = 100  # per feed and week; 0: all
    summary_chars: Annotated[int, api.Within(1, 10_000)] = 240

    def sources(self) -> list[FeedSource]:
        return [FeedSource(u) if isinstance(u, str) else u for u in self.urls]


class Feeds:
    name = "feeds"
    title = "外部订阅"
    aliases = ("订阅", "Feeds", "From the web", "来自订阅")
    kinds = ("link",)
    config = FeedsConfig

    def sniff(self, block: api.Block) -> float:
        return 0.0  # feed items arrive under their own heading

    def parse(self, block: api.Block) -> list[api.Item]:
        return api.parse_link_list(block, "link")

    def serialize(self, items: list[api.Item]) -> str:
        return api.serialize_link_list(items)

    def collect(self, ctx) -> list[api.Item]:
        config = ctx.config_for(self.name)
        if not config or not config.urls:
            return []
        from composer.plugins.feeds.fetch import collect_feeds

        return collect_feeds(config, ctx)


@hookimpl
def register_sections(register):
    register(Feeds())


@hookimpl
def register_commands(cli):
    import click

    @cli.command()
    @click.option("--check", is_flag=True, help="Fetch every feed now; change nothing.")
    @api.workspace_option
    def feeds(check, workspace):
        """Feed health per [feeds] URL; --check fetches them now (status, entries, errors)."""
        from composer.plugins.feeds.report import check_now, health

        with api.open_context(workspace) as ctx:
            (check_now if check else health)(ctx)
