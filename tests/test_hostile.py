"""Hostile input, probed as an attacker would (issue 12): outside text stays data,
front matter is bounded, nothing is lost at any depth."""

from __future__ import annotations

import re
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from markdown_it import MarkdownIt

from composer.pipeline.fidelity import visible_html
from composer.support.literal import (
    clean_line,
    dialect_url,
    escape_title,
    literal_markdown,
    unescape_title,
)
from composer.support.text import find_urls

ISSUE = "2026-W48"  # Monday 2026-11-23 .. Sunday 2026-11-29
IN_WEEK = "Wed, 25 Nov 2026 10:00:00 GMT"
EVIL_HOSTS = (
    *("phish.example", "track.example", "evil.example", "phish.com", "evil.com"),
    *("phish%2Eexample", "203.0.113.9"),
)
OUTPUTS = ("email.html", "email.txt", "wechat.md", "post.md", "wechat.html")
LINKIFY = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
COMMONMARK = MarkdownIt("commonmark")

# (title as the feed writes it in XML, summary in XML, what a reader must see of the
# title, of the summary): plain text, HTML, CDATA, entities, bidi controls ...
HOSTILE = [
    (
        escape(
            "Markdown [Click me](https://phish.example/login) and ![i](https://track.example/pixel.gif)"
        ),
        escape("Sum [x](https://phish.example/s) ![p](https://track.example/s.gif)"),
        "Markdown [Click me](https://phish.example/login) and ![i](https://track.example/pixel.gif)",
        "Sum [x](https://phish.example/s) ![p](https://track.example/s.gif)",
    ),
    (
        "Dialect: https://evil.example/x",
        "see https://evil.example/y and www.evil.example/w and phish.com/login",
        "Dialect: https://evil.example/x",
        "see https://evil.example/y and www.evil.example/w and phish.com/login",
    ),
    (
        "# Heading **bold** _em_ `code` ~~gone~~",
        "## Sub\n&gt; quote\n- item\n1. one\n```\nfence",
        "# Heading **bold** _em_ `code` ~~gone~~",
        "## Sub > quote - item 1. one ``` fence",
    ),
    (
        "Q: 问题是什么?",
        "研究员1：回复 D(Discussion): 讨论 F(Follow): 跟进 A1：答",
        "Q: 问题是什么?",
        "研究员1：回复 D(Discussion): 讨论 F(Follow): 跟进 A1：答",
    ),
    ("研究员1：标题里的标签", "来源：伪造的来源", "研究员1：标题里的标签", "来源：伪造的来源"),
    ("D(Discussion): 标题", "Source: fake", "D(Discussion): 标题", "Source: fake"),
    (
        "1. Numbered title",
        "2、第二 《书名》 3. three",
        "1. Numbered title",
        "2、第二 《书名》 3. three",
    ),
    (
        "&lt;b&gt;bold tag&lt;/b&gt; &amp;lt;script&amp;gt; AT&amp;T",
        "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(1)&gt; &amp;amp;lt;kept&amp;amp;gt;",
        "bold tag <script> AT&T",
        "&lt;kept&gt;",
    ),
    (
        "<![CDATA[CDATA <i>title</i> [c](https://evil.example/cdata) &amp;]]>",
        '<![CDATA[<p>Para <a href="https://evil.example/a">anchor</a> *star*</p>]]>',
        "CDATA title [c](https://evil.example/cdata) &",
        "Para anchor *star*",
    ),
    (
        "bidi \u202egpj.exe\u202c and \u200bzero\u2066width\u2069",
        "over\u202eride\u200f text",
        "bidi gpj.exe and zerowidth",
        "override text",
    ),
    (
        "New results 见https://evil.example/t",
        "weights 见https://phish%2Eexample/w or _https://203.0.113.9/login, //track.example/x",
        "New results 见https://evil.example/t",
        "weights 见https://phish%2Eexample/w or _https://203.0.113.9/login, //track.example/x",
    ),
    (
        "&amp;amp;#x5B;x&amp;amp;#x28;https://evil.example&amp;amp;#x29;",
        "x&amp;amp;y https://evil.example/a&amp;amp;b",
        "&#x5B;x&#x28;https://evil.example&#x29;",
        "x&y https://evil.example/a&b",
    ),
    (
        "&amp;#x5B;x&amp;#x5D;&amp;#x28;https://evil.example&amp;#x29; &#x5B;y&#x5D;",
        "AT&amp;amp;T &amp;#x28;https://evil.example/s&amp;#x29;",
        "[x](https://evil.example) [y]",
        "AT&T (https://evil.example/s)",
    ),
    ("Trailing colon::", "Ends with a dash -", "Trailing colon::", "Ends with a dash -"),
    (
        "Backslash \\: and \\\\ https\\://x",
        "c:\\path\\ \\*",
        "Backslash \\: and \\\\ https\\://x",
        "c:\\path\\ \\*",
    ),
]
LINKS = [f"https://real.example/{n}" for n in range(len(HOSTILE))]
# Atom says what its text is: type="text" is shown as it is, tags and all
ATOM_TEXT = "<https://evil.example/auto> <b>not a tag</b> &lt;i&gt; [a](https://evil.example/a)"
ATOM_LINK = "https://real.example/atom"
HUGE = "巨" * 5000


