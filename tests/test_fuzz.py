"""Fuzzing the dialect and feed entries: no exception escapes, nothing is lost, and no
live markup comes from feed data (issue 12).

Quick and reproducible by default (derandomized, a few dozen examples each);
``COMPOSER_FUZZ=explore`` searches at random with many more. Cases worth keeping live
in ``tests/corpus/`` (``*.txt`` dialect text, ``*.rss`` feeds) and run every time.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from composer.contract.model import Issue, Section
from composer.contract.protocols import Report
from composer.pipeline.fidelity import visible_html
from composer.pipeline.parse import parse_text, serialize_issue
from composer.pipeline.render import lost_text, render_issue

EXPLORE = os.environ.get("COMPOSER_FUZZ") == "explore"
FUZZ = settings(
    max_examples=400 if EXPLORE else 25,
    deadline=None,
    derandomize=not EXPLORE,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CORPUS = Path(__file__).parent / "corpus"
EVIL = ("evil.example", "phish.example", "track.example", "evil.com")
LINKIFY = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
COMMONMARK = MarkdownIt("commonmark")

# -- the dialect's pieces ------------------------------------------------------------
WORD = st.sampled_from(
    ["模型", "数据", "训练", "论文", "问题", "safety", "scale", "Key归一化", "长度外推", "AI"]
)
URL = st.one_of(
    st.builds(
        lambda host, path: f"https://{host}/{path}",
        st.sampled_from(["x.example", "arxiv.org/abs", "mp.weixin.qq.com/s", "kexue.fm/archives"]),
        st.text(alphabet="abc123_-./?=&", max_size=12),
    ),
    st.just("https://en.wikipedia.org/wiki/Foo_(bar)"),
)
CJK_PUNCT = st.sampled_from(["，", "。", "：", "）", "》", "、", "！", " ", ""])
INLINE = st.one_of(
    WORD,
    URL,
    st.builds(lambda w, u, p: f"见{u}{p}{w}", WORD, URL, CJK_PUNCT),
    st.builds(lambda w: f"**{w}**", WORD),
    st.builds(lambda w: f"*{w}*", WORD),
    st.builds(lambda w: f"_{w}_", WORD),
    st.builds(lambda w: f"`{w}`", WORD),
    st.builds(lambda w, u: f"[{w}]({u})", WORD, URL),
    st.builds(lambda u: f"[{u}]({u})", URL),
    st.builds(lambda w, u: f"![{w}]({u})", WORD, URL),
    st.sampled_from(
        [
            "<b>粗</b>",
            "<script>alert(1)</script>",
            '<img src=x onerror="alert(1)">',
            "&lt;tag&gt;",
            "&amp;",
            "$1",
            "~~删~~",
            "\\*",
            "a\\",
            "[x](javascript:alert(1))",
            "<https://x.example/auto>",
        ]
    ),
)
ANY = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8)
SENTENCE = st.lists(st.one_of(INLINE, ANY), min_size=1, max_size=5).map(" ".join)
LABEL = st.sampled_from(
    ["Q", "Q2", "Q1-continue", "A", "A1", "F", "F1", "F(Follow)", "D", "D(Discussion)", "研究员1"]
)
COLON = st.sampled_from([": ", "：", ":"])
HEADING = st.sampled_from(
    [
        "## 论文分享",
        "论文分享",
        "### 简短问答",
        "## 随笔",
        "## 延伸阅读",
        "## 讨论&杂谈",
        "## 话题讨论",
    ]
)


@st.composite
def fence(draw):
    marker = draw(st.sampled_from(["```", "````", "~~~", "```bash"]))
    body = draw(st.lists(SENTENCE, max_size=3))
    close = draw(st.sampled_from([marker.rstrip("bash"), "", "```"]))
    return "\n".join([marker, *body, close])


@st.composite
def nested(draw):
    depth = draw(st.integers(1, 24))
    marker = draw(st.sampled_from(["- ", "> ", "1. ", "* "]))
    lines = []
    for n in range(depth):
        indent = "  " * n if marker != "> " else ""
        prefix = marker * (n + 1) if marker == "> " else marker
        lines.append(f"{indent}{prefix}{draw(SENTENCE)}")
    return "\n".join(lines)


PARAGRAPH = st.one_of(
    SENTENCE,
    st.builds(lambda lab, c, s: f"{lab}{c}{s}", LABEL, COLON, SENTENCE),
    st.builds(lambda lab, c, s: f"**{lab}**{c}{s}", LABEL, COLON, SENTENCE),
    st.builds(lambda n, w, u: f"{n}.《{w}》{u}", st.integers(1, 4), WORD, URL),
    st.builds(lambda n, s: f"{n}. {s}", st.integers(1, 4), SENTENCE),
    st.builds(lambda w, c, u: f"- {w}{c}{u}", WORD, COLON, URL),
    st.builds(lambda s: f"    来源：{s}", SENTENCE),
    fence(),
    nested(),
    st.builds(lambda s: f"# {s}", SENTENCE),
    st.sampled_from(["---", "***", "\\", "\t缩进", "  ", ""]),
)
BLOCK = st.builds(
    lambda h, ps, sep: h + "\n\n" + sep.join(ps),
    HEADING,
    st.lists(PARAGRAPH, min_size=1, max_size=6),
    st.sampled_from(["\n\n", "\n"]),
)
DIGEST = st.lists(BLOCK, min_size=1, max_size=4).map("\n\n".join)


@pytest.fixture(scope="module")
def app():
    from composer.app import open_app

    return open_app(None)


def render_lossless(app, text: str, name: str) -> dict[str, str]:
    """Render ``text`` as ``render FILE`` and as ``draft`` (through issue.md) would;
    assert that no faithful output lost anything; the outputs of the draft path."""
    issue = parse_text(text, name, app.sections, Report())
    with tempfile.TemporaryDirectory() as tmp:
        direct = Path(tmp) / "direct"
        lost = lost_text(app, text, render_issue(app, issue, direct))
        assert lost is None, f"render FILE: {lost}"
        issue_md = serialize_issue(issue, app.sections, Report())
        again = parse_text(issue_md, "issue.md", app.sections, Report())
        drafted = Path(tmp) / "drafted"
        lost = lost_text(app, issue_md, render_issue(app, again, drafted))
        assert lost is None, f"draft: {lost}\n--- issue.md ---\n{issue_md}"
        return {p.name: p.read_text(encoding="utf-8") for p in drafted.iterdir()}


@FUZZ
@given(text=DIGEST)
def test_random_dialect_text_renders_without_loss(app, text):
    render_lossless(app, text, "fuzz.txt")


# -- feed entries --------------------------------------------------------------------
HOSTILE_PIECE = st.one_of(
    WORD,
    st.sampled_from(
        [
            "[Click me](https://phish.example/login)",
            "![i](https://track.example/pixel.gif)",
            "<https://evil.example/auto>",
            "https://evil.example/bare",
            "www.evil.com",
            "evil.com/path",
            "**bold**",
            "_em_",
            "# heading",
            "> quote",
            "- item",
            "1. one",
            "2、二",
            "《书名》",
            "Q: 问",
            "研究员1：答",
            "D(Discussion): 谈",
            "来源：伪造",
            "Source: fake",
            "```",
            "<b>tag</b>",
            "<script>alert(1)</script>",
            "&lt;script&gt;",
            "&amp;lt;x&amp;gt;",
            "&#x202E;",
            "\u202e",
            "\u2066",
            "\u200b",
            "\\",
            "\\*",
            ":",
            " - ",
            "：",
            "\n",
            "$x$",
            "~~s~~",
            "|a|b|",
            "[ref]: https://evil.example/ref",
            "mailto:x@evil.com",
        ]
    ),
)
FEED_TEXT = st.lists(st.one_of(HOSTILE_PIECE, ANY), min_size=1, max_size=8).map(" ".join)


@st.composite
def feed(draw) -> tuple[str, list[str]]:
    """An RSS feed of hostile entries (CDATA or escaped), and its entries' links."""
    entries, links = [], []
    for n in range(draw(st.integers(1, 4))):
        link = f"https://real.example/{n}"
        fields = []
        for tag in ("title", "description"):
            text = draw(FEED_TEXT)
            if draw(st.booleans()) and "]]>" not in text:
                fields.append(f"<{tag}><![CDATA[{text}]]></{tag}>")
            else:
                fields.append(f"<{tag}>{escape(text)}</{tag}>")
        entries.append(f"<item>{''.join(fields)}<link>{link}</link><guid>{link}</guid></item>")
        links.append(link)
    title = escape(draw(FEED_TEXT))
    body = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://real.example/</link>{''.join(entries)}"
        "</channel></rss>"
    )
    return body, links


