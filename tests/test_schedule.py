"""`composer schedule`: crontab weekdays, the run record, catch-up, the daemon and signals.

Times are chosen with `--at` (the real APScheduler trigger is evaluated then); the
state is the real SQLite file, reopened by every command; the daemon is a real
subprocess stopped with SIGTERM / SIGINT.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from conftest import make_sendable
from smtp_server import append_config, configure_smtp

from composer.support.crontab import CronError, fire_times, make_trigger, weekdays

SHANGHAI = ZoneInfo("Asia/Shanghai")
TUESDAY = dt.datetime(2026, 11, 24, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("fri", ["Fri"]),
        ("5", ["Fri"]),
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("sun", ["Sun"]),
        ("1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0-2", ["Sun", "Mon", "Tue"]),
        ("5-7", ["Fri", "Sat", "Sun"]),
        ("fri-sun", ["Fri", "Sat", "Sun"]),
        ("6,0", ["Sat", "Sun"]),
        ("*/3", ["Sun", "Wed", "Sat"]),
        ("1-5/2", ["Mon", "Wed", "Fri"]),
    ],
)
def test_crontab_weekdays_fire_on_the_crontab_days(field, days):
    trigger = make_trigger(f"0 9 * * {field}", SHANGHAI)
    fired = fire_times(trigger, TUESDAY, limit=14)
    assert {t.strftime("%a") for t in fired} == set(days)
    assert all((t.hour, t.minute) == (9, 0) and t.tzinfo is not None for t in fired)


def test_apscheduler_from_crontab_alone_would_be_a_day_late():
    from apscheduler.triggers.cron import CronTrigger

    theirs = CronTrigger.from_crontab("0 9 * * 5", timezone=SHANGHAI)
    assert theirs.get_next_fire_time(None, TUESDAY).strftime("%a") == "Sat"
    assert weekdays("5") == "fri"


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("0 9 * *", "5"),
        ("0 9 * * 8", "not a weekday"),
        ("0 9 * * 5-1", r"forward \(use a list: 5,6,0,1\)"),
        ("0 9 1 * fri", "both day-of-month and day-of-week"),
        ("0 25 * * fri", "hour .25."),
    ],
)
def test_bad_crontab_lines_say_why(expr, reason):
    with pytest.raises(CronError, match=reason):
        make_trigger(expr, SHANGHAI)


def schedule_ws(workspace: Path, cron="0 9 * * fri", action="draft") -> Path:
    make_sendable(workspace)
    append_config(workspace, f'[schedule]\ncron = "{cron}"\naction = "{action}"\n')
    return workspace


def notes_for(ws: Path, *issue_ids: str) -> None:
    for issue_id in issue_ids:
        shutil.copytree(ws / "2023-W47" / "notes", ws / issue_id / "notes")


def runs(ws: Path) -> dict[str, tuple[str, str]]:
    with sqlite3.connect(ws / ".composer" / "state.db") as db:
        rows = db.execute("SELECT issue_id, outcome, detail FROM runs").fetchall()
    return {issue: (outcome, detail) for issue, outcome, detail in rows}


def test_next_prints_iso_fire_times_in_the_schedule_timezone(run, workspace):
    ws = schedule_ws(workspace)
    result = run("schedule", "-w", ws, "--next", "3", "--at", "2026-11-24T10:00")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "2026-11-27T09:00:00+08:00",
        "2026-12-04T09:00:00+08:00",
        "2026-12-11T09:00:00+08:00",
    ]
    config = ws / "composer.toml"
    config.write_text(config.read_text() + 'timezone = "Europe/Berlin"\n', encoding="utf-8")
    result = run("schedule", "-w", ws, "--next", "1", "--at", "2026-11-24T10:00+08:00")
    assert result.stdout.strip() == "2026-11-27T09:00:00+01:00"


def test_a_bad_schedule_names_file_line_and_key(run, workspace):
    ws = schedule_ws(workspace, cron="0 9 * * 8")
    result = run("schedule", "-w", ws, "--next", "1")
    assert result.returncode == 2
    assert "composer.toml:" in result.stderr and "[schedule] cron" in result.stderr
    assert "Traceback" not in result.stderr
    ws.joinpath("composer.toml").write_text(
        ws.joinpath("composer.toml").read_text().replace("0 9 * * 8", "0 9 * * 5")
        + 'action = "publish"\n'.replace("action", "actoin"),
        encoding="utf-8",
    )
    result = run("schedule", "-w", ws, "--next", "1")
    assert result.returncode == 2 and "unknown key 'actoin' in [schedule]" in result.stderr


def test_once_runs_each_week_once_and_never_on_a_fresh_first_start(run, workspace, smtp):
    ws = schedule_ws(workspace, action="draft+send")
    configure_smtp(ws, smtp.port)
    notes_for(ws, "2026-W48", "2026-W49", "2026-W50")

    # first start on Friday 10:00, after that week's 09:00: a fresh workspace sends nothing
    first = run("schedule", "-w", ws, "--once", "--at", "2026-11-27T10:00")
    assert first.returncode == 0, first.stderr
    assert "nothing due" in first.stderr and smtp.inbox.envelopes == []
    assert not (ws / "2026-W48" / "issue.md").exists()

    due = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert due.returncode == 0, due.stderr
    assert (ws / "2026-W49" / "out" / "email.html").exists()
    assert len(smtp.inbox.envelopes) == 1
    assert runs(ws)["2026-W49"][0] == "ok"

    again = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:30")
    assert again.returncode == 0 and "2026-W49: ok since" in again.stderr
    assert len(smtp.inbox.envelopes) == 1

    # the next Friday was missed; Saturday's start catches it up, once
    late = run("schedule", "-w", ws, "--once", "--at", "2026-12-12T08:00")
    assert late.returncode == 0, late.stderr
    assert len(smtp.inbox.envelopes) == 2 and runs(ws)["2026-W50"][0] == "ok"
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-12T09:00").returncode == 0
    assert len(smtp.inbox.envelopes) == 2


def test_a_failed_run_is_recorded_and_retried(run, workspace, smtp):
    ws = schedule_ws(workspace, action="draft+send")
    notes_for(ws, "2026-W49")
    configure_smtp(ws, smtp.port + 1 if smtp.port < 65535 else smtp.port - 1)  # nobody listens
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    failed = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:10")
    assert failed.returncode == 1
    assert "Traceback" not in failed.stderr and "FAILED" in failed.stderr
    outcome, detail = runs(ws)["2026-W49"]
    assert outcome == "failed" and "connection refused" in detail

    config = ws / "composer.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace(
            f"smtp_port = {smtp.port + 1 if smtp.port < 65535 else smtp.port - 1}",
            f"smtp_port = {smtp.port}",
        ),
        encoding="utf-8",
    )
    retry = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:40")
    assert retry.returncode == 0, retry.stderr
    assert runs(ws)["2026-W49"][0] == "ok" and len(smtp.inbox.envelopes) == 1


def test_an_edited_issue_is_sent_as_the_editor_left_it(run, workspace, smtp):
    ws = schedule_ws(workspace, action="draft+send")
    configure_smtp(ws, smtp.port)
    notes_for(ws, "2026-W49")
    assert run("draft", "-w", ws, "--issue", "2026-W49", "--offline").returncode == 0
    issue_md = ws / "2026-W49" / "issue.md"
    issue_md.write_text(
        issue_md.read_text(encoding="utf-8") + "\n## 编者按\n\n本周由编辑亲自补充的一句话。\n",
        encoding="utf-8",
    )
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    result = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:05")
    assert result.returncode == 0, result.stderr
    assert "本周由编辑亲自补充的一句话" in issue_md.read_text(encoding="utf-8")
    assert "kept the edited issue.md" in runs(ws)["2026-W49"][1]
    assert len(smtp.inbox.envelopes) == 1


class Daemon:
    """`composer schedule` in a subprocess; its stderr lines are collected as they come."""

    def __init__(self, ws: Path) -> None:
        env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "composer", "schedule", "-w", str(ws)],
            stderr=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.lines):
            assert self.proc.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.05)

    def stop(self, signum: int) -> int:
        self.proc.send_signal(signum)
        code = self.proc.wait(timeout=30)
        self.reader.join(timeout=5)
        return code


def test_daemon_catches_up_once_and_stops_cleanly_on_signals(run, workspace, smtp):
    now = dt.datetime.now(SHANGHAI)
    weeks = {
        "{}-W{:02d}".format(*t.isocalendar()[:2]) for t in (now, now + dt.timedelta(minutes=5))
    }
    ws = schedule_ws(workspace, cron="0 * * * *", action="draft+send")  # hourly: one fire due
    configure_smtp(ws, smtp.port)
    notes_for(ws, *weeks)  # the due week, even when the test runs across Monday 00:00
    earlier = (now - dt.timedelta(hours=3)).isoformat()
    assert run("schedule", "-w", ws, "--once", "--at", earlier).returncode in (0, 1)
    # (that first start may itself have had an hour's run due; start from a clean record)
    with sqlite3.connect(ws / ".composer" / "state.db") as db:
        db.execute("DELETE FROM runs")
        db.execute("DELETE FROM deliveries")
    smtp.inbox.envelopes.clear()

    daemon = Daemon(ws)
    daemon.wait_for(": done")
    assert daemon.stop(signal.SIGTERM) == 0
    output = "".join(daemon.lines)
    assert "SIGTERM: stopping" in output and "scheduler stopped" in output
    assert "Traceback" not in output
    [(this_week, (outcome, _))] = runs(ws).items()
    assert this_week in weeks and outcome == "ok" and len(smtp.inbox.envelopes) == 1

    restarted = Daemon(ws)  # the same state file, reopened: the week is done
    restarted.wait_for(f"{this_week}: ok since")
    assert restarted.stop(signal.SIGINT) == 0
    assert "Traceback" not in "".join(restarted.lines)
    assert len(smtp.inbox.envelopes) == 1


def test_a_fresh_daemon_sends_nothing_on_its_first_start(workspace, smtp):
    ws = schedule_ws(workspace, cron="0 * * * *", action="draft+send")
    configure_smtp(ws, smtp.port)
    daemon = Daemon(ws)
    daemon.wait_for("nothing due")
    assert daemon.stop(signal.SIGTERM) == 0
    assert smtp.inbox.envelopes == []


def test_a_week_without_notes_is_blocked_and_not_retried(run, workspace, smtp):
    ws = schedule_ws(workspace, action="draft+send")
    configure_smtp(ws, smtp.port)
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    blocked = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    status = (
        "2026-W49: blocked: the issue has no items: nothing to send (1 blocking problem); "
        "fix it (in issue.md, then `composer render 2026-W49`; or in the notes, then "
        "`composer draft --issue 2026-W49 --force`) and run `composer send 2026-W49`"
    )
    assert status in blocked.stderr
    assert smtp.inbox.envelopes == [] and runs(ws)["2026-W49"][0] == "blocked"
    issue_md = ws / "2026-W49" / "issue.md"
    drafted = issue_md.stat().st_mtime_ns

    plan = run("schedule", "-w", ws, "--next", "2", "--at", "2026-12-04T10:00")
    assert plan.returncode == 0, plan.stderr
    assert plan.stdout.split() == ["2026-12-11T09:00:00+08:00", "2026-12-18T09:00:00+08:00"]
    assert plan.stderr.strip() == status

    again = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:30")  # no loop
    assert again.returncode == 1 and status in again.stderr
    assert "drafted" not in again.stderr and issue_md.stat().st_mtime_ns == drafted
    assert smtp.inbox.envelopes == []

    notes_for(ws, "2026-W49")  # the editor fixes the week and sends it by hand
    assert run("draft", "-w", ws, "--issue", "2026-W49", "--offline").returncode == 0
    by_hand = run("send", "2026-W49", "-w", ws)
    assert by_hand.returncode == 0, by_hand.stderr
    assert len(smtp.inbox.envelopes) == 1
    outcome, detail = runs(ws)["2026-W49"]
    assert outcome == "ok" and "sent by `composer send`" in detail
    later = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T11:00")
    assert later.returncode == 0 and "2026-W49: ok since" in later.stderr
    assert len(smtp.inbox.envelopes) == 1


def test_next_says_when_no_run_happened_yet(run, workspace):
    result = run("schedule", "-w", schedule_ws(workspace), "--next", "1")
    assert result.returncode == 0 and len(result.stdout.split()) == 1
    assert result.stderr.strip() == "no scheduled run yet in this workspace"
    assert not (workspace / ".composer").exists()  # asking creates no state


def test_a_draft_only_week_without_notes_is_drafted(run, workspace):
    ws = schedule_ws(workspace, action="draft")
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    result = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert result.returncode == 0, result.stderr
    assert runs(ws)["2026-W49"] == ("ok", "drafted")


def test_a_cron_that_never_fires_is_refused(run, workspace):
    ws = schedule_ws(workspace, cron="0 9 30 2 *")  # the 30th of February
    result = run("schedule", "-w", ws, "--next", "1")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "[schedule] cron '0 9 30 2 *' never fires" in result.stderr


def test_a_fire_time_a_clock_change_skips_is_named(run, workspace):
    ws = schedule_ws(workspace, cron="30 2 * * sun")
    config = ws / "composer.toml"
    config.write_text(config.read_text() + 'timezone = "Europe/Berlin"\n', encoding="utf-8")
    result = run("schedule", "-w", ws, "--next", "1", "--at", "2027-03-01T10:00")
    assert result.returncode == 0, result.stderr
    (warning,) = [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]
    assert "[schedule] cron" in warning and "Europe/Berlin" in warning
    assert "2027-03-28" in warning and "the clocks change" in warning
    config.write_text(config.read_text().replace("30 2 * * sun", "30 9 * * sun"), "utf-8")
    quiet = run("schedule", "-w", ws, "--next", "1", "--at", "2027-03-01T10:00")
    assert quiet.returncode == 0 and "warning" not in quiet.stderr


def test_a_first_start_recorded_in_the_future_starts_now(run, workspace):
    ws = schedule_ws(workspace)
    notes_for(ws, "2026-W49")
    assert run("schedule", "-w", ws, "--once", "--at", "2027-06-01T10:00").returncode == 0
    back = run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00")
    assert back.returncode == 0, back.stderr
    assert "first start was recorded as 2027-06-01T10:00:00+08:00: now instead" in back.stderr
    due = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert due.returncode == 0, due.stderr
    assert runs(ws)["2026-W49"][0] == "ok"


def test_a_failing_renderer_blocks_the_week_and_is_not_retried(run, workspace, smtp):
    from test_send_safety import LOUD

    ws = schedule_ws(workspace, action="draft+send")
    configure_smtp(ws, smtp.port)
    notes_for(ws, "2026-W49")
    (ws / "plugins").mkdir()
    (ws / "plugins" / "loudplugin.py").write_text(LOUD, encoding="utf-8")
    config = ws / "composer.toml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("local = []", 'local = ["plugins/loudplugin.py"]'), "utf-8")
    assert run("schedule", "-w", ws, "--once", "--at", "2026-12-01T10:00").returncode == 0
    blocked = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:00:30")
    assert blocked.returncode == 1 and "Traceback" not in blocked.stderr
    outcome, detail = runs(ws)["2026-W49"]
    assert outcome == "blocked" and "renderer exploded" in detail
    later = run("schedule", "-w", ws, "--once", "--at", "2026-12-04T09:30")
    assert later.returncode == 1 and "2026-W49: blocked: " in later.stderr
    assert smtp.inbox.envelopes == []