def rss() -> str:
    items = "".join(
        f"<item><title>{title}</title><link>{link}</link><guid>{link}</guid>"
        f"<pubDate>{IN_WEEK}</pubDate><description>{summary}</description></item>"
        for (title, summary, _, _), link in zip(HOSTILE, LINKS, strict=True)
    )
    items += (
        f"<item><title>{HUGE}</title><link>https://real.example/huge</link>"
        f"<pubDate>{IN_WEEK}</pubDate><description>huge</description></item>"
        f"<item><title>odd link</title><link>https://real.example/a b_</link>"
        f"<pubDate>{IN_WEEK}</pubDate></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Feed https://evil.example/name [n](https://evil.example/n)</title>"
        f"<link>https://real.example/</link>{items}</channel></rss>"
    )


def atom() -> str:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Atom</title><id>urn:a</id><updated>2026-11-25T00:00:00Z</updated>"
        f'<entry><title type="text">{escape(ATOM_TEXT)}</title><link href="{ATOM_LINK}"/>'
        f"<id>{ATOM_LINK}</id><updated>2026-11-25T08:00:00Z</updated>"
        f'<summary type="text">{escape(ATOM_TEXT)}</summary></entry></feed>'
    )


def folded(text: str) -> str:
    """``text`` with every whitespace removed (outputs wrap lines)."""
    return "".join(text.split())


def markdown_targets(md: str, parser: MarkdownIt) -> tuple[list[str], str]:
    """(every link and image target, the visible text) of Markdown as ``parser`` reads it."""
    targets = []

    def walk(tokens):
        for tok in tokens:
            if tok.type == "link_open":
                targets.append(tok.attrs.get("href", ""))
            if tok.type == "image":
                targets.append(tok.attrs.get("src", ""))
            if tok.children:
                walk(tok.children)

    walk(parser.parse(md))
    doc = visible_html(parser.render(md))
    return targets, " ".join(doc.parts)


def html_targets(page: str) -> tuple[list[str], str]:
    doc = visible_html(page)
    targets = [h for h, _ in doc.hrefs]
    targets += [a.get("src", "") for tag, a, _ in doc.tags if tag == "img"]
    return targets, " ".join(doc.parts)


def assert_no_evil(targets: list[str], where: str) -> None:
    evil = [t for t in targets if any(host in t for host in EVIL_HOSTS)]
    assert not evil, f"{where} links to {evil}"


def visible(outputs: dict[str, str]) -> dict[str, str]:
    """What a reader sees of each output (Markdown read with linkify), every link checked."""
    seen = {}
    for name in ("email.html", "wechat.html"):
        targets, seen[name] = html_targets(outputs[name])
        assert_no_evil(targets, name)
    for name in ("wechat.md", "post.md"):
        for parser in (COMMONMARK, LINKIFY):
            targets, seen[name] = markdown_targets(outputs[name], parser)
            assert_no_evil(targets, name)
    seen["email.txt"] = outputs["email.txt"]
    return {name: folded(text) for name, text in seen.items()}


