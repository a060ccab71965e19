"""Nothing empty or unfinished goes out: `check`, `send` and the scheduled run refuse an
issue without items, init's example, placeholder addresses and a failed renderer;
`--force` overrides. A title with a line break stays one header line."""

from __future__ import annotations

import datetime as dt
import email
import email.policy

import pytest
from conftest import make_sendable
from smtp_server import append_config, configure_smtp

ISSUE = "2023-W47"
GUARD = '\n[arxiv]\napi_url = "http://127.0.0.1:9/"\n'  # never the real arXiv API


def error_lines(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith(("Error:", "error:"))]


def test_a_workspace_straight_from_init_is_refused_until_forced(run, tmp_path, smtp):
    ws = tmp_path / "digest"
    assert run("init", ws).returncode == 0
    [week] = [p.name for p in ws.iterdir() if (p / "notes" / "example.md").is_file()]
    assert run("draft", "-w", ws, "--issue", week, "--offline").returncode == 0
    append_config(
        ws,
        f"""{GUARD}
[schedule]
cron = "0 9 * * wed"
action = "draft+send"

[delivery.email]
smtp_host = "127.0.0.1"
smtp_port = {smtp.port}
from = "AI 周报 <editor@example.org>"
to = ["review@example.org"]
""",
    )
    check = run("check", "-w", ws, week)
    assert check.returncode == 1
    found = "\n".join(error_lines(check))
    for expected in (
        "[example-note] the example note of `composer init` is still in the issue",
        "[unset] set [newsletter] unsubscribe_url",
        "[unset] set [newsletter] url",
        "[placeholder] [delivery.email] from = 'AI 周报 <editor@example.org>'",
    ):
        assert expected in found

    send = run("send", "-w", ws, week)
    assert send.returncode == 1 and "Traceback" not in send.stderr
    [line] = [ln for ln in error_lines(send) if ln.startswith("Error:")]
    assert "4 blocking problem(s), first:" in line
    assert "--force" in send.stderr

    year, number = int(week[:4]), int(week[6:])
    wednesday = dt.datetime.combine(dt.date.fromisocalendar(year, number, 3), dt.time(9))
    first = (wednesday - dt.timedelta(days=6)).isoformat()
    assert run("schedule", "-w", ws, "--once", "--at", first).returncode == 0
    scheduled = run("schedule", "-w", ws, "--once", "--at", f"{wednesday.isoformat()}:30")
    assert scheduled.returncode == 1
    assert f"{week}: blocked: " in scheduled.stderr
    assert "(4 blocking problems); fix it (in issue.md, then" in scheduled.stderr
    assert f"and run `composer send {week}`" in scheduled.stderr
    assert smtp.inbox.envelopes == []

    forced = run("send", "-w", ws, week, "--force")
    assert forced.returncode == 0, forced.stderr
    assert [e.rcpt_tos for e in smtp.inbox.envelopes] == [["review@example.org"]]


@pytest.fixture
def sendable(run, workspace, smtp):
    make_sendable(workspace)
    append_config(workspace, GUARD)
    configure_smtp(workspace, smtp.port)
    return workspace


def test_an_issue_without_items_is_refused_by_check_and_send(run, sendable, smtp):
    draft = run("draft", "-w", sendable, "--issue", "2026-W10", "--offline")
    assert draft.returncode == 0, draft.stderr
    check = run("check", "-w", sendable, "2026-W10")
    assert check.returncode == 1
    assert "issue: [empty-issue] the issue has no items" in check.stderr
    send = run("send", "-w", sendable, "2026-W10")
    assert send.returncode == 1 and "[empty-issue]" in send.stderr
    assert smtp.inbox.envelopes == []
    assert run("send", "-w", sendable, "2026-W10", "--force").returncode == 0
    assert len(smtp.inbox.envelopes) == 1


