"""`composer send` against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import email
import email.policy
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from smtp_server import SMTP_PASSWORD, append_config, configure_smtp, free_port

ISSUE = "2023-W47"
PASSWORD = SMTP_PASSWORD


def test_send_delivers_a_lossless_multipart_message(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 0, result.stderr
    assert "email: sent 2023-W47 to review@weekly.test, second@weekly.test" in result.stdout
    [envelope] = smtp.inbox.envelopes
    assert envelope.mail_from == "editor@weekly.test"
    assert envelope.rcpt_tos == ["review@weekly.test", "second@weekly.test"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message.get_content_type() == "multipart/alternative"
    assert message["Subject"] == f"AI 研究周报 {ISSUE}"
    assert message["Message-ID"] and message["Date"]
    assert message["List-Unsubscribe"] == "<mailto:editor@weekly.test?subject=unsubscribe>"
    text, html = message.get_payload()
    assert text.get_content_type() == "text/plain" and html.get_content_type() == "text/html"
    assert html["Content-Transfer-Encoding"] == "base64"
    assert html.get_content_charset() == "utf-8"
    out = drafted / ISSUE / "out"
    assert html.get_content() == (out / "email.html").read_text(encoding="utf-8")
    assert text.get_content() == (out / "email.txt").read_text(encoding="utf-8")


def test_the_subject_is_one_line_and_keeps_an_emoji_whole(run, drafted, smtp):
    issue_md = drafted / ISSUE / "issue.md"
    text = issue_md.read_text(encoding="utf-8")
    title = "第47期 👩\u200d💻 周报\u2028第二行\u202e反转"
    issue_md.write_text(text.replace(f'title: "AI 研究周报 {ISSUE}"', f'title: "{title}"', 1))
    assert title in issue_md.read_text(encoding="utf-8")
    assert run("render", ISSUE, "-w", drafted).returncode == 0
    configure_smtp(drafted, smtp.port)
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 0, result.stderr
    [envelope] = smtp.inbox.envelopes
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "第47期 👩\u200d💻 周报 第二行反转"


def test_one_click_unsubscribe_headers_with_an_https_url(run, drafted, smtp):
    config = drafted / "composer.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            "mailto:editor@weekly.test?subject=unsubscribe", "https://weekly.test/unsubscribe"
        ),
        encoding="utf-8",
    )
    configure_smtp(drafted, smtp.port)
    assert run("send", ISSUE, "-w", drafted).returncode == 0
    message = email.message_from_bytes(smtp.inbox.envelopes[0].content, policy=email.policy.default)
    assert message["List-Unsubscribe"] == "<https://weekly.test/unsubscribe>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


def test_the_sent_html_part_keeps_every_url_and_sentence(run, drafted, smtp, tmp_path):
    from conftest import check_outputs

    configure_smtp(drafted, smtp.port)
    assert run("send", ISSUE, "-w", drafted).returncode == 0
    message = email.message_from_bytes(smtp.inbox.envelopes[0].content, policy=email.policy.default)
    received = tmp_path / "received"
    received.mkdir()
    text, html = message.get_payload()
    (received / "email.html").write_text(html.get_content(), encoding="utf-8")
    (received / "email.txt").write_text(text.get_content(), encoding="utf-8")
    source = (drafted / ISSUE / "issue.md").read_text(encoding="utf-8")
    lost = [p for p in check_outputs(source, received) if "lost" in p.rule]
    assert lost == []


def test_an_issue_is_sent_once_unless_resend(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    assert run("send", ISSUE, "-w", drafted).returncode == 0
    again = run("send", ISSUE, "-w", drafted)
    assert again.returncode == 1
    [line] = [ln for ln in again.stderr.splitlines() if ln.startswith("Error:")]
    assert "already sent" in line and "review@weekly.test" in line
    assert len(smtp.inbox.envelopes) == 1
    assert run("send", ISSUE, "-w", drafted, "--resend").returncode == 0
    assert len(smtp.inbox.envelopes) == 2


def test_dry_run_prints_and_sends_nothing(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    result = run("send", ISSUE, "-w", drafted, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "review@weekly.test, second@weekly.test" in result.stdout
    assert f"AI 研究周报 {ISSUE}" in result.stdout and "KB" in result.stdout
    assert smtp.inbox.envelopes == []
    assert run("send", ISSUE, "-w", drafted).returncode == 0  # a dry run is not a send


def test_to_replaces_the_recipients(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    result = run("send", ISSUE, "-w", drafted, "--to", "me@weekly.test")
    assert result.returncode == 0, result.stderr
    assert smtp.inbox.envelopes[0].rcpt_tos == ["me@weekly.test"]
    real = run("send", ISSUE, "-w", drafted)  # a proof is not the issue's delivery
    assert real.returncode == 0, real.stderr
    assert smtp.inbox.envelopes[1].rcpt_tos == ["review@weekly.test", "second@weekly.test"]


def test_auth_uses_the_password_from_the_environment_only(run, drafted, smtp):
    configure_smtp(drafted, smtp.port, 'username = "editor@weekly.test"\n')
    result = run("send", ISSUE, "-w", drafted, env={"COMPOSER_SMTP_PASSWORD": PASSWORD})
    assert result.returncode == 0, result.stderr
    assert len(smtp.inbox.envelopes) == 1
    for path in drafted.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("extra", "env", "reason"),
    [
        ('username = "editor@weekly.test"\n', {"COMPOSER_SMTP_PASSWORD": "wrong"}, "refused"),
        ("", {}, "recipient refused: x@nobody.example"),
    ],
    ids=["bad-password", "rejected-recipient"],
)
def test_smtp_failures_are_one_line_and_leave_the_issue_unsent(
    run, drafted, smtp, extra, env, reason
):
    configure_smtp(drafted, smtp.port, extra)
    args = ["--to", "x@nobody.example"] if "recipient" in reason else []
    result = run("send", ISSUE, "-w", drafted, *args, env=env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert reason in line and f"127.0.0.1:{smtp.port}" in line
    assert smtp.inbox.envelopes == []
    retry = run("send", ISSUE, "-w", drafted, env={"COMPOSER_SMTP_PASSWORD": PASSWORD})
    assert retry.returncode == 0, retry.stderr  # still unsent, so it goes now


def test_a_missing_password_blocks_every_target_before_any_sends(run, drafted, smtp, tmp_path):
    configure_smtp(drafted, smtp.port, 'username = "editor@weekly.test"\n')
    append_config(drafted, f'[delivery.directory]\npath = "{tmp_path / "site"}"\n')
    env = {"COMPOSER_SMTP_PASSWORD": ""}
    check = run("check", ISSUE, "-w", drafted, env=env)
    assert check.returncode == 1
    assert "[secret-unset] [delivery.email] username is set but" in check.stderr
    result = run("send", ISSUE, "-w", drafted, env=env)
    assert result.returncode == 1 and "[secret-unset]" in result.stderr
    assert smtp.inbox.envelopes == [] and not (tmp_path / "site").exists()  # no partial send
    retry = run("send", ISSUE, "-w", drafted, env={"COMPOSER_SMTP_PASSWORD": PASSWORD})
    assert retry.returncode == 0, retry.stderr


def test_a_refused_connection_is_one_line(run, drafted):
    configure_smtp(drafted, free_port())
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "connection refused" in result.stderr


def test_blocking_check_problems_stop_the_send_unless_force(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    override = drafted / "templates" / "issue.text.j2"  # a theme override that drops content
    override.parent.mkdir()
    override.write_text("{{ issue.title }}\n", encoding="utf-8")
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 1, result.stdout
    assert "blocking problem" in result.stderr and "email.txt" in result.stderr
    assert "--force" in result.stderr
    assert smtp.inbox.envelopes == []
    assert run("send", ISSUE, "-w", drafted, "--force").returncode == 0
    assert len(smtp.inbox.envelopes) == 1


def test_directory_deliverer_copies_the_hugo_post(run, drafted, tmp_path):
    site = tmp_path / "site" / "content" / "weekly"
    append_config(drafted, f'[delivery.directory]\npath = "{site.as_posix()}"\n')
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 0, result.stderr
    copied = site / f"{ISSUE}.md"
    assert copied.read_bytes() == (drafted / ISSUE / "out" / "post.md").read_bytes()


def test_webhook_deliverer_posts_json(run, drafted, httpserver):
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    append_config(drafted, f'[delivery.webhook]\nurl = "{httpserver.url_for("/hook")}"\n')
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 0, result.stderr
    [(request, _)] = httpserver.log
    payload = request.get_json()
    assert payload["id"] == ISSUE and payload["outputs"]["email.html"].endswith("email.html")


class Trickle(BaseHTTPRequestHandler):
    """Reads the POST, then answers one byte every 0.2 s, for ever (until the client
    goes or 60 s pass)."""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Length", "1000000")
        self.end_headers()
        for _ in range(300):
            try:
                self.wfile.write(b".")
                self.wfile.flush()
            except OSError:
                return
            time.sleep(0.2)

    def log_message(self, *args):
        pass


def test_a_webhook_that_never_finishes_answering_fails_within_its_timeout(run, drafted):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Trickle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        append_config(drafted, f'[delivery.webhook]\nurl = "{url}"\ntimeout = 1\n')
        result = run("send", ISSUE, "-w", drafted)
    finally:
        server.shutdown()
    assert result.returncode == 1
    assert "webhook" in result.stderr and "timed out after 1 s" in result.stderr


def test_a_webhook_redirect_is_not_followed(run, drafted, httpserver):
    httpserver.expect_request("/hook", method="POST").respond_with_data(
        "", status=302, headers={"Location": httpserver.url_for("/elsewhere")}
    )
    append_config(drafted, f'[delivery.webhook]\nurl = "{httpserver.url_for("/hook")}"\n')
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 1
    assert "HTTP 302 (a redirect: set url to where it points)" in result.stderr
    assert [r.path for r, _ in httpserver.log] == ["/hook"]


def test_send_without_delivery_config_says_what_to_add(run, drafted):
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 2
    assert "[delivery.email]" in result.stderr


def test_a_bad_delivery_key_names_file_line_and_plugin(run, drafted):
    configure_smtp(drafted, 25, "smtp_prot = 25\n")
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 2
    assert "unknown key 'smtp_prot' in [delivery.email]" in result.stderr
    assert "composer.toml:" in result.stderr and "(plugin email)" in result.stderr


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('reply_to = "a@weekly.test, b@weekly.test"', "not one email address (one per entry)"),
        ('reply_to = "a@weekly.test\\nBcc: spy@evil.test"', "it contains a line break"),
        ('reply_to = "nobody"', "not an email address like editor@example.org"),
    ],
)
def test_an_address_that_is_not_one_address_is_a_config_error(run, drafted, extra, expected):
    configure_smtp(drafted, 25, extra + "\n")
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 2, result.stderr
    assert expected in result.stderr and "reply_to" in result.stderr
    assert "composer.toml:" in result.stderr and "Traceback" not in result.stderr


def test_a_to_that_is_not_one_address_sends_nothing(run, drafted, smtp):
    configure_smtp(drafted, smtp.port)
    result = run("send", ISSUE, "-w", drafted, "--to", "me@weekly.test\r\nBcc: spy@evil.test")
    assert result.returncode == 2
    assert "--to " in result.stderr and "it contains a line break" in result.stderr
    assert smtp.inbox.envelopes == []


@pytest.mark.parametrize("mode", ["starttls", "ssl"])
def test_tls_modes_with_auth(run, drafted, certificate, mode):
    import ssl

    from aiosmtpd.controller import Controller
    from smtp_server import Inbox, authenticator

    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    if mode == "starttls":
        tls = {"tls_context": context, "require_starttls": True}
    else:  # aiosmtpd does not count implicit TLS as TLS for AUTH; real servers do
        tls = {"ssl_context": context, "auth_require_tls": False}
    server = Controller(
        inbox, hostname="127.0.0.1", port=free_port(), authenticator=authenticator, **tls
    )
    server.start()
    try:
        configure_smtp(drafted, server.port, f'{mode} = true\nusername = "editor@weekly.test"\n')
        env = {"COMPOSER_SMTP_PASSWORD": PASSWORD, "SSL_CERT_FILE": str(cert)}
        result = run("send", ISSUE, "-w", drafted, env=env)
        assert result.returncode == 0, result.stderr
        assert len(inbox.envelopes) == 1
        untrusted = run(
            "send",
            ISSUE,
            "-w",
            drafted,
            "--resend",
            env={"SSL_CERT_FILE": "/dev/null", "COMPOSER_SMTP_PASSWORD": PASSWORD},
        )
        assert untrusted.returncode == 1 and "Traceback" not in untrusted.stderr
        assert "CERTIFICATE_VERIFY_FAILED" in untrusted.stderr or "certificate" in untrusted.stderr
    finally:
        server.stop()


DELIVERER_PLUGIN = """
from dataclasses import dataclass
from pathlib import Path