@pytest.fixture
def hostile_ws(tmp_path, httpserver):
    httpserver.expect_request("/feed").respond_with_data(rss(), content_type="application/rss+xml")
    httpserver.expect_request("/atom").respond_with_data(
        atom(), content_type="application/atom+xml"
    )
    urls = f'"{httpserver.url_for("/feed")}", "{httpserver.url_for("/atom")}"'
    (tmp_path / "composer.toml").write_text(
        f'[newsletter]\ntimezone = "Asia/Shanghai"\n\n[feeds]\nurls = [{urls}]\ntimeout = 5\n',
        encoding="utf-8",
    )
    return tmp_path


def read_outputs(folder: Path) -> dict[str, str]:
    return {name: (folder / name).read_text(encoding="utf-8") for name in OUTPUTS}


def test_feed_text_reaches_every_output_as_literal_text(run, hostile_ws):
    result = run("draft", "-w", hostile_ws, "--issue", ISSUE)
    assert result.returncode == 0, result.stderr
    assert "serialize failed" not in result.stderr  # no entry demoted to a plain note
    outputs = read_outputs(hostile_ws / ISSUE / "out")
    seen = visible(outputs)
    for (_, _, title, summary), link in zip(HOSTILE, LINKS, strict=True):
        for name, text in seen.items():
            assert folded(title) in text, f"{name}: title {title!r}"
            assert folded(summary) in text, f"{name}: summary {summary!r}"
        assert f'href="{link}"' in outputs["email.html"], link
    for name, text in seen.items():
        assert text.count(folded(ATOM_TEXT)) >= 2, name  # title and summary
    for name in ("email.html", "wechat.html"):
        assert "<script" not in outputs[name] and "onerror" not in outputs[name], name
    for name, text in seen.items():  # the huge title is cut, the source name kept as text
        assert folded("巨" * 299 + "…") in text and "巨" * 301 not in text, name
        assert folded("Feed https://evil.example/name [n](https://evil.example/n)") in text, name
    assert 'href="https://real.example/a%20b%5F"' in outputs["email.html"]


def test_every_entry_keeps_its_own_link_through_issue_md(run, hostile_ws, app):
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text

    assert run("draft", "-w", hostile_ws, "--issue", ISSUE).returncode == 0
    issue_md = (hostile_ws / ISSUE / "issue.md").read_text(encoding="utf-8")
    issue = parse_text(issue_md, "issue.md", app.sections, Report())
    items = {item.url: item for item in issue.items() if item.kind == "link"}
    for (_, _, title, _), link in zip(HOSTILE, LINKS, strict=True):
        assert items[link].title == title
    assert all(not any(h in url for h in EVIL_HOSTS) for url in items)
    assert items[ATOM_LINK].title == ATOM_TEXT
    assert len(items) == len(HOSTILE) + 3
    # no URL of feed text is a URL of issue.md (the fidelity check expects none)
    assert not [u for _, _, u in find_urls(issue_md) if any(h in u for h in EVIL_HOSTS)]


def test_rendering_issue_md_again_gives_the_drafted_outputs(run, hostile_ws, tmp_path):
    assert run("draft", "-w", hostile_ws, "--issue", ISSUE).returncode == 0
    again = tmp_path / "again"
    result = run("render", hostile_ws / ISSUE / "issue.md", "--out", again, "-w", hostile_ws)
    assert result.returncode == 0, result.stderr
    drafted = read_outputs(hostile_ws / ISSUE / "out")
    for name in OUTPUTS:
        assert (again / name).read_text(encoding="utf-8") == drafted[name], name


NOTE = (
    "[x](https://evil.example) **b** Q: hi ![t](https://track.example/t.gif) "
    "https://evil.example/bare 见https://evil.example/glued _https://203.0.113.9/x //evil.com/y"
)