def links_in_markdown(md: str) -> list[str]:
    from test_hostile import markdown_targets

    return [t for parser in (COMMONMARK, LINKIFY) for t in markdown_targets(md, parser)[0]]


def check_feed(app, body: str, links: list[str]) -> None:
    """Feed bytes -> the plugin's entry items -> issue.md -> outputs: no loss, no live
    markup from feed text, every entry with its own link and its own title."""
    import feedparser
    from composer.plugins.feeds import FeedSource
    from composer.plugins.feeds.fetch import _item, _kind

    from composer.api import text_of

    parsed = feedparser.parse(body.encode(), sanitize_html=False, resolve_relative_uris=False)
    source = FeedSource("https://feed.example/rss")
    name = text_of(parsed.feed.get("title", ""), _kind(parsed.feed, "title")) or source.url
    items = [_item(entry, source, name, 240) for entry in parsed.entries]
    for item in items:
        item.meta.pop("section")
    issue = Issue(title="Fuzz", sections=[Section("feeds", "外部订阅", items)])
    issue.meta = {"title": "Fuzz"}
    issue_md = serialize_issue(issue, app.sections, Report())
    again = parse_text(issue_md, "issue.md", app.sections, Report())
    assert [(i.title, i.url, i.text, i.source) for i in again.items()] == [
        (i.title, i.url, i.text, i.source) for i in items
    ], issue_md
    outputs = render_lossless(app, issue_md, "issue.md")
    doc = visible_html(outputs["email.html"])
    targets = [h for h, _ in doc.hrefs] + [a.get("src", "") for t, a, _ in doc.tags if t == "img"]
    for name in ("wechat.md", "post.md"):
        targets += links_in_markdown(outputs[name])
    evil = [t for t in targets if any(host in t for host in EVIL)]
    assert not evil, (evil, issue_md)
    from composer.support.literal import dialect_url

    for link in links:
        assert f'href="{dialect_url(link)}"' in outputs["email.html"], link
    shown = "".join(" ".join(doc.parts).split())
    for item in items:
        assert "".join(item.title.split()) in shown, item.title


@FUZZ
@given(data=feed())
def test_random_feed_entries_stay_data(app, data):
    check_feed(app, *data)


# -- the corpus: cases found by fuzzing (or by hand) that once went wrong -------------
@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.txt")), ids=lambda p: p.stem)
def test_corpus_dialect_text(app, path):
    render_lossless(app, path.read_text(encoding="utf-8"), path.name)


@pytest.mark.parametrize("path", sorted(CORPUS.glob("*.rss")), ids=lambda p: p.stem)
def test_corpus_feed(app, path):
    body = path.read_text(encoding="utf-8")
    import re

    links = re.findall(r"<link>(https://real\.example/[^<]+)</link>", body)
    check_feed(app, body, links)
