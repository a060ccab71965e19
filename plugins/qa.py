"""Short Q&A: threads of ``Q:`` / ``A:`` / ``A1:`` / ``Q1-continue:`` / ``F:`` turns."""

from __future__ import annotations

from composer import api
from composer.api import hookimpl


def opens_qa(label: str) -> bool:
    """A question opens a thread (``Q1-continue`` carries on the current one); so does
    ``D``/``D(Discussion)``, under a combined 简短问答&讨论&杂谈 heading."""
    if label.startswith("D"):
        return True
    return label.startswith("Q") and "continue" not in label.lower()


class QA:
    name = "qa"
    title = "简短问答"
    aliases = ("问答", "Q&A", "QA", "简短问答&讨论&杂谈", "问答&讨论", "简短问答&杂谈")
    kinds = ("qa",)
    config = None

    def sniff(self, block: api.Block) -> float:
        return api.thread_score(block, opens_qa)

    def parse(self, block: api.Block) -> list[api.Item]:
        return api.parse_threads(block, "qa", opens_qa)

    def serialize(self, items: list[api.Item]) -> str:
        return "\n\n".join(api.serialize_turns(item.turns) for item in items)


@hookimpl
def register_sections(register):
    register(QA())
