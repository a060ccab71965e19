"""Feeds, arXiv enrichment, dedupe and `composer add`, against real local servers."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from werkzeug import Response

ISSUE = "2026-W48"  # Monday 2026-11-23 .. Sunday 2026-11-29, Asia/Shanghai


def rss(*entries: tuple[str, str, str | None], title="Lab Blog", extra="") -> str:
    items = "".join(
        f"<item><title>{t}</title><link>{link}</link><guid>{link}</guid>"
        + (f"<pubDate>{d}</pubDate>" if d else "")
        + f"<description>{extra or 'A &lt;b&gt;short&lt;/b&gt; summary.'}</description></item>"
        for t, link, d in entries
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{title}</title><link>https://lab.example/</link>{items}</channel></rss>"
    )


def atom(*entries: tuple[str, str, str]) -> str:
    body = "".join(
        f"<entry><title>{t}</title><link href='{link}'/><id>{link}</id><updated>{d}</updated>"
        "<summary>Atom summary.</summary></entry>"
        for t, link, d in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>Atom Lab</title><id>urn:x</id><updated>2026-11-25T00:00:00Z</updated>{body}</feed>"
    )


IN_WEEK = "Wed, 25 Nov 2026 10:00:00 GMT"
LAST_WEEK = "Wed, 18 Nov 2026 10:00:00 GMT"


@pytest.fixture
def ws(tmp_path):
    def make(feeds: list[str], extra: str = "", notes: str = ""):
        listed = ", ".join(f'"{u}"' for u in feeds)
        (tmp_path / "composer.toml").write_text(
            f'[newsletter]\ntimezone = "Asia/Shanghai"\n\n[feeds]\nurls = [{listed}]\n'
            f"timeout = 2\n{extra}",
            encoding="utf-8",
        )
        if notes:
            (tmp_path / ISSUE / "notes").mkdir(parents=True, exist_ok=True)
            (tmp_path / ISSUE / "notes" / "a.md").write_text(notes, encoding="utf-8")
        return tmp_path

    return make


def draft(run, ws, *extra, env=None):
    result = run("draft", "-w", ws, "--issue", ISSUE, "--force", *extra, env=env)
    issue_md = (
        (ws / ISSUE / "issue.md").read_text(encoding="utf-8")
        if (ws / ISSUE / "issue.md").exists()
        else ""
    )
    return result, issue_md


def test_rss_and_atom_entries_of_the_week(run, ws, httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        rss(
            ("本周新文", "https://lab.example/a", IN_WEEK),
            ("旧文", "https://lab.example/old", LAST_WEEK),
        ),
        content_type="application/rss+xml",
    )
    httpserver.expect_request("/atom").respond_with_data(
        atom(("Atom post", "https://atom.example/p", "2026-11-26T08:00:00Z")),
        content_type="application/atom+xml",
    )
    root = ws([httpserver.url_for("/rss"), httpserver.url_for("/atom")])
    result, issue_md = draft(run, root)
    assert result.returncode == 0, result.stderr
    assert "## 外部订阅" in issue_md
    assert "- 本周新文: https://lab.example/a" in issue_md and "来源：Lab Blog" in issue_md
    assert "- Atom post: https://atom.example/p" in issue_md and "来源：Atom Lab" in issue_md
    assert "旧文" not in issue_md
    assert "A short summary." in issue_md and "<b>" not in issue_md


def test_a_feed_with_more_entries_this_week_than_max_entries_is_cut_with_a_warning(
    run, ws, httpserver
):
    entries = [(f"第{n}篇", f"https://lab.example/{n}", IN_WEEK) for n in range(130)]
    entries += [(f"旧{n}", f"https://lab.example/old{n}", LAST_WEEK) for n in range(50)]
    httpserver.expect_request("/rss").respond_with_data(rss(*entries))
    result, issue_md = draft(run, ws([httpserver.url_for("/rss")]))
    assert result.returncode == 0, result.stderr
    kept = [n for n in range(130) if f"https://lab.example/{n}\n" in issue_md]
    assert kept == list(range(100)) and "lab.example/old" not in issue_md
    assert "130 entries this week: the first 100 are kept ([feeds] max_entries)" in result.stderr
    feeds = run("feeds", "-w", ws([httpserver.url_for("/rss")]))
    assert feeds.returncode == 0, feeds.stderr
    assert feeds.stdout.split()[-1] == "180"  # the feed's entries, all of them, counted


def test_entries_of_a_one_page_site_differ_by_their_route(run, ws, httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        rss(
            ("第一篇", "https://spa.example/#/post/1", IN_WEEK),
            ("第二篇", "https://spa.example/#/post/2", IN_WEEK),
            ("同一篇", "https://spa.example/#/post/2", IN_WEEK),
        )
    )
    result, issue_md = draft(run, ws([httpserver.url_for("/rss")]))
    assert result.returncode == 0, result.stderr
    assert "https://spa.example/#/post/1" in issue_md and "第二篇" in issue_md
    assert "同一篇" not in issue_md  # a real duplicate is still one item


def test_week_window_uses_the_configured_timezone(run, ws, httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        rss(
            ("Monday 01:00 in Shanghai", "https://x.example/in", "Sun, 22 Nov 2026 17:00:00 GMT"),
            ("Monday 00:30 next week", "https://x.example/out", "Sun, 29 Nov 2026 16:30:00 GMT"),
            ("Sunday 23:59 in Shanghai", "https://x.example/in2", "Sun, 29 Nov 2026 15:59:00 GMT"),
        )
    )
    _, issue_md = draft(run, ws([httpserver.url_for("/rss")]))
    assert "https://x.example/in" in issue_md and "https://x.example/in2" in issue_md
    assert "https://x.example/out" not in issue_md


def test_conditional_get_and_304_reuse_the_stored_copy(run, ws, httpserver):
    body = rss(("缓存的文章", "https://lab.example/c", IN_WEEK))
    httpserver.expect_ordered_request("/rss").respond_with_response(
        Response(
            body,
            headers={
                "ETag": '"v1"',
                "Last-Modified": "Wed, 25 Nov 2026 10:00:00 GMT",
                "Content-Type": "application/rss+xml",
            },
        )
    )
    httpserver.expect_ordered_request("/rss", headers={"If-None-Match": '"v1"'}).respond_with_data(
        "", status=304
    )
    root = ws([httpserver.url_for("/rss")])
    assert "缓存的文章" in draft(run, root)[1]
    result, issue_md = draft(run, root)
    assert result.returncode == 0 and "缓存的文章" in issue_md
    httpserver.check_assertions()
    second = httpserver.log[1][0]
    assert second.headers["If-Modified-Since"] == "Wed, 25 Nov 2026 10:00:00 GMT"
    assert second.headers["User-Agent"].startswith("newsletter-composer/")


def test_offline_makes_no_request_and_uses_stored_copies(run, ws, httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        rss(("离线可见", "https://o.example/1", IN_WEEK))
    )
    root = ws([httpserver.url_for("/rss")])
    draft(run, root)
    before = len(httpserver.log)
    result, issue_md = draft(run, root, "--offline")
    assert result.returncode == 0 and "离线可见" in issue_md
    assert len(httpserver.log) == before


BROKEN = {
    "http-error": (lambda: Response("nope", status=500), "HTTP 500"),
    "not-a-feed": (
        lambda: Response("<html><body>hello</body></html>", content_type="text/html"),
        "not an RSS or Atom feed",
    ),
    "truncated": (
        lambda: Response(
            rss(("x", "https://t.example/1", IN_WEEK))[:-40], content_type="application/rss+xml"
        ),
        "broken XML",
    ),
    "wrong-encoding": (
        lambda: Response(
            rss(("中文标题", "https://e.example/1", IN_WEEK)).replace("utf-8", "us-ascii").encode(),
            content_type="application/rss+xml; charset=us-ascii",
        ),
        "encoding",
    ),
    "oversized": (
        lambda: Response("<rss>" + "x" * 200_000 + "</rss>", content_type="application/rss+xml"),
        "cut off",
    ),
    "redirect-loop": (
        lambda: Response("", status=302, headers={"Location": "/redirect-loop"}),
        "redirect",
    ),
}


@pytest.mark.parametrize("kind", sorted(BROKEN))
def test_a_broken_feed_is_one_warning_and_the_rest_is_unharmed(run, ws, httpserver, kind):
    respond, reason = BROKEN[kind]
    httpserver.expect_request(f"/{kind}").respond_with_handler(lambda request: respond())
    httpserver.expect_request("/good").respond_with_data(
        rss(("好文", "https://g.example/1", IN_WEEK))
    )
    bad = httpserver.url_for(f"/{kind}")
    root = ws(
        [bad, httpserver.url_for("/good")],
        extra="max_bytes = 100000\n",
        notes="## 简短问答\n\nQ: 编辑写的问题\n",
    )
    result, issue_md = draft(run, root)
    assert result.returncode == 0, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if bad in ln]
    assert len(lines) == 1 and reason in lines[0], result.stderr
    assert "好文" in issue_md and "编辑写的问题" in issue_md


class Silent(BaseHTTPRequestHandler):
    """Accepts the request and never answers."""

    def do_GET(self):  # noqa: N802
        time.sleep(8)

    def log_message(self, *args):
        pass


class Trickle(Silent):
    """Answers at once, then sends the body a byte at a time, too slowly."""

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.end_headers()
        for byte in rss(("慢", "https://s.example/1", IN_WEEK)).encode()[:40]:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.2)


@pytest.mark.parametrize("handler", [Silent, Trickle], ids=["silent", "trickle"])
def test_a_hanging_server_cannot_stall_the_issue(run, ws, httpserver, handler):
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hang = f"http://127.0.0.1:{server.server_address[1]}/feed"
    httpserver.expect_request("/good").respond_with_data(
        rss(("准时", "https://g.example/2", IN_WEEK))
    )
    root = ws([hang, httpserver.url_for("/good")], extra="")
    (root / "composer.toml").write_text(
        (root / "composer.toml").read_text().replace("timeout = 2", "timeout = 0.5"),
        encoding="utf-8",
    )
    started = time.monotonic()
    result, issue_md = draft(run, root)
    elapsed = time.monotonic() - started
    server.shutdown()
    assert elapsed < 6, elapsed  # the server would take 8 s
    assert "准时" in issue_md
    assert f"{hang}: feed broken (timed out after 0.5 s)" in result.stderr


def test_https_feeds_are_verified_against_the_ca_bundle(run, ws, certificate, tmp_path):
    import ssl

    from conftest import make_certificate
    from pytest_httpserver import HTTPServer

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="127.0.0.1", port=0, ssl_context=context)
    server.expect_request("/tls").respond_with_data(rss(("加密", "https://t.example/1", IN_WEEK)))
    server.start()
    try:
        url = server.url_for("/tls")
        assert url.startswith("https://")
        root = ws([url], notes="## 简短问答\n\nQ: 编辑写的问题\n")
        result, issue_md = draft(run, root, env={"SSL_CERT_FILE": str(cert)})
        assert result.returncode == 0, result.stderr
        assert "加密" in issue_md and url not in result.stderr
        (tmp_path / "other").mkdir()
        other, _ = make_certificate(tmp_path / "other")  # a CA bundle that is not the server's
        result, issue_md = draft(run, root, env={"SSL_CERT_FILE": str(other)})
        [line] = [ln for ln in result.stderr.splitlines() if url in ln]
        assert "certificate verify failed" in line.lower() and "last good copy" in line
        assert "编辑写的问题" in issue_md
    finally:
        server.stop()


def test_last_good_copy_is_used_when_a_feed_breaks(run, ws, httpserver):
    state = {"good": True}

    def handler(request):
        if state["good"]:
            return Response(
                rss(("上周抓到的", "https://l.example/1", IN_WEEK)),
                content_type="application/rss+xml",
            )
        return Response("oops", status=503)

    httpserver.expect_request("/rss").respond_with_handler(handler)
    root = ws([httpserver.url_for("/rss")])
    draft(run, root)
    state["good"] = False
    result, issue_md = draft(run, root)
    assert "上周抓到的" in issue_md
    assert "HTTP 503" in result.stderr and "using the last good copy" in result.stderr
    table = run("feeds", "-w", root).stdout
    row = next(ln for ln in table.splitlines() if "/rss" in ln)
    assert " 1 " in row and "HTTP 503" in row


def test_dedupe_by_arxiv_id_and_canonical_link_the_editor_wins(run, ws, httpserver):
    httpserver.expect_request("/a").respond_with_data(
        rss(
            ("Feed copy of 2401.00001", "https://arxiv.org/pdf/2401.00001v2", IN_WEEK),
            ("Tracked link", "https://blog.example/post/?utm_source=x", IN_WEEK),
            ("Same paper, abs", "https://export.arxiv.org/abs/2401.00002", IN_WEEK),
        )
    )
    httpserver.expect_request("/b").respond_with_data(
        rss(
            ("Mirror", "http://www.blog.example/post", IN_WEEK),
            ("Same paper, pdf", "https://arxiv.org/pdf/2401.00002.pdf", IN_WEEK),
        ),
    )
    notes = "## 论文分享\n\n1.《编辑的标题》https://arxiv.org/abs/2401.00001\n"
    root = ws([httpserver.url_for("/a"), httpserver.url_for("/b")], notes=notes)
    _, issue_md = draft(run, root)
    assert "编辑的标题" in issue_md and "Feed copy of 2401.00001" not in issue_md
    assert issue_md.count("blog.example/post") == 1
    assert issue_md.count("2401.00002") == 1 and "Same paper, abs" in issue_md


def test_undated_entries_are_kept_once(run, ws, httpserver):
    httpserver.expect_request("/rss").respond_with_data(
        rss(("没有日期", "https://u.example/1", None))
    )
    root = ws([httpserver.url_for("/rss")])
    assert "没有日期" in draft(run, root)[1]
    assert "没有日期" in draft(run, root)[1]  # the same issue again: still there
    result = run("draft", "-w", root, "--issue", "2026-W49")
    assert result.returncode == 0
    assert "没有日期" not in (root / "2026-W49" / "issue.md").read_text(encoding="utf-8")


def test_feed_html_is_sanitised_and_titles_stay_text(run, ws, httpserver):
    evil = (
        "&lt;p onclick='x()'&gt;Hi&lt;script&gt;alert(1)&lt;/script&gt;"
        "&lt;a href='javascript:bad()'&gt;link&lt;/a&gt;&lt;/p&gt;"
    )
    httpserver.expect_request("/rss").respond_with_data(
        rss(("&lt;b&gt;Bold&lt;/b&gt; title", "https://s.example/1", IN_WEEK), extra=evil)
    )
    root = ws([httpserver.url_for("/rss")])
    result, issue_md = draft(run, root)
    assert "- Bold title: https://s.example/1" in issue_md
    for out in ("email.html", "wechat.md", "post.md", "email.txt"):
        text = (root / ISSUE / "out" / out).read_text(encoding="utf-8")
        assert "alert(1)" not in text and "javascript:" not in text and "onclick" not in text
    assert "Hi" in issue_md and "link" in issue_md


ARXIV_OK = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<entry><id>http://arxiv.org/abs/2401.00001v1</id><title>A Paper About
  Long Context</title><author><name>Ada Li</name></author><author><name>Bo Wang</name></author></entry>
<entry><id>http://arxiv.org/abs/2401.00002v3</id><title>Second Paper</title>
<author><name>C. D.</name></author></entry>
</feed>"""

