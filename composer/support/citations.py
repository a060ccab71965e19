"""Numbered references for what a WeChat article cannot keep as a live link.

The 公众号 editor and its draft API keep only links to mp.weixin.qq.com; every
other link is shown as its text with a number, and the URL goes to a 「引用链接」
list at the end. Every WeChat output (wechat.md, wechat.html ...) numbers with this
one class, walking the issue in the same order, so a number means the same URL in
all of them: numbered by first use, a repeated URL keeps its number, an image takes
a number for its URL too.
"""

from __future__ import annotations

import re

WEIXIN = re.compile(r"^https?://mp\.weixin\.qq\.com/", re.I)


def weixin_link(url: str) -> bool:
    """A link WeChat keeps live: an article on mp.weixin.qq.com."""
    return bool(WEIXIN.match(url))


class Citations:
    """The 引用链接 list of one article: ``entries`` are (title, url), number = index + 1."""

    def __init__(self) -> None:
        self.entries: list[tuple[str, str]] = []
        self.numbers: dict[str, int] = {}

    def cite(self, title: str, url: str) -> int:
        """The number of ``url``: a new one, listed with ``title``, on its first use."""
        if url not in self.numbers:
            self.entries.append((title, url))
            self.numbers[url] = len(self.entries)
        return self.numbers[url]

    def link(self, title: str, url: str) -> int | None:
        """The number a link to ``url`` shown as ``title`` (plain text) gets, or None when
        it needs none: an mp.weixin.qq.com link stays live, and a link whose text is its
        own URL is shown as that URL."""
        if weixin_link(url):
            return None
        title = " ".join(title.split())
        if title == url:
            return None
        return self.cite(title or url, url)

    def image(self, alt: str, url: str, image_word: str = "image") -> int:
        """The number of an image's URL, listed with its alt text (else ``image_word``)."""
        return self.cite(alt or image_word, url)


class CitingWriter:
    """Mixed into a :class:`MarkdownWriter` of a WeChat output (before it): a link
    outside mp.weixin.qq.com is shown as its text with the number ``self.citations``
    gives it. The writer says how a number looks (``reference``)."""

    citations: Citations

    def span(self, node) -> str:
        if node.type == "link" and node.info != "bare":
            from composer.support.mdwriter import node_text

            title = node.attrs.get("title") or node_text(node)
            return self.cite_link(self.inline(node), str(node.attrs.get("href", "")), title)
        return super().span(node)

    def cite_link(self, text: str, url: str, title: str) -> str:
        """``text`` live when WeChat keeps the link, as its URL when it is its URL,
        else with its number; ``title`` is the plain text listed with the URL."""
        if weixin_link(url):
            return self.link(text, url, "")
        n = self.citations.link(title, url)
        if n is None:
            return self.bare_url(url)
        return self.reference(text, n)

    def reference(self, text: str, n: int) -> str:
        raise NotImplementedError