@pytest.mark.parametrize(
    "url", ["https://blog.example/post", "https://arxiv.org/abs/2401.00001"], ids=["link", "paper"]
)
def test_add_note_is_shown_as_typed(run, tmp_path, url):
    (tmp_path / "composer.toml").write_text('[newsletter]\ntitle = "W"\n', encoding="utf-8")
    added = run("add", url, "--note", NOTE, "--issue", ISSUE, "-w", tmp_path, "--offline")
    assert added.returncode == 0, added.stderr
    result = run("draft", "-w", tmp_path, "--issue", ISSUE, "--offline")
    assert result.returncode == 0, result.stderr
    seen = visible(read_outputs(tmp_path / ISSUE / "out"))
    for name, text in seen.items():
        assert folded(NOTE) in text, name


# -- the helpers -----------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        "[a](https://evil.example) ![i](https://track.example/i.png) <https://evil.example>",
        "# h",
        "> q",
        "- l",
        "+ l",
        "1. n",
        "1) n",
        "12、n",
        "《书》 x",
        "=== x",
        "--- x",
        "Q: x",
        "A1：x",
        "研究员 2：x",
        "D(Discussion): x",
        "F(Follow)：x",
        "**Q**：x",
        "来源：x",
        "Source: x",
        "via: x",
        "    indented code",
        "```",
        "~~~",
        "<b>x</b>",
        "&lt;x&gt; &amp; &#35;",
        "*e* _e_ __s__ `c` ~~s~~",
        "a\\",
        "\\*",
        "evil.com www.x.org",
        "https://evil.example/x_(y) mailto:a@b.com",
        "| a | b |",
        "[ref]: https://evil.example",
        "论文分享",
        "x\ny\n\nz",
    ],
)
def test_literal_markdown_reads_back_as_its_text(text, parse, app):
    from composer.support import mdwriter

    md = literal_markdown(text)
    expected = " ".join(text.split())
    assert mdwriter.plain_text(md) == expected
    assert "<a " not in mdwriter.to_html(md) and "<img" not in mdwriter.to_html(md)
    from composer.plugins.wechat import wechat_writer

    from composer.support.citations import Citations

    writers = {"hugo": mdwriter.MarkdownWriter(), "wechat": wechat_writer(Citations())}
    for name, writer in writers.items():
        for parser in (COMMONMARK, LINKIFY):
            targets, seen = markdown_targets(writer.write(md), parser)
            assert not targets, (name, targets)
            assert " ".join(seen.split()) == expected


