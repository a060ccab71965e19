"""WeChat-ready Markdown (``wechat.md``) for doocs/md-style editors.

Only mp.weixin.qq.com links stay links; every other link becomes
``text<sup>[n]</sup>`` with a 「引用链接」 list at the end (numbered by first use,
a repeated URL keeps its number). Bare URLs stay plain text, spaced off CJK text.
``$`` and ``~`` are escaped, lists are at most two levels deep, labels are written
``**Q**：``, and the file carries no front matter.
"""

from __future__ import annotations

import re

from composer import api
from composer.api import hookimpl

WEIXIN = re.compile(r"^https?://mp\.weixin\.qq\.com/", re.I)
BARE_OPEN, BARE_CLOSE = "\x02", "\x03"


class Citations:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self.numbers: dict[str, int] = {}

    def cite(self, title: str, url: str) -> int:
        if url not in self.numbers:
            self.entries.append((title, url))
            self.numbers[url] = len(self.entries)
        return self.numbers[url]


def wechat_writer(citations: Citations, image_word: str = "image"):
    from composer.api import MarkdownWriter, markdown_node_text

    class WechatWriter(MarkdownWriter):
        hard_break = "\n"
        max_list_depth = 2
        ESCAPE = re.compile(r"([\\`*\[\]$~])")

        def span(self, node) -> str:
            if node.type == "link" and node.info != "bare":
                title = node.attrs.get("title") or markdown_node_text(node)
                return self.cite_link(self.inline(node), str(node.attrs.get("href", "")), title)
            return super().span(node)

        def cite_link(self, text: str, url: str, title: str) -> str:
            """``text`` (Markdown) with its citation number; ``title`` is plain text."""
            if WEIXIN.match(url):
                return self.link(text, url, "")
            title = " ".join(title.split())
            if title == url:
                return self.bare_url(url)
            n = citations.cite(title or url, url)
            return f"{text}<sup>[{n}]</sup>"

        def bare_url(self, url: str) -> str:
            return f"{BARE_OPEN}{url}{BARE_CLOSE}"

        def image(self, alt: str, url: str) -> str:
            citations.cite(alt or image_word, url)
            return super().image(alt, url)

        def strong(self, text: str) -> str:
            # `**Q：**正文` is not bold in the editor: keep closing punctuation outside.
            m = re.match(r"^(.*?)([:：,，.。;；!！?？、]+)$", text, re.S)
            if m and m.group(1).strip():
                return f"**{m.group(1)}**{m.group(2)}"
            return super().strong(text)

        def paragraph(self, text: str) -> str:
            return space_bare_urls(super().paragraph(text))

        def heading(self, level: int, text: str) -> str:
            return space_bare_urls(super().heading(level, text))

    return WechatWriter()


def space_bare_urls(text: str) -> str:
    """A bare URL glued to text swallows it in the editor: put spaces around it."""
    text = re.sub(rf"(?<=[^\s{BARE_CLOSE}]){BARE_OPEN}", " " + BARE_OPEN, text)
    text = re.sub(rf"{BARE_CLOSE}(?=[^\s{BARE_OPEN}])", BARE_CLOSE + " ", text)
    return text.replace(BARE_OPEN, "").replace(BARE_CLOSE, "")


class WechatRenderer:
    name = "wechat"
    outputs = ("wechat.md",)
    faithful = ("wechat.md",)
    config = None

    def check(self, files, ctx):
        from composer.plugins.wechat_rules import wechat_rules

        return wechat_rules(files["wechat.md"]) if "wechat.md" in files else []

    def render(self, issue, ctx):
        label_first, squeeze = api.label_first, api.squeeze
        citations = Citations()
        writer = wechat_writer(citations, ctx.strings.get("image", "image"))

        def md(text: str) -> str:
            return writer.write(text)

        def turn(label: str, text: str) -> str:
            return label_first(f"**{writer.escape(label)}**：", md(text))

        def cite_line(n: int, title: str, url: str) -> str:
            return f"[{n}] {writer.plain(title)}: {url}"

        def link(title: str, url: str) -> str:
            text = writer.plain(title) if title else writer.escape(url)
            if not url:
                return text
            if not title or title == url:
                return space_bare_urls(writer.bare_url(url))
            return writer.cite_link(text, url, title)

        body = ctx.env.get_template("issue.wechat.j2").render(
            **ctx.page_vars(issue),
            md=md,
            turn=turn,
            fmt="wechat",
            link=link,
            quote=api.blockquote,
            citations=citations,
            cite_line=cite_line,
            esc=writer.escape,
            plain=writer.plain,
        )
        return {"wechat.md": squeeze(body)}


@hookimpl
def register_renderers(register):
    register(WechatRenderer())
