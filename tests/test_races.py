"""Runs that race: real `composer` processes started together against aiosmtpd, the
real SQLite state in between. Each delivery goes out once; no "database is locked"."""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import sqlite3
from pathlib import Path

import pytest
from conftest import ROOT, make_sendable
from racing import together
from smtp_server import append_config, configure_smtp

ISSUE = "2023-W47"
# A few real concurrent trials of each race; the logic each relies on (claims, the
# state's locks) is also tested deterministically below, one step held at a time.
TRIALS = 3
LOST = ("is being sent by another run", "was just sent by another run", "was already sent")
GUARD = '\n[arxiv]\napi_url = "http://127.0.0.1:9/"\n'  # never the real arXiv API


def sql(ws: Path, statement: str, *args) -> list:
    with sqlite3.connect(ws / ".composer" / "state.db") as db:
        return db.execute(statement, args).fetchall()


@pytest.fixture
def drafted(run, workspace, smtp):
    make_sendable(workspace)
    append_config(workspace, GUARD)
    configure_smtp(workspace, smtp.port)
    result = run("draft", "-w", workspace, "--issue", ISSUE, "--offline")
    assert result.returncode == 0, result.stderr
    return workspace


def send(ws: Path, *extra) -> tuple:
    return ("send", ISSUE, "-w", ws, *extra)


def assert_one_won(results) -> None:
    """One run delivered; every other one exited 1 with one line saying why not."""
    assert sorted(r.returncode for r in results) == [0] + [1] * (len(results) - 1), results
    for loser in (r for r in results if r.returncode):
        assert any(reason in loser.error for reason in LOST), loser.stderr
        assert "Traceback" not in loser.stderr


def test_sends_at_once_deliver_the_issue_once(drafted, smtp, tmp_path):
    for _ in range(TRIALS):
        sql(drafted, "DELETE FROM deliveries")
        smtp.inbox.envelopes.clear()
        results = together(send(drafted), send(drafted), send(drafted), cwd=tmp_path)
        assert len(smtp.inbox.envelopes) == 1, [r.stderr for r in results]
        assert_one_won(results)
        assert sql(drafted, "SELECT * FROM delivery_claims") == []
    [(target,)] = sql(drafted, "SELECT target FROM deliveries")
    assert target == "review@weekly.test, second@weekly.test"


def test_resends_at_once_replace_the_delivery_once(run, drafted, smtp, tmp_path):
    assert run(*send(drafted)).returncode == 0
    for trial in range(TRIALS):
        results = together(send(drafted, "--resend"), send(drafted, "--resend"), cwd=tmp_path)
        assert len(smtp.inbox.envelopes) == 2 + trial, [r.stderr for r in results]
        assert_one_won(results)


def test_a_proof_needs_no_claim_and_leaves_none(run, drafted, smtp):
    sql(
        drafted,
        "INSERT INTO delivery_claims (issue_id, deliverer, token, claimed_at) "
        "VALUES (?, 'email', 'other', ?)",
        ISSUE,
        now(),
    )
    proof = run(*send(drafted, "--to", "me@weekly.test"))
    assert proof.returncode == 0, proof.stderr
    assert smtp.inbox.envelopes[0].rcpt_tos == ["me@weekly.test"]
    assert sql(drafted, "SELECT token FROM delivery_claims") == [("other",)]
    assert sql(drafted, "SELECT * FROM deliveries") == []


def now(**ago) -> str:
    return (dt.datetime.now(dt.UTC) - dt.timedelta(**ago)).isoformat(timespec="seconds")


def claim(ws: Path, at: str, began: bool, deliverer: str = "email") -> None:
    """A claim as a run leaves it: marked unsent until it begins to deliver."""
    sql(
        ws,
        "INSERT OR REPLACE INTO delivery_claims VALUES (?, ?, 'crashed', ?)",
        ISSUE,
        deliverer,
        at,
    )
    if not began:
        sql(ws, "INSERT OR REPLACE INTO delivery_unsent VALUES (?, ?, 'crashed')", ISSUE, deliverer)


BEGAN = (
    "SELECT c.deliverer FROM delivery_claims c WHERE NOT EXISTS (SELECT 1 FROM "
    "delivery_unsent u WHERE u.deliverer = c.deliverer AND u.token = c.token)"
)


