"""Discussion threads: a topic, an optional ``Q:`` and numbered ``研究员N：`` replies."""

from __future__ import annotations

from composer import api
from composer.api import hookimpl

KIND = "discussion"
TOPIC_MAX = 200


def _is_reply(label: str) -> bool:
    return label.startswith(("研究员", "研究者"))


def _is_question(label: str) -> bool:
    return label.startswith("Q")


class Discussions:
    name = "discussions"
    title = "话题讨论"
    aliases = ("讨论", "话题", "专题讨论", "Discussion", "Discussions")
    kinds = (KIND,)
    config = None

    def sniff(self, block: api.Block) -> float:
        segs = api.scan_turns(block)
        replies = [s for s in segs if s.label and _is_reply(s.label)]
        return 0.95 if replies else 0.0

    def parse(self, block: api.Block) -> list[api.Item]:
        segs = api.scan_turns(block)
        items: list[api.Item] = []
        current: api.Item | None = None
        for i, seg in enumerate(segs):
            label = seg.label
            if label is not None:
                asks = _is_question(label)
                if current is None or (asks and (current.turns or "qlabel" in current.meta)):
                    current = api.Item(KIND, origin=block.where(seg.offset))
                    items.append(current)
                if asks and not current.turns and "qlabel" not in current.meta:
                    current.text = seg.text
                    current.meta["qlabel"] = label
                else:
                    current.turns.append(api.Turn(label, seg.text))
                continue
            if label is None and not seg.unknown and self._opens_topic(segs, i, current):
                current = api.Item(KIND, title=seg.text, origin=block.where(seg.offset))
                items.append(current)
            elif label is None and not seg.unknown and current is not None:
                _continue(current, seg.text)
            else:
                items.append(api.Item(api.NOTE, text=seg.text, origin=block.where(seg.offset)))
                current = None
        return items

    @staticmethod
    def _opens_topic(segs, i, current) -> bool:
        """An unlabelled paragraph opens a new topic when replies follow it and it is
        short, the first thing in the block, or followed by a restart (Q, 研究员1)."""
        nxt = _next_label(segs, i)
        if nxt is None:
            return False
        if current is None:
            return True
        if not current.turns and "qlabel" not in current.meta:
            return False
        text = segs[i].text
        if "\n" in text or len(text) > TOPIC_MAX:
            return False
        return _is_question(nxt) or (api.label_number(nxt) or 0) <= 1

    def serialize(self, items: list[api.Item]) -> str:
        out = []
        for item in items:
            parts = [item.title] if item.title else []
            if item.text or "qlabel" in item.meta:
                parts.append(f"{item.meta.get('qlabel', 'Q')}: {item.text}")
            if item.turns:
                parts.append(api.serialize_turns(item.turns))
            out.append("\n\n".join(parts))
        return "\n\n".join(out)


def _next_label(segs, i) -> str | None:
    for seg in segs[i + 1 :]:
        if seg.label is not None:
            return seg.label
        if seg.unknown:
            return None
    return None


def _continue(item: api.Item, text: str) -> None:
    if item.turns:
        item.turns[-1].text = api.trim_lines(item.turns[-1].text + "\n\n" + text)
    elif "qlabel" in item.meta:
        item.text = api.trim_lines(item.text + "\n\n" + text)
    else:
        item.title = api.trim_lines(item.title + "\n\n" + text)


@hookimpl
def register_sections(register):
    register(Discussions())