def test_clean_line_removes_every_bidi_control_and_invisible_format_character():
    import unicodedata

    bidi = [
        chr(c)
        for c in range(0x110000)
        if unicodedata.bidirectional(chr(c))
        in ("LRE", "RLE", "LRO", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI")
    ]
    bidi += ["\u200e", "\u200f", "\u061c", "\u200b", "\u2060", "\ufeff", "\u00ad", "\U000e0041"]
    assert len(bidi) >= 9
    assert clean_line("a" + "".join(bidi) + "b") == "ab"
    assert (
        clean_line("emoji 👩\u200d💻 and \u200cZWNJ kept") == "emoji 👩\u200d💻 and \u200cZWNJ kept"
    )
    assert clean_line("x" * 10, 5) == "xxxx…"


@pytest.mark.parametrize(
    "title",
    [
        "Dialect: https://evil.example/x",
        "[x](https://evil.example) y",
        "ends:",
        "ends：",
        "dash -",
        "dash —",
        "a\\",
        "a\\:",
        "\\\\ \\: \\x",
        "HTTPS://EVIL.example",
        "《T》 (x)",
        "来源：x",
        "- nested",
        "",
        "  spaced  out  ",
        "two\nlines",
    ],
)
def test_titles_survive_the_dialect(title, parse):
    from composer.plugins.papers import Papers

    from composer.contract.model import Item
    from composer.support.linklist import serialize_link_list

    plain = " ".join(part.strip() for part in title.splitlines()).strip()
    assert unescape_title(escape_title(title)) == plain
    for heading, body in (
        (
            "## 链接",
            serialize_link_list(
                [Item("link", title=title, url="https://real.example/1", meta={"source": title})]
            ),
        ),
        (
            "## 论文分享",
            Papers().serialize([Item("paper", title=title, url="https://real.example/1")]),
        ),
    ):
        issue, _ = parse(f"{heading}\n\n{body}\n")
        (item,) = [i for i in issue.items()]
        assert (item.title, item.url) == (plain, "https://real.example/1"), body
        if item.kind == "link" and plain:
            assert item.source == plain


def test_editor_titles_parse_as_before(parse):
    issue, _ = parse(
        "## 链接\n\n- moore's law of intelligence: https://twitter.com/sama/status/1\n"
        "- [Pasted](https://a.example/p) note\n- title — https://b.example/q\n\n"
        "## 论文分享\n\n1.《Transformer升级之路：15、Key归一化》https://kexue.fm/archives/9859\n\n"
        "2. https://github.com/x/y 整理了很多\n"
    )
    got = [(i.title, i.url) for i in issue.items()]
    assert got == [
        ("moore's law of intelligence", "https://twitter.com/sama/status/1"),
        ("Pasted", "https://a.example/p"),
        ("title", "https://b.example/q"),
        ("《Transformer升级之路：15、Key归一化》", "https://kexue.fm/archives/9859"),
        ("整理了很多", "https://github.com/x/y"),
    ]


@pytest.mark.parametrize(
    "url",
    [
        "https://x.example/a b",
        "https://x.example/页面",
        "https://x.example/end.",
        "https://x.example/a_",
        "https://x.example/(a)",
        "https://x.example/a)",
        "https://x.example/q?x='y'",
        "https://x.example/ok",
    ],
)
def test_dialect_url_is_read_back_whole(url):
    written = dialect_url(url)
    assert [u for _, _, u in find_urls(f"- t: {written}，下一句")] == [written]
    from urllib.parse import unquote

    assert unquote(written) == url


def test_a_feed_entry_is_data_on_its_own_path(app, parse):
    """The entry-to-item code path, without a server: serialize, parse back, same item."""
    import feedparser
    from composer.plugins.feeds import FeedSource
    from composer.plugins.feeds.fetch import _item

    parsed = feedparser.parse(rss(), sanitize_html=False, resolve_relative_uris=False)
    items = [_item(e, FeedSource("https://feed.example/"), "Feed", 240) for e in parsed.entries]
    for item, (_, _, title, summary) in zip(items, HOSTILE, strict=False):
        assert item.title == title
        from composer.support.mdwriter import plain_text

        assert plain_text(item.text) == summary
    body = app.sections.types["feeds"].serialize(items)
    issue, _ = parse(f"## 外部订阅\n\n{body}\n")
    again = list(issue.items())
    assert [(i.title, i.url, i.text) for i in again] == [(i.title, i.url, i.text) for i in items]


def test_arxiv_titles_are_clean_capped_plain_text(run, tmp_path, httpserver):
    title = "Q: [t](https://evil.example/t) \u202eevil " + "x" * 400
    httpserver.expect_request("/api/query").respond_with_data(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        f"<id>http://arxiv.org/abs/2401.00001v1</id><title>{escape(title)}</title>"
        "<author><name>A</name></author></entry></feed>"
    )
    (tmp_path / "composer.toml").write_text(
        f'[newsletter]\ntitle = "W"\n\n[arxiv]\napi_url = "{httpserver.url_for("/api/query")}"\n',
        encoding="utf-8",
    )
    assert (
        run("add", "https://arxiv.org/abs/2401.00001", "--issue", ISSUE, "-w", tmp_path).returncode
        == 0
    )
    result = run("draft", "-w", tmp_path, "--issue", ISSUE, "--offline")
    assert result.returncode == 0, result.stderr
    seen = visible(read_outputs(tmp_path / ISSUE / "out"))
    shown = clean_line(title, 300)
    assert shown.endswith("…") and "\u202e" not in shown
    for name, text in seen.items():
        assert folded(shown) in text, name


def test_an_arxiv_title_given_as_html_is_its_text(run, tmp_path, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><entry>'
        "<id>http://arxiv.org/abs/2401.00001v1</id>"
        '<title type="html">Deep &lt;img src="x" /&gt;Nets &amp;lt;3 &lt;b&gt;now&lt;/b&gt;</title>'
        "<author><name>A</name></author></entry></feed>"
    )
    (tmp_path / "composer.toml").write_text(
        f'[newsletter]\ntitle = "W"\n\n[arxiv]\napi_url = "{httpserver.url_for("/api/query")}"\n',
        encoding="utf-8",
    )
    added = run("add", "https://arxiv.org/abs/2401.00001", "--issue", ISSUE, "-w", tmp_path)
    assert added.returncode == 0, added.stderr
    assert run("draft", "-w", tmp_path, "--issue", ISSUE, "--offline").returncode == 0
    seen = visible(read_outputs(tmp_path / ISSUE / "out"))
    for name, text in seen.items():
        assert folded("Deep Nets <3 now") in text and "img" not in text, name


# -- front matter ------------------------------------------------------------------
BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "---\n\n## 简短问答\n\nQ: 炸弹之后的问题\n"
)


