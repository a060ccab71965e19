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

BARE_OPEN, BARE_CLOSE = "\x02", "\x03"


def wechat_writer(citations, image_word: str = "image"):
    """The Markdown writer of wechat.md, numbering links with ``citations``
    (``composer.api.Citations``, shared with every WeChat output)."""
    from composer.api import CitingWriter, MarkdownWriter

    class WechatWriter(CitingWriter, MarkdownWriter):
        hard_break = "\n"
        max_list_depth = 2
        ESCAPE = re.compile(r"([\\`*\[\]$~])")

        def reference(self, text: str, n: int) -> str:
            return f"{text}<sup>[{n}]</sup>"

        def bare_url(self, url: str) -> str:
            return f"{BARE_OPEN}{url}{BARE_CLOSE}"

        def image(self, alt: str, url: str) -> str:
            citations.image(alt, url, image_word)
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

    writer = WechatWriter()
    writer.citations = citations
    return writer


def space_bare_urls(text: str) -> str:
    """A bare URL glued to text swallows it in the editor: put spaces around it."""
    text = re.sub(rf"(?<=[^\s{BARE_CLOSE}]){BARE_OPEN}", " " + BARE_OPEN, text)
    text = re.sub(rf"{BARE_CLOSE}(?=[^\s{BARE_OPEN}])", BARE_CLOSE + " ", text)
    return text.replace(BARE_OPEN, "").replace(BARE_CLOSE, "")


PREVIEW_PAGE = """<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">
<style>body {{ margin: 0; padding: 16px; font-size: 15px; line-height: 1.75; color: #333;
font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
word-break: break-word; }}
a {{ color: #576b95; }} blockquote {{ margin: 0; padding-left: 10px; border-left: 3px solid #ddd;
color: #666; }} pre {{ white-space: pre-wrap; background: #f6f8fa; padding: 8px; }}
img {{ max-width: 100%; }}</style></head><body>{body}</body></html>"""


def preview_page(md: str) -> str:
    """wechat.md as a doocs/md-style editor shows it: raw <sup> kept, every newline a break."""
    from markdown_it import MarkdownIt

    return PREVIEW_PAGE.format(
        body=MarkdownIt("commonmark", {"html": True, "breaks": True}).render(md)
    )


class WechatRenderer:
    name = "wechat"
    outputs = ("wechat.md",)
    faithful = ("wechat.md",)
    config = None

    def check(self, files, ctx):
        from composer.plugins.wechat.rules import wechat_rules

        return wechat_rules(files["wechat.md"]) if "wechat.md" in files else []

    def preview(self, files):
        if "wechat.md" not in files:
            return []
        return [
            api.Preview(
                "WeChat Markdown (as doocs/md shows it)", preview_page(files["wechat.md"]), 375
            )
        ]

    def render(self, issue, ctx):
        label_first, squeeze = api.label_first, api.squeeze
        citations = api.Citations()
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

        body = ctx.render_page(
            "issue.wechat.j2",
            issue,
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