def test_a_fresh_claim_blocks_and_a_stale_one_is_a_doubt(run, drafted, smtp):
    claim(drafted, now(minutes=50), began=True)
    busy = run(*send(drafted))
    assert busy.returncode == 1 and smtp.inbox.envelopes == []
    assert "is being sent by another run (email claimed at" in busy.stderr
    assert "older than 1 hour is a run that crashed" in busy.stderr

    claim(drafted, now(minutes=61), began=True)  # killed while sending
    dry = run(*send(drafted, "--dry-run"))
    assert dry.returncode == 0 and "(refused now: it may have gone out: " in dry.stdout
    doubt = run(*send(drafted))
    assert doubt.returncode == 1 and smtp.inbox.envelopes == []
    assert "may have been sent already" in doubt.stderr and "never finished" in doubt.stderr
    assert "--resend" in doubt.stderr
    taken = run(*send(drafted, "--resend"))
    assert taken.returncode == 0, taken.stderr
    assert "--resend took over a claim" in taken.stderr and len(smtp.inbox.envelopes) == 1
    assert sql(drafted, "SELECT * FROM delivery_claims") == []


def test_a_claim_as_an_earlier_version_wrote_it_stays_a_doubt(run, drafted, smtp):
    """Earlier versions wrote no unsent mark, and claimed just before sending."""
    sql(drafted, "INSERT INTO delivery_claims VALUES (?, 'email', 'old', ?)", ISSUE, now(hours=2))
    doubt = run(*send(drafted))
    assert doubt.returncode == 1 and smtp.inbox.envelopes == []
    assert "may have been sent already" in doubt.stderr


def test_a_stale_claim_whose_run_never_began_sending_is_taken_over(run, drafted, smtp):
    claim(drafted, now(minutes=61), began=False)  # killed during an earlier deliverer
    dry = run(*send(drafted, "--dry-run"))
    assert dry.returncode == 0 and "(takes over a claim of " in dry.stdout
    taken = run(*send(drafted))
    assert taken.returncode == 0, taken.stderr
    assert "email: took over a claim of" in taken.stderr
    assert "it had sent nothing there" in taken.stderr and len(smtp.inbox.envelopes) == 1
    assert sql(drafted, "SELECT * FROM delivery_claims") == []
    assert sql(drafted, "SELECT * FROM delivery_unsent") == []


def use_smtp_port(ws: Path, old: int, new: int) -> None:
    config = ws / "composer.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f"smtp_port = {old}", f"smtp_port = {new}"), "utf-8")


def wait_for(ws: Path, query: str) -> None:
    import time

    deadline = time.monotonic() + 60
    while not sql(ws, query):
        assert time.monotonic() < deadline, f"never: {query}"
        time.sleep(0.05)


def test_a_run_killed_while_sending_leaves_a_doubt_and_its_next_claim_is_taken_over(
    run, drafted, smtp, tmp_path
):
    """A real crash: the send is killed while the SMTP server keeps it waiting; the
    directory delivery it claimed, and had not begun, is taken over by the next run."""
    import socket

    from racing import start

    silent = socket.create_server(("127.0.0.1", 0))  # accepts, never greets
    port = silent.getsockname()[1]
    use_smtp_port(drafted, smtp.port, port)
    append_config(drafted, f'\n[delivery.directory]\npath = "{(tmp_path / "site").as_posix()}"\n')
    waiting = start(send(drafted), cwd=tmp_path)
    wait_for(drafted, BEGAN)
    waiting.kill()
    [killed] = waiting()
    silent.close()
    assert killed.returncode < 0
    assert sql(drafted, BEGAN) == [("email",)]
    assert sql(drafted, "SELECT deliverer FROM delivery_unsent") == [("directory",)]
    sql(drafted, "UPDATE delivery_claims SET claimed_at = ?", now(minutes=61))
    use_smtp_port(drafted, port, smtp.port)
    after = run(*send(drafted))
    assert after.returncode == 1 and smtp.inbox.envelopes == []
    assert "directory: took over a claim of" in after.stderr
    assert "email at" in after.stderr and "may have been sent already" in after.stderr
    assert list((tmp_path / "site").iterdir())
    assert [d for (d,) in sql(drafted, "SELECT deliverer FROM deliveries")] == ["directory"]