def test_a_yaml_alias_bomb_is_refused(run, tmp_path):
    source = tmp_path / "bomb.md"
    source.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 600
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "bomb.md:2" in result.stderr and "alias" in result.stderr
    post = (tmp_path / "out" / "post.md").read_text(encoding="utf-8")
    assert len(post) < 20 * len(BOMB)
    assert "炸弹之后的问题" in post and "lol" in post  # kept as text, not lost


@pytest.mark.parametrize("number", ["9" * 5000, "0x" + "f" * 5000, "1:" + ":".join(["59"] * 3000)])
def test_an_integer_too_long_to_be_a_number_stays_its_text(run, tmp_path, number):
    source = tmp_path / "big.md"
    source.write_text(f"---\ntitle: 大数\nn: {number}\n---\n\nQ: 之后的问题\n", "utf-8")
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    post = (tmp_path / "out" / "post.md").read_text(encoding="utf-8")
    assert f'n: "{number}"' in post and "之后的问题" in post


@pytest.mark.parametrize(
    "front, reason",
    [
        ("x: " + "y" * 70_000, "bytes"),
        ("\n".join(f"k{n}: {n}" for n in range(2_100)), "keys"),
        ("x: " + "[" * 40 + "]" * 40, "deep"),
        ("x: !!python/object:os.system {}", "not valid YAML"),
    ],
    ids=["size", "keys", "depth", "tag"],
)
def test_front_matter_beyond_the_caps_is_kept_as_text(front, reason, parse):
    issue, report = parse(f"---\n{front}\n---\n\nQ: 后面的问题\n", "big.md")
    assert issue.meta == {}
    warnings = [str(w) for w in report]
    assert any("big.md:" in w and reason in w and "kept as text" in w for w in warnings), warnings


def test_written_front_matter_is_a_small_multiple_of_what_was_read(parse, app):
    from composer.pipeline.parse import serialize_issue

    front = "title: " + "长" * 3000 + "\ntags: [" + ", ".join(f"t{n}" for n in range(500)) + "]\n"
    text = f"---\n{front}---\n\nQ: 问题\n"
    issue, _ = parse(text)
    assert issue.meta["title"] == "长" * 3000
    written = serialize_issue(issue, app.sections)
    assert len(written.split("\n---", 1)[0]) <= 2 * len(front)


# -- nesting -----------------------------------------------------------------------
DEEP_LIST = "\n".join("  " * n + f"- 第{n}层列表内容 level{n}" for n in range(12))
DEEP_QUOTE = "> " * 25 + "深引用里的文字 deepquote"
MIXED = "\n".join("> " * n + "- " * n + f"混合{n} mixed{n}" for n in range(1, 12))