from composer.contract.hookspecs import hookimpl
from composer.contract.protocols import DeliveryError


@dataclass
class ArchiveConfig:
    __pydantic_config__ = {"extra": "forbid"}
    folder: str


class Archive:
    name = "archive"
    config_key = "delivery.archive"
    config = ArchiveConfig

    def describe(self, delivery, ctx):
        return "archive the text part"

    def deliver(self, delivery, ctx):
        target = Path(ctx.config_for(self.config_key).folder) / (delivery.issue.id + ".txt")
        target.write_text(delivery.read("email.txt"), encoding="utf-8")
        return str(target)


class Broken:
    name = "broken"
    config_key = "delivery.broken"
    config = None

    def describe(self, delivery, ctx):
        return "nothing"

    def deliver(self, delivery, ctx):
        raise RuntimeError("bug in the plugin")


@hookimpl
def register_deliverers(register):
    register(Archive())
    register(Broken())
"""


def test_a_third_party_deliverer_runs_and_a_raising_one_fails_alone(run, drafted, tmp_path):
    (drafted / "plugins").mkdir()
    (drafted / "plugins" / "archiver.py").write_text(DELIVERER_PLUGIN, encoding="utf-8")
    config = drafted / "composer.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("local = []", 'local = ["plugins/archiver.py"]'),
        encoding="utf-8",
    )
    archive = tmp_path / "archive"
    archive.mkdir()
    append_config(
        drafted, f'[delivery.archive]\nfolder = "{archive.as_posix()}"\n\n[delivery.broken]\n'
    )
    result = run("send", ISSUE, "-w", drafted)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "broken (plugin archiver): RuntimeError: bug in the plugin" in result.stderr
    archived = archive / f"{ISSUE}.txt"
    assert archived.read_text(encoding="utf-8") == (
        drafted / ISSUE / "out" / "email.txt"
    ).read_text(encoding="utf-8")
    archived.unlink()
    retry = run("send", ISSUE, "-w", drafted)  # only the failed target is tried again
    assert retry.returncode == 1 and not archived.exists()
