"""Chat threads: ``D(Discussion):`` opens a thread, ``F(Follow):`` / ``F1:`` ... follow it."""

from __future__ import annotations

from composer import api
from composer.api import hookimpl


def opens_chat(label: str) -> bool:
    return label.startswith("D")


class Chat:
    name = "chat"
    title = "讨论&杂谈"
    aliases = ("杂谈", "讨论与杂谈", "讨论和杂谈", "闲聊", "Chat", "D/F")
    kinds = ("chat",)
    config = None

    def sniff(self, block: api.Block) -> float:
        return api.thread_score(block, opens_chat) + 0.05

    def parse(self, block: api.Block) -> list[api.Item]:
        return api.parse_threads(block, "chat", opens_chat)

    def serialize(self, items: list[api.Item]) -> str:
        return "\n\n".join(api.serialize_turns(item.turns) for item in items)


@hookimpl
def register_sections(register):
    register(Chat())
