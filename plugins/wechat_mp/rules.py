"""What ``composer check`` demands of wechat.html and of a push to the draft box.

The draft API takes an article (``content``) under 20,000 characters and under
1 MB, a title of at most 32 characters, an author of at most 16 (its documentation,
developers.weixin.qq.com/doc/service/api/draftbox/draftmanage/api_draft_add).
"""

from __future__ import annotations

import html
import re

from composer import api

NAME = "wechat.html"
MAX_CHARS = 20_000  # the API wants fewer: "必须少于2万字符"
MAX_BYTES = 1024 * 1024  # "小于1M"
MAX_TITLE = 32
MAX_AUTHOR = 16
MAX_DIGEST = 128
FORBIDDEN_TAGS = ("script", "style", "iframe", "object", "embed", "form", "link", "meta")
STYLED_TAGS = ("section", "p", "h2", "h3", "h4", "ul", "ol", "li", "pre", "blockquote", "img")


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def html_rules(page: str, sized: bool = True) -> list[api.Problem]:
    """Blocking: script and other active markup, event handlers, links the editor
    drops (outside mp.weixin.qq.com: their URL would be lost). Warnings: <style>,
    class and id (dropped), elements without inline style, and with ``sized`` the
    draft API's size limits."""
    from composer.plugins.wechat_mp.article import article_of

    out: list[api.Problem] = []
    article = article_of(page)
    doc = api.visible_html(article)
    for tag, attrs, line in doc.tags:
        if tag in FORBIDDEN_TAGS:
            blocking = tag != "style"
            why = "the editor drops it" if tag == "style" else "the API strips it"
            out.append(api.Problem(NAME, tag, f"contains <{tag}>: {why}", line, blocking))
        handlers = [k for k in attrs if k.lower().startswith("on")]
        if handlers:
            out.append(api.Problem(NAME, "event-handler", f"<{tag}> has {handlers[0]}", line))
        for name in ("class", "id"):
            if name in attrs:
                message = f"<{tag}> has {name}=: the editor drops it (style inline instead)"
                out.append(api.Problem(NAME, "styling", message, line, blocking=False))
    for href, line in doc.hrefs:
        if not api.weixin_link(href.strip()):
            message = f"link outside mp.weixin.qq.com (WeChat drops it and its URL): {href[:60]}"
            out.append(api.Problem(NAME, "external-link", message, line))
    unstyled = [t for t, a, _ in doc.tags if t in STYLED_TAGS and not a.get("style")]
    if unstyled:
        message = f"{len(unstyled)} element(s) without inline style (first <{unstyled[0]}>)"
        out.append(api.Problem(NAME, "unstyled", message, blocking=False))
    if sized:
        too_big = size_problem(article, blocking=False)
        out += [too_big] if too_big else []
    return out


def size_problem(article: str, blocking: bool) -> api.Problem | None:
    """The draft API's size limits, naming the largest sections; None when it fits."""
    chars, size = len(article), len(article.encode("utf-8"))
    if chars < MAX_CHARS and size < MAX_BYTES:
        return None
    chunks = re.split(r"(?=<h2[ >])", article)[1:]
    sized = []
    for chunk in chunks:
        title = re.search(r"<h2[^>]*>(.*?)</h2>", chunk, re.S)
        name = html.unescape(re.sub(r"<[^>]+>", "", title.group(1))) if title else "?"
        sized.append((len(chunk), name))
    biggest = ", ".join(f"{t} {n:,} characters" for n, t in sorted(sized, reverse=True)[:3])
    message = (
        f"the article is {chars:,} characters ({size / 1024:.0f} KB): the draft API takes "
        f"under {MAX_CHARS:,} characters and 1 MB (largest sections: {biggest or 'n/a'})"
    )
    return api.Problem(NAME, "size", message, blocking=blocking)
