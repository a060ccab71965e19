"""Items from external RSS/Atom feeds, written in the dialect as a link list with sources."""

from __future__ import annotations

from composer.plugins.links import parse_link_list, serialize_link_list

from composer.hookspecs import hookimpl
from composer.model import Item
from composer.types import Block


class Feeds:
    name = "feeds"
    title = "外部订阅"
    aliases = ("订阅", "Feeds", "From the web", "来自订阅")
    config = None

    def sniff(self, block: Block) -> float:
        return 0.0  # feed items arrive under their own heading

    def parse(self, block: Block) -> list[Item]:
        return parse_link_list(block)

    def serialize(self, items: list[Item]) -> str:
        return serialize_link_list(items)


@hookimpl
def register_sections(register):
    register(Feeds())