def render_whole(run, tmp_path, text: str):
    """``composer render`` of ``text`` as deep.md into tmp_path/out: it succeeds and
    every output keeps every URL and sentence. Returns the CompletedProcess."""
    from conftest import check_outputs

    source = tmp_path / "deep.md"
    source.write_text(text, encoding="utf-8")
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert check_outputs(text, tmp_path / "out") == []
    return result


@pytest.mark.parametrize("body", [DEEP_LIST, DEEP_QUOTE, MIXED], ids=["list", "quote", "mixed"])
def test_deep_lists_and_quotes_are_flattened_not_lost(run, tmp_path, body):
    result = render_whole(run, tmp_path, f"## 随笔\n\n开头一句\n\n{body}\n\n结尾一句 final words\n")
    assert re.search(r"deep\.md:\d+: .*nested deeper", result.stderr), result.stderr
    for name in OUTPUTS:
        out = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "final words" in out and ("level11" in out or "deepquote" in out or "mixed11" in out)


@pytest.mark.parametrize(
    "body",
    [
        "*" * 1200 + "深层强调的文字 deep words" + "*" * 1200,
        "_a " * 1500 + "深层强调的文字 deep words" + " a_" * 1500,
        "**" * 400 + "[链接文字](https://deep.example/x) 深层强调的文字 deep words" + "**" * 400,
    ],
    ids=["stars", "underscores", "link"],
)
def test_deeply_nested_emphasis_keeps_its_text_and_links(run, tmp_path, body):
    render_whole(run, tmp_path, f"## 杂记\n\n{body}\n\n结尾一句 final words\n")
    for name in OUTPUTS:
        out = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "深层强调的文字" in out and "final words" in out, name


def test_deep_text_in_a_draft_is_kept_too(run, tmp_path):
    (tmp_path / "composer.toml").write_text('[newsletter]\ntitle = "W"\n', encoding="utf-8")
    notes = tmp_path / ISSUE / "notes"
    notes.mkdir(parents=True)
    (notes / "a.md").write_text(
        f"## 简短问答\n\nQ: 问题\n\nA: 回答\n\n{DEEP_QUOTE}\n", encoding="utf-8"
    )
    result = run("draft", "-w", tmp_path, "--issue", ISSUE)
    assert result.returncode == 0, result.stderr
    assert f"{ISSUE}/notes/a.md:7" in result.stderr and "nested deeper" in result.stderr
    for name in OUTPUTS:
        assert "deepquote" in (tmp_path / ISSUE / "out" / name).read_text(encoding="utf-8")


LOSSY_THEME = "{% for item in section.items %}{% endfor %}\n"


@pytest.mark.parametrize("command", ["render", "draft"])
def test_render_and_draft_refuse_when_an_output_loses_text(run, tmp_path, command):
    (tmp_path / "composer.toml").write_text('[newsletter]\ntitle = "W"\n', encoding="utf-8")
    (tmp_path / "templates" / "sections").mkdir(parents=True)
    (tmp_path / "templates" / "sections" / "qa.wechat.j2").write_text(LOSSY_THEME, encoding="utf-8")
    notes = tmp_path / ISSUE / "notes"
    notes.mkdir(parents=True)
    (notes / "a.md").write_text("## 简短问答\n\nQ: 这句会丢失 lost sentence\n", encoding="utf-8")
    if command == "render":
        assert run("draft", "-w", tmp_path, "--issue", ISSUE).returncode == 1
        result = run("render", ISSUE, "-w", tmp_path)
    else:
        result = run("draft", "-w", tmp_path, "--issue", ISSUE)
    assert result.returncode == 1, result.stderr
    assert "wechat.md" in result.stderr and "lost" in result.stderr
    assert "lost sentence" in result.stderr or "这句会丢失" in result.stderr
    out = tmp_path / ISSUE / "out"
    assert (out / "wechat.md").exists() and "lost sentence" in (out / "post.md").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    "note", ["论文分享", "Reading", "Q&A", "研究员1：回复", "1. 第一", "《书》"]
)
def test_a_note_that_reads_like_dialect_stays_the_papers_note(run, tmp_path, app, note):
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text

    (tmp_path / "composer.toml").write_text('[newsletter]\ntitle = "W"\n', encoding="utf-8")
    url = "https://arxiv.org/abs/2401.00001"
    assert (
        run("add", url, "--note", note, "--issue", ISSUE, "-w", tmp_path, "--offline").returncode
        == 0
    )
    result = run("draft", "-w", tmp_path, "--issue", ISSUE, "--offline")
    assert result.returncode == 0, result.stderr
    text = (tmp_path / ISSUE / "issue.md").read_text(encoding="utf-8")
    issue = parse_text(text, "issue.md", app.sections, Report())
    assert [s.kind for s in issue.sections] == ["papers"]
    (paper,) = issue.items()
    from composer.support.mdwriter import plain_text

    assert (paper.url, plain_text(paper.text)) == (url, note)