def test_a_claim_taken_over_from_a_live_run_is_not_delivered_by_it(
    run, drafted, smtp, httpserver, tmp_path
):
    """A run slow in its first delivery (past the hour) loses its next claim to another
    run: that delivery goes out once, by the run that took it over."""
    from racing import start
    from smtp_server import start_stalling_server

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    slow = start_stalling_server(4)  # DATA answered after 4 s
    use_smtp_port(drafted, smtp.port, slow.port)
    append_config(drafted, f'\n[delivery.webhook]\nurl = "{httpserver.url_for("/hook")}"\n')
    try:
        first = start(send(drafted), cwd=tmp_path)
        wait_for(drafted, BEGAN)
        sql(drafted, "UPDATE delivery_claims SET claimed_at = ?", now(minutes=61))  # an hour on
        second = run(*send(drafted))
        [slow_run] = first()
    finally:
        slow.stop()
    assert len(httpserver.log) == 1, (slow_run.stderr, second.stderr)
    assert "webhook: took over a claim of" in second.stderr
    assert slow_run.returncode == 1
    assert "is being sent by another run (webhook claimed at meanwhile)" in slow_run.stderr


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_an_interrupted_send_releases_what_it_had_not_begun(
    run, drafted, smtp, httpserver, tmp_path, signum, code
):
    import socket

    from racing import start

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    silent = socket.create_server(("127.0.0.1", 0))
    port = silent.getsockname()[1]
    use_smtp_port(drafted, smtp.port, port)
    append_config(drafted, f'\n[delivery.webhook]\nurl = "{httpserver.url_for("/hook")}"\n')
    waiting = start(send(drafted), cwd=tmp_path)
    wait_for(drafted, BEGAN)
    waiting.signal(signum)
    [stopped] = waiting()
    silent.close()
    assert stopped.returncode == code, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert sql(drafted, "SELECT * FROM delivery_claims") == []
    [(deliverer, reason)] = sql(drafted, "SELECT deliverer, reason FROM delivery_doubts")
    assert deliverer == "email" and "interrupted while delivering" in reason
    use_smtp_port(drafted, port, smtp.port)
    after = run(*send(drafted))  # the webhook at once; the email only after a look
    assert after.returncode == 1 and len(httpserver.log) == 1
    assert "may have been sent already" in after.stderr and smtp.inbox.envelopes == []


def test_a_failed_delivery_releases_its_claim(run, drafted, smtp):
    config = drafted / "composer.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace(f"smtp_port = {smtp.port}", "smtp_port = 9"), "utf-8")
    failed = run(*send(drafted))
    assert failed.returncode == 1 and "connection refused" in failed.stderr
    assert sql(drafted, "SELECT * FROM delivery_claims") == []
    config.write_text(text, encoding="utf-8")
    assert run(*send(drafted)).returncode == 0  # retried at once, not after an hour
    assert len(smtp.inbox.envelopes) == 1