@pytest.mark.parametrize(
    "address",
    [
        "https://example.com/unsubscribe",
        "https://news.example/unsubscribe",
        "https://list.invalid/unsubscribe",
        "http://localhost/unsubscribe",
        "mailto:editor@example.net",
    ],
)
def test_a_placeholder_unsubscribe_address_is_blocking(run, sendable, smtp, address):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    config = sendable / "composer.toml"
    text = config.read_text(encoding="utf-8")
    text = text.replace("mailto:editor@weekly.test?subject=unsubscribe", address)
    config.write_text(text, encoding="utf-8")
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 1
    assert f"[placeholder] [newsletter] unsubscribe_url = '{address}'" in send.stderr
    assert smtp.inbox.envelopes == []


@pytest.mark.parametrize(
    ("line", "rule", "said"),
    [
        ("- TODO: 补上第三篇论文的总结", "[unfinished]", "«TODO»"),
        ("这一段待补充。", "[unfinished]", "«待补充»"),
        ("【todo】写摘要", "[unfinished]", "«todo»"),
        ("1. TODO 第三篇", "[unfinished]", "«TODO»"),
        ("- https://example.org/paper-link 我的一篇新论文", "[example-note]", "still in"),
    ],
)
def test_an_unfinished_line_or_a_kept_placeholder_link_is_blocking(
    run, sendable, smtp, line, rule, said
):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    issue_md = sendable / ISSUE / "issue.md"
    issue_md.write_text(issue_md.read_text(encoding="utf-8") + f"\n## 杂记\n\n{line}\n", "utf-8")
    assert run("render", "-w", sendable, ISSUE).returncode == 0
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 1
    (problem,) = [ln for ln in error_lines(send) if rule in ln]
    assert said in problem
    assert smtp.inbox.envelopes == []


@pytest.mark.parametrize(
    "data",
    [
        "## 讨论\n\n话题：重要的讨论 https://mix.test/a\n".encode() + b"caf\xe9 \x80\xff\x80\xff",
        "## 讨论\n\n话题：重要 https://mix.test/a\n".encode() + "第二行".encode("gb18030"),
    ],
    ids=["undecodable", "mixed-encodings"],
)
def test_a_note_draft_could_not_read_blocks_the_send(run, sendable, smtp, data):
    notes = sendable / ISSUE / "notes"
    (notes / "zz-broken.md").write_bytes(data)
    draft = run("draft", "-w", sendable, "--issue", ISSUE, "--offline")
    assert draft.returncode == 0 and "zz-broken.md" in draft.stderr  # a warning, draft goes on
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 1
    assert f"{ISSUE}/notes/zz-broken.md: [note-not-read] not read (" in send.stderr
    assert smtp.inbox.envelopes == []


def test_check_names_every_unfinished_line_at_once(run, sendable):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    issue_md = sendable / ISSUE / "issue.md"
    extra = "\n## 杂记\n\nTODO 第一处\n\n中间的正文。\n\nXXX 第二处\n\n这里待补充\n\nXXX：匿名的一位说。\n"
    issue_md.write_text(issue_md.read_text(encoding="utf-8") + extra, "utf-8")
    assert run("render", "-w", sendable, ISSUE).returncode == 0
    check = run("check", "-w", sendable, ISSUE)
    assert check.returncode == 1
    assert len([ln for ln in error_lines(check) if "[unfinished]" in ln]) == 3


def test_an_issue_md_naming_another_week_is_blocking(run, sendable, smtp):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    copied = sendable / "2023-W48"
    copied.mkdir()
    (copied / "issue.md").write_bytes((sendable / ISSUE / "issue.md").read_bytes())
    assert run("render", "-w", sendable, "2023-W48").returncode == 0
    send = run("send", "-w", sendable, "2023-W48")
    assert send.returncode == 1
    assert (
        "2023-W48/issue.md:4: [wrong-issue] its front matter says issue: 2023-W47, "
        "but it is the issue.md of 2023-W48"
    ) in send.stderr
    assert smtp.inbox.envelopes == []