ARXIV_ERROR = """<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>http://arxiv.org/api/errors#incorrect_id_format</id>
<title>Error</title><summary>incorrect id format for 2401.99999</summary></entry></feed>"""


def arxiv_ws(tmp_path, api):
    (tmp_path / "composer.toml").write_text(f'[arxiv]\napi_url = "{api}"\n', encoding="utf-8")
    (tmp_path / ISSUE / "notes").mkdir(parents=True)
    (tmp_path / ISSUE / "notes" / "a.md").write_text(
        "## 论文分享\n\n1. https://arxiv.org/abs/2401.00001\n\n2. https://arxiv.org/pdf/2401.00002v3\n"
        "\n3.《有标题的》https://arxiv.org/abs/2401.00003\n",
        encoding="utf-8",
    )
    return tmp_path


def test_arxiv_titles_in_one_batched_cached_request(run, tmp_path, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(
        ARXIV_OK, content_type="application/atom+xml"
    )
    root = arxiv_ws(tmp_path, httpserver.url_for("/api/query"))
    result, issue_md = draft(run, root)
    assert result.returncode == 0, result.stderr
    assert "1. A Paper About Long Context https://arxiv.org/abs/2401.00001" in issue_md
    assert "2. Second Paper https://arxiv.org/pdf/2401.00002v3" in issue_md
    assert len(httpserver.log) == 1
    assert httpserver.log[0][0].args["id_list"] == "2401.00001,2401.00002"
    (root / ISSUE / "issue.md").unlink()
    draft(run, root)
    assert len(httpserver.log) == 1  # cached in the state: no second request


def test_arxiv_error_form_and_offline_leave_the_issue_unchanged(run, tmp_path, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(ARXIV_ERROR, status=400)
    root = arxiv_ws(tmp_path, httpserver.url_for("/api/query"))
    result, issue_md = draft(run, root, "--offline")
    assert len(httpserver.log) == 0 and "1. https://arxiv.org/abs/2401.00001" in issue_md
    result, issue_md = draft(run, root)
    assert "arXiv API error: incorrect id format for 2401.99999" in result.stderr
    assert "1. https://arxiv.org/abs/2401.00001" in issue_md


def test_add_collects_links_and_files_into_this_weeks_notes(run, tmp_path, httpserver):
    httpserver.expect_request("/api/query").respond_with_data(ARXIV_OK)
    root = arxiv_ws(tmp_path, httpserver.url_for("/api/query"))
    result = run("add", "https://arxiv.org/abs/2401.00001", "--issue", ISSUE, "-w", root)
    assert result.returncode == 0, result.stderr
    assert "论文分享: A Paper About Long Context" in result.stdout
    run("add", "https://blog.example/x", "--note", "值得一读", "--issue", ISSUE, "-w", root)
    extra = tmp_path / "draft.txt"
    extra.write_text("## 简短问答\n\nQ: 从文件加的\n", encoding="utf-8")
    assert run("add", extra, "--issue", ISSUE, "-w", root).returncode == 0
    inbox = (root / ISSUE / "notes" / "inbox.md").read_text(encoding="utf-8")
    assert "1. A Paper About Long Context https://arxiv.org/abs/2401.00001" in inbox
    assert "- https://blog.example/x\n    值得一读" in inbox
    assert (root / ISSUE / "notes" / "draft.txt").exists()
    bad = run("add", "ftp://x.example/file", "-w", root)
    assert bad.returncode == 2 and "http(s)" in bad.stderr