def test_send_beside_the_scheduled_run_delivers_once(run, workspace, smtp, tmp_path):
    ws = make_sendable(workspace)
    append_config(ws, GUARD + '\n[schedule]\ncron = "0 9 * * fri"\naction = "draft+send"\n')
    configure_smtp(ws, smtp.port)
    shutil.copytree(ws / ISSUE / "notes", ws / "2026-W49" / "notes")
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    assert run("draft", "-w", ws, "--issue", "2026-W49", "--offline").returncode == 0
    scheduled = ("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    for _ in range(TRIALS):
        sql(ws, "DELETE FROM deliveries")
        sql(ws, "DELETE FROM runs")
        smtp.inbox.envelopes.clear()
        by_hand, by_schedule = together(("send", "2026-W49", "-w", ws), scheduled, cwd=tmp_path)
        assert len(smtp.inbox.envelopes) == 1, (by_hand.stderr, by_schedule.stderr)
        assert "Traceback" not in by_hand.stderr + by_schedule.stderr
        if by_hand.returncode:
            assert any(reason in by_hand.error for reason in LOST), by_hand.stderr
        # a scheduled run that found the week being sent failed, and its retry is done
        later = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:30")
        assert later.returncode == 0, (by_schedule.stderr, later.stderr)
        assert len(smtp.inbox.envelopes) == 1
        assert sql(ws, "SELECT outcome FROM runs") == [("ok",)]


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    """The example workspace without a state, to copy."""
    base = tmp_path_factory.mktemp("fresh") / "ws"
    shutil.copytree(
        ROOT / "issues", base, ignore=shutil.ignore_patterns("out", "issue.md*", ".composer")
    )
    return base


def test_drafts_at_once_on_fresh_workspaces_both_succeed(fresh, tmp_path):
    for pair in range(TRIALS + 1):
        ws = tmp_path / f"ws{pair}"
        shutil.copytree(fresh, ws)
        draft = ("draft", "-w", ws, "--issue", ISSUE, "--offline")
        results = together(draft, draft, cwd=tmp_path)
        for result in results:
            assert "database is locked" not in result.stderr
            # the other draft's fresh issue.md is not an edit
            assert result.returncode == 0, result.stderr
        assert (ws / ISSUE / "out" / "email.html").is_file()
        assert not list((ws / ISSUE).glob("issue.md.*"))


def test_a_draft_waits_for_a_run_creating_the_state(fresh, tmp_path):
    """Deterministic: another run holds the new state's write lock (as when it creates
    the schema) while the draft switches the file to WAL, which SQLite does not wait
    for (it answers "database is locked" at once): the draft retries until it can."""
    import time

    from racing import start

    ws = tmp_path / "ws"
    shutil.copytree(fresh, ws)
    (ws / ".composer").mkdir()
    other = sqlite3.connect(ws / ".composer" / "state.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        waiting = start(("draft", "-w", ws, "--issue", ISSUE, "--offline"), cwd=tmp_path)
        time.sleep(1)  # (if the draft is slower than this, the test proves less, not wrong)
        other.execute("COMMIT")
    finally:
        other.close()
    [result] = waiting()
    assert result.returncode == 0, result.stderr
    assert (ws / ISSUE / "out" / "email.html").is_file()


def test_an_issue_md_being_written_by_another_draft_is_not_an_edit(run, workspace, tmp_path):
    """A draft meeting another one between writing issue.md and recording it waits."""
    import hashlib
    import time

    from racing import start

    draft = ("draft", "-w", workspace, "--issue", ISSUE, "--offline")
    assert run(*draft).returncode == 0
    issue_md = workspace / ISSUE / "issue.md"
    text = issue_md.read_bytes() + "\n本周的另一版。\n".encode()
    other = sqlite3.connect(workspace / ".composer" / "state.db", isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # the other draft, as it writes issue.md
        issue_md.write_bytes(text)
        waiting = start(draft, cwd=tmp_path)
        time.sleep(1)  # (if the draft is slower than this, the test proves less, not wrong)
        other.execute(
            "UPDATE issues SET issue_md_sha256 = ? WHERE id = ?",
            (hashlib.sha256(text).hexdigest(), ISSUE),
        )
        other.execute("COMMIT")
    finally:
        other.close()
    [result] = waiting()
    assert result.returncode == 0, result.stderr
    assert not list((workspace / ISSUE).glob("issue.md.*"))


def test_a_scheduled_run_meeting_a_doubt_says_to_look_and_resend(run, workspace, smtp):
    ws = make_sendable(workspace)
    append_config(ws, GUARD + '\n[schedule]\ncron = "0 9 * * fri"\naction = "draft+send"\n')
    configure_smtp(ws, smtp.port)
    shutil.copytree(ws / ISSUE / "notes", ws / "2026-W49" / "notes")
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    sql(
        ws,
        "INSERT INTO delivery_claims VALUES ('2026-W49', 'email', 'crashed', ?)",
        now(minutes=61),
    )
    scheduled = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert scheduled.returncode == 1 and smtp.inbox.envelopes == []
    [line] = [ln for ln in scheduled.stderr.splitlines() if "2026-W49: blocked:" in ln]
    assert "may have been sent already" in line and "--resend" in line
    assert "fix it (in issue.md" not in line
    status = run("schedule", "-w", ws, "--next", "1", "--at", "2026-12-04T09:01")
    assert "--resend" in status.stderr


def test_dry_run_resend_shows_a_live_claim_in_the_way(run, drafted, smtp):
    assert run(*send(drafted)).returncode == 0
    claim(drafted, now(minutes=5), began=True)
    dry = run(*send(drafted, "--resend", "--dry-run"))
    assert "(refused now: being sent by another run, claimed at " in dry.stdout
    real = run(*send(drafted, "--resend"))
    assert real.returncode == 1 and "being sent by another run" in real.stderr


def test_an_interrupted_scheduled_run_is_failed_and_tried_again(run, workspace, smtp, tmp_path):
    import socket

    from racing import start

    ws = make_sendable(workspace)
    append_config(ws, GUARD + '\n[schedule]\ncron = "0 9 * * fri"\naction = "draft+send"\n')
    silent = socket.create_server(("127.0.0.1", 0))
    configure_smtp(ws, silent.getsockname()[1])
    shutil.copytree(ws / ISSUE / "notes", ws / "2026-W49" / "notes")
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    waiting = start(("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30"), cwd=tmp_path)
    wait_for(ws, BEGAN)
    waiting.signal(signal.SIGINT)
    [stopped] = waiting()
    silent.close()
    assert stopped.returncode == 130, stopped.stderr
    assert sql(ws, "SELECT outcome, detail FROM runs") == [("failed", "interrupted")]
    again = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:30")
    assert again.returncode == 1  # tried again at once: the email may have gone out
    assert "may have been sent already" in again.stderr and "--resend" in again.stderr