def test_an_unsubscribe_address_readers_cannot_open_is_blocking(run, sendable, smtp):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    config = sendable / "composer.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(
        text.replace("mailto:editor@weekly.test?subject=unsubscribe", "ftp://lists.weekly.test/u")
    )
    check = run("check", "-w", sendable, ISSUE)
    assert check.returncode == 1
    assert (
        "[scheme] [newsletter] unsubscribe_url = 'ftp://lists.weekly.test/u': readers open it"
        in check.stderr
    )
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 1
    assert smtp.inbox.envelopes == []


LOUD = """
from composer.api import hookimpl


class Loud:
    name = "loud"
    outputs = ("loud.txt",)
    config = None

    def render(self, issue, ctx):
        raise ValueError("renderer exploded")


@hookimpl
def register_renderers(register):
    register(Loud())
"""


def test_a_raising_plugin_renderer_fails_render_draft_and_send(run, sendable, smtp):
    (sendable / "plugins").mkdir()
    (sendable / "plugins" / "loudplugin.py").write_text(LOUD, encoding="utf-8")
    config = sendable / "composer.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("local = []", 'local = ["plugins/loudplugin.py"]'), "utf-8")
    named = "Error: renderer loud (plugin loudplugin): ValueError: renderer exploded"
    for command in (
        ("draft", "-w", sendable, "--issue", ISSUE, "--offline"),
        ("render", "-w", sendable, ISSUE),
        ("send", "-w", sendable, ISSUE),
    ):
        result = run(*command)
        assert result.returncode == 1, (command, result.stderr)
        assert named in result.stderr and "Traceback" not in result.stderr
    assert smtp.inbox.envelopes == []
    assert not (sendable / ISSUE / "out" / "loud.txt").exists()


def test_a_broken_theme_template_fails_and_leaves_no_stale_output(run, sendable, smtp):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    out = sendable / ISSUE / "out"
    assert (out / "email.html").is_file()
    (sendable / "templates").mkdir()
    (sendable / "templates" / "issue.email.j2").write_text(
        "<html>\n{% for section in %}\n</html>\n", encoding="utf-8"
    )
    render = run("render", "-w", sendable, ISSUE)
    assert render.returncode == 1 and "Traceback" not in render.stderr
    [line] = [ln for ln in render.stderr.splitlines() if ln.startswith("Error:")]
    assert "renderer email (plugin email, issue.email.j2:2)" in line
    assert not (out / "email.html").exists() and not (out / "email.eml").exists()
    assert (out / "wechat.md").is_file()  # the other renderers still wrote theirs
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 1 and "renderer email" in send.stderr
    assert smtp.inbox.envelopes == []


def test_a_title_with_a_line_break_is_one_subject_line(run, sendable, smtp):
    assert run("draft", "-w", sendable, "--issue", ISSUE, "--offline").returncode == 0
    issue_md = sendable / ISSUE / "issue.md"
    text = issue_md.read_text(encoding="utf-8")
    broken = "title: |-\n  本周\n  Bcc: everyone@weekly.test\n  第二行"  # a YAML block: 3 lines
    issue_md.write_text(text.replace(f'title: "AI 研究周报 {ISSUE}"', broken), "utf-8")
    render = run("render", "-w", sendable, ISSUE)
    assert render.returncode == 0, render.stderr
    out = sendable / ISSUE / "out"
    assert (out / "email.html").is_file()
    eml = email.message_from_bytes((out / "email.eml").read_bytes(), policy=email.policy.default)
    assert eml["Subject"] == "本周 Bcc: everyone@weekly.test 第二行" and eml["Bcc"] is None
    send = run("send", "-w", sendable, ISSUE)
    assert send.returncode == 0, send.stderr
    [envelope] = smtp.inbox.envelopes
    assert envelope.rcpt_tos == ["review@weekly.test", "second@weekly.test"]
    sent = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert sent["Subject"] == eml["Subject"] and sent["Bcc"] is None
