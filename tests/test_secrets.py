"""Credentials never show or stay: a token in feed and webhook URLs is masked in every
message and written to no file (the state's bytes included); SMTP AUTH without TLS goes
to this machine only, unless the table allows it. Loopback traffic only: the commands
that could reach further run under tests/netguard.py's guard."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import make_sendable
from racing import together
from smtp_server import SMTP_PASSWORD, append_config
from werkzeug import Response

ISSUE = "2023-W47"  # Monday 2023-11-20 .. Sunday 2023-11-26, Asia/Shanghai
TOKEN = "tok-5e1f7c0a9b"
FEED = (
    '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Lab</title>'
    "<link>/</link><item><title>本周新文</title><link>/post/1</link>"
    "<pubDate>Wed, 22 Nov 2023 10:00:00 GMT</pubDate><description>摘要。</description>"
    "</item></channel></rss>"
)


def with_token(url: str, user: str = "") -> str:
    return url.replace("http://", f"http://{user + ':' if user else ''}{TOKEN}@")


def written(root: Path) -> list[Path]:
    """Every file under ``root`` but composer.toml, where the editor put the token."""
    return [p for p in root.rglob("*") if p.is_file() and p.name != "composer.toml"]


def test_a_token_in_feed_and_webhook_urls_is_never_shown_or_stored(
    run, workspace, httpserver, tmp_path
):
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml"
    )
    httpserver.expect_request("/gone.xml").respond_with_data("gone", status=404)
    hook_answers = iter([500, 200])
    httpserver.expect_request("/hook", method="POST").respond_with_handler(
        lambda request: Response("ok", status=next(hook_answers, 200))
    )
    ws = make_sendable(workspace)
    feed, gone = (
        with_token(httpserver.url_for("/feed.xml"), "reader"),
        with_token(httpserver.url_for("/gone.xml")),
    )
    append_config(
        ws,
        f'[feeds]\nurls = ["{feed}", "{gone}"]\ntimeout = 5\n\n'
        '[arxiv]\napi_url = "http://127.0.0.1:9/"\n\n'
        f'[delivery.webhook]\nurl = "{with_token(httpserver.url_for("/hook"), "bot")}"\n\n'
        '[schedule]\ncron = "0 9 * * fri"\naction = "draft+send"\n',
    )
    results = [
        run("draft", "-w", ws, "--issue", ISSUE),
        run("feeds", "-w", ws),
        run("feeds", "-w", ws, "--check"),
        run("send", ISSUE, "-w", ws, "--dry-run"),
        run("send", ISSUE, "-w", ws),  # the webhook answers 500
        run("send", ISSUE, "-w", ws),
        run("send", ISSUE, "-w", ws),  # already sent
        run("schedule", "-w", ws, "--once", "--at", "2023-11-15T10:00"),
        run("schedule", "-w", ws, "--once", "--at", "2023-11-24T09:00:30"),
        run("schedule", "-w", ws, "--next", "1"),
    ]
    assert [r.returncode for r in results] == [0, 0, 1, 0, 1, 0, 1, 0, 0, 0], results
    shown = "\n".join(r.stdout + r.stderr for r in results)
    assert TOKEN not in shown
    assert "http://***@localhost" in shown  # the URLs are named, masked
    assert "feed broken (HTTP 404" in shown and "HTTP 500" in shown
    for path in written(tmp_path):
        assert TOKEN.encode() not in path.read_bytes(), path
    issue_md = (ws / ISSUE / "issue.md").read_text(encoding="utf-8")
    assert httpserver.url_for("/post/1") in issue_md  # a relative link, no credentials
    hooks = [request for request, _ in httpserver.log if request.path == "/hook"]
    assert [r.authorization.username for r in hooks] == ["bot", "bot"]  # still used


def smtp_table(ws: Path, host: str, port: int, extra: str = "") -> None:
    append_config(
        ws,
        f'[delivery.email]\nsmtp_host = "{host}"\nsmtp_port = {port}\n'
        'from = "editor@weekly.test"\nto = ["review@weekly.test"]\n'
        f'username = "editor@weekly.test"\n{extra}',
    )


def guarded_send(ws: Path, cwd: Path):
    [result] = together(
        ("send", ISSUE, "-w", ws), cwd=cwd, env={"COMPOSER_SMTP_PASSWORD": SMTP_PASSWORD}
    )
    assert "Traceback" not in result.stderr
    return result


def test_plain_text_auth_to_another_host_is_refused_before_connecting(drafted, tmp_path):
    smtp_table(drafted, "smtp.invalid", 587)  # resolves nowhere; the guard stops any lookup
    result = guarded_send(drafted, tmp_path)  # `check` refuses it: a blocking problem
    assert result.returncode == 1
    assert (
        "[insecure-auth] [delivery.email] refusing to send the password unencrypted: "
        "set starttls = true or ssl = true (or allow_insecure_auth = true if you must)"
    ) in result.stderr
    assert "test guard" not in result.stderr  # no name was looked up
    [forced] = together(
        ("send", ISSUE, "-w", drafted, "--force"),
        cwd=tmp_path,
        env={"COMPOSER_SMTP_PASSWORD": SMTP_PASSWORD},
    )
    assert forced.returncode == 1  # --force passes check; the deliverer still refuses
    assert (
        "Error: email: smtp.invalid:587: refusing to send the password unencrypted"
    ) in forced.stderr
    assert "test guard" not in forced.stderr


def test_allow_insecure_auth_lets_it_through(drafted, smtp, tmp_path):
    smtp_table(drafted, "smtp.invalid", 587, "allow_insecure_auth = true\n")
    tried = guarded_send(drafted, tmp_path)  # not refused: it looks the name up (guarded)
    assert tried.returncode == 1 and "refusing" not in tried.stderr
    assert "test guard: no DNS lookup of smtp.invalid" in tried.stderr

    config = drafted / "composer.toml"
    text = config.read_text(encoding="utf-8")
    # IPv4-mapped 127.0.0.1: the deliverer does not count it as loopback, yet it is
    mapped = text.replace('"smtp.invalid"', '"::ffff:127.0.0.1"').replace("587", str(smtp.port))
    config.write_text(mapped.replace("allow_insecure_auth = true\n", ""), encoding="utf-8")
    refused = guarded_send(drafted, tmp_path)
    assert refused.returncode == 1 and "refusing to send the password" in refused.stderr
    config.write_text(mapped, encoding="utf-8")
    sent = guarded_send(drafted, tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert len(smtp.inbox.envelopes) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_plain_text_auth_to_this_machine_works(drafted, smtp, tmp_path, host):
    smtp_table(drafted, host, smtp.port)
    result = guarded_send(drafted, tmp_path)
    assert result.returncode == 0, result.stderr
    assert len(smtp.inbox.envelopes) == 1
