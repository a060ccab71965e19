"""wechat.html: the article body as the 公众号 editor and its draft API take it.

Markdown bodies are written from the same syntax tree, in the same order, as
wechat.md (a :class:`composer.api.MarkdownWriter` subclass that writes HTML), and
links are numbered by the same :class:`composer.api.Citations`, so a number in
wechat.html is the number of the same URL in wechat.md. Every element carries its
own ``style`` (the editor drops ``<style>``, ``class`` and ``id``); the styles come
from the theme's ``styles.wechat.html.j2``. Code keeps its whitespace as ``&nbsp;``
and ``<br>`` (the editor collapses it otherwise), lists are at most two levels deep
with their markers written out, and only mp.weixin.qq.com links stay links.
"""

from __future__ import annotations

import html
import re

from composer import api
from composer.api import CitingWriter, MarkdownWriter

FORMAT = "wechat.html"
PAGE = "issue.wechat.html.j2"
STYLES = "styles.wechat.html.j2"
BODY = re.compile(r"<body[^>]*>(.*)</body>", re.S | re.I)


def attr(value: str) -> str:
    return html.escape(value, quote=True)


class HtmlWriter(CitingWriter, MarkdownWriter):
    """Markdown bodies as inline-styled HTML (``s``: the theme's styles), numbering
    links with ``citations`` in the order wechat.md's writer does."""

    hard_break = "<br>"

    def __init__(self, citations, s: dict, image_word: str) -> None:
        super().__init__()
        self.citations, self.s, self.image_word = citations, s, image_word

    def tag(self, name: str, role: str, inner: str) -> str:
        """``<name style="(the theme's style of role)">inner</name>``."""
        return f'<{name} style="{self.s[role]}">{inner}</{name}>'

    def blocks(self, node, tight: bool = False) -> str:
        parts = [self.block(child) for child in node.children]
        return "\n".join(p for p in parts if p)

    def block(self, node) -> str | None:
        kind = node.type
        if kind == "paragraph":
            return self.paragraph_of(node)
        if kind == "blockquote":
            return self.tag("blockquote", "quote", self.blocks(node))
        if kind == "hr":
            return f'<hr style="{self.s["hr"]}">'
        if kind == "html_block":
            return self.paragraph(self.escape(node.content.rstrip("\n")))
        return super().block(node)

    def paragraph_of(self, node) -> str:
        inline = node.children[0]
        shown = [c for c in inline.children if not (c.type == "text" and not c.content.strip())]
        if len(shown) == 1 and shown[0].type == "image":
            return self.figure(shown[0])
        return self.paragraph(self.inline(inline))

    def paragraph(self, text: str) -> str:
        return self.tag("p", "p", text)

    def heading(self, level: int, text: str) -> str:
        return self.tag("h4", "h4", text)

    def code(self, content: str, info: str) -> str:
        lines = content.rstrip("\n").expandtabs(4).split("\n")
        body = "<br>".join(html.escape(ln, quote=False).replace(" ", "&nbsp;") for ln in lines)
        caption = self.tag("p", "code_lang", self.escape(info)) if info else ""
        return caption + self.tag("pre", "pre", self.tag("code", "pre_code", body))

    def list(self, node) -> str:
        ordered = node.type == "ordered_list"
        start = int(node.attrs.get("start", 1)) if ordered else 1
        depth = self.list_depth
        self.list_depth += 1
        try:
            items = [self.item_body(item) for item in node.children]
        finally:
            self.list_depth -= 1
        if depth >= 2:  # a third level: lines in the item above, as wechat.md has them
            marks = [f"{start + n})" if ordered else "·" for n in range(len(items))]
            return "<br>".join(f"{m} {body}" for m, body in zip(marks, items, strict=True))
        marks = [f"{start + n}." if ordered else "•◦"[depth] for n in range(len(items))]
        lis = "".join(
            self.tag("li", "li", self.tag("span", "marker", m) + body)
            for m, body in zip(marks, items, strict=True)
        )
        return self.tag("ol" if ordered else "ul", "ul" if depth == 0 else "ul2", lis)

    def item_body(self, item) -> str:
        """A list item's blocks: paragraphs as lines, a nested list inside."""
        out, inline = "", False
        for child in item.children:
            if child.type == "paragraph":
                part, block = self.inline(child.children[0]), False
            else:
                part = self.block(child) or ""
                block = part.startswith(("<ul", "<ol", "<p ", "<pre", "<blockquote", "<hr"))
            if not part:
                continue
            out += ("<br>" if inline and not block else "") + part
            inline = not block
        return out

    def span(self, node) -> str:
        return "<br>" if node.type == "softbreak" else super().span(node)

    def reference(self, text: str, n: int) -> str:
        return text + self.tag("sup", "sup", f"[{n}]")

    def link(self, text: str, url: str, title: str) -> str:
        return f'<a href="{attr(url)}" style="{self.s["a"]}">{text}</a>'

    def bare_url(self, url: str) -> str:
        return self.link(self.escape(url), url, "") if api.weixin_link(url) else self.escape(url)

    def image(self, alt: str, url: str) -> str:
        self.citations.image(alt, url, self.image_word)
        shown = attr(alt or self.image_word)
        return f'<img src="{attr(url)}" alt="{shown}" style="{self.s["img"]}">'

    def figure(self, node) -> str:
        alt = "".join(c.content for c in node.children) if node.children else ""
        img = self.image(alt, str(node.attrs.get("src", "")))
        caption = self.tag("span", "caption", self.escape(alt)) if alt else ""
        return self.tag("p", "figure", img + caption)

    def code_span(self, content: str) -> str:
        return self.tag("code", "code", self.escape(content))

    def strong(self, text: str) -> str:
        return f"<strong>{text}</strong>" if text.strip() else text

    def em(self, text: str) -> str:
        return f"<em>{text}</em>" if text.strip() else text

    def escape(self, text: str) -> str:
        return html.escape(text, quote=False)


def render_html(issue, ctx) -> str:
    """wechat.html of ``issue``: a page whose <body> is the article."""
    from markupsafe import Markup

    s = ctx.env.get_template(STYLES).module.s
    citations = api.Citations()
    writer = HtmlWriter(citations, s, ctx.strings.get("image", "image"))

    def md(text: str):
        return Markup(writer.write(text))

    def turn(label: str, text: str):
        body = writer.write(text)
        tag = f'<strong style="{s["label"]}">{html.escape(label, quote=False)}</strong>：'
        if body.startswith("<p "):
            end = body.index(">") + 1
            return Markup(body[:end] + tag + body[end:])
        return Markup(writer.paragraph(tag) + body)

    def link(title: str, url: str):
        text = writer.escape(title or url)
        if not url:
            return Markup(text)
        if not title or title == url:
            return Markup(writer.bare_url(url))
        return Markup(writer.cite_link(text, url, title))

    return ctx.render_page(
        PAGE, issue, md=md, turn=turn, link=link, citations=citations, fmt=FORMAT
    )


def article_of(page: str) -> str:
    """The article of a wechat.html page: what its <body> holds, as the API takes it."""
    found = BODY.search(page)
    return (found.group(1) if found else page).strip()