def test_a_link_whose_text_is_its_url_is_no_loss(run, tmp_path):
    """The loss check reads "[https://a](https://a)" as two URLs, not one through "]("."""
    source = tmp_path / "links.md"
    source.write_text(
        "## 随笔\n\n见 [https://a.example/x](https://a.example/x) 和 [论文](https://b.example/y)。\n",
        encoding="utf-8",
    )
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("url", ["https://a.test/#\\##heading", "https://a.test/?a=1&amp;b=2"])
def test_an_odd_added_url_keeps_every_link_an_item(run, tmp_path, url):
    (tmp_path / "composer.toml").write_text('[newsletter]\ntitle = "W"\n', encoding="utf-8")
    for added in ("https://b.test/first", url):
        result = run("add", added, "--issue", ISSUE, "-w", tmp_path, "--offline")
        assert result.returncode == 0, result.stderr
    result = run("draft", "-w", tmp_path, "--issue", ISSUE, "--offline")
    assert result.returncode == 0 and "serialize failed" not in result.stderr, result.stderr
    html = (tmp_path / ISSUE / "out" / "email.html").read_text(encoding="utf-8")
    assert 'href="https://b.test/first"' in html
    assert f'href="{escape(url, {chr(34): "&quot;"})}"' in html


def test_an_invisible_character_in_an_entry_link_is_percent_encoded(run, tmp_path, httpserver):
    links = [
        "https://real.example/\u202egpj.exe",
        "https://real.example/zero\u200bwidth",
        "https://real.example/x](https://evil.example/y)",  # a Markdown link's end
        "  https://real.example@other.example/login  ",  # spaces around; a user name trick
    ]
    items = "".join(
        f"<item><title>t{n}</title><link>{link}</link><pubDate>{IN_WEEK}</pubDate></item>"
        for n, link in enumerate(links)
    )
    feed = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'
    )
    httpserver.expect_request("/feed").respond_with_data(feed, content_type="application/rss+xml")
    (tmp_path / "composer.toml").write_text(
        f'[feeds]\nurls = ["{httpserver.url_for("/feed")}"]\n', encoding="utf-8"
    )
    result = run("draft", "-w", tmp_path, "--issue", ISSUE)
    assert result.returncode == 0, result.stderr
    outputs = read_outputs(tmp_path / ISSUE / "out")
    for name in ("wechat.md", "post.md"):  # the link stays one link, with linkify too
        for parser in (COMMONMARK, LINKIFY):
            targets, _ = markdown_targets(outputs[name], parser)
            assert not [t for t in targets if t.startswith("https://evil.example")], name
    for name, text in outputs.items():
        assert "\u202e" not in text and "\u200b" not in text, name
    html = (tmp_path / ISSUE / "out" / "email.html").read_text(encoding="utf-8")
    assert 'href="https://real.example/%E2%80%AEgpj.exe"' in html
    assert 'href="https://real.example/zero%E2%80%8Bwidth"' in html
    assert 'href="https://other.example/login"' in html and "real.example@" not in html
