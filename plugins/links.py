"""Link lists: ``- title: url`` items, an optional indented note and ``来源：`` source."""

from __future__ import annotations

from composer import api
from composer.api import hookimpl

KIND = "link"


class Links:
    name = "links"
    title = "链接"
    aliases = ("链接分享", "Links", "延伸阅读", "推荐阅读", "外部链接", "相关链接")
    kinds = (KIND,)
    config = None

    def sniff(self, block: api.Block) -> float:
        return api.link_list_score(block)

    def parse(self, block: api.Block) -> list[api.Item]:
        return api.parse_link_list(block, KIND)

    def serialize(self, items: list[api.Item]) -> str:
        return api.serialize_link_list(items)

    def url_score(self, url: str) -> float:
        """``composer add``: any link fits a link list."""
        return 0.5

    def item_for_url(self, url: str, note: str) -> api.Item:
        """The editor's ``--note`` is text, not Markdown: it is shown as typed."""
        return api.Item(
            KIND, url=api.dialect_url(url), text=api.literal_markdown(api.clean_line(note))
        )


@hookimpl
def register_sections(register):
    register(Links())
