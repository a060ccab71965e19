"""``composer schedule``: the weekly run, its record in the state, and the daemon.

Our run record (table ``runs``, by issue id) is the source of truth, not an
APScheduler job store. A run is due for the latest fire time after both the
scheduler's first start in this workspace and ``now - catch_up_hours``; its issue
is the ISO week of that fire time. A week whose run succeeded is never run again; nor
is one that was blocked (blocking check problems: nothing was sent), which waits for
the editor to fix it and send it by hand.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from composer.errors import UsageError, UserError
from composer.support.crontab import CronError, fire_times, make_trigger
from composer.support.state import State, state_file
from composer.support.text import mask_urls
from composer.support.workspace import issue_id as week_of

STALE_RUN = dt.timedelta(hours=6)  # a "running" record older than this was a crash
STOP_POLL_S = 0.2  # how soon the daemon notices a signal
RETRY_MINUTES = 15  # the daemon retries a failed week (within catch_up_hours) this often
Log = Callable[[str], None]


@dataclass
class Schedule:
    cron: str
    zone: ZoneInfo
    action: str
    catch_up: dt.timedelta
    trigger: object


def load_schedule(app) -> Schedule:
    """``[schedule]`` of the workspace, with its APScheduler trigger."""
    config = app.settings.schedule
    if not config.cron:
        raise UsageError(
            "no [schedule] cron in composer.toml",
            'add [schedule] with cron = "0 9 * * fri" (see docs/schedule.md)',
        )
    zone = ZoneInfo(config.timezone or app.settings.newsletter.timezone)
    try:
        trigger = make_trigger(config.cron, zone)
    except CronError as exc:
        from composer.support.config import key_error, read_toml
        from composer.support.workspace import CONFIG_NAME

        path = app.workspace / CONFIG_NAME
        raise key_error(path, read_toml(path)[1], "schedule", "cron", str(exc)) from None
    plan = Schedule(
        config.cron, zone, config.action, dt.timedelta(hours=config.catch_up_hours), trigger
    )
    return plan


def check_fires(app, plan: Schedule, start: dt.datetime) -> None:
    """A cron that never fires is refused; a fire time in the next 60 after ``start``
    that a clock change skips or that does not exist on the wall clock is a warning
    naming the date."""
    times = next_times(plan, 60, start)
    if not times:
        raise UsageError(
            f"[schedule] cron {plan.cron!r} never fires (a day no month has?)",
            'a weekly issue wants a weekday: cron = "0 9 * * fri"',
        )
    for when in times:
        wall = when.astimezone(dt.UTC).astimezone(plan.zone)
        if wall.replace(tzinfo=None) != when.replace(tzinfo=None):
            app.report.warn(
                "[schedule] cron",
                f"{when:%Y-%m-%d %H:%M} does not exist in {plan.zone.key} (the clocks "
                "change then): choose a time outside the night's first hours",
            )
            return
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    weekly = gaps and sorted(gaps)[len(gaps) // 2].days in (6, 7)
    for gap, before in zip(gaps, times, strict=False):
        if weekly and dt.timedelta(days=7, hours=2) < gap <= dt.timedelta(days=14, hours=2):
            app.report.warn(
                "[schedule] cron",
                f"no run between {before:%Y-%m-%d} and {before + gap:%Y-%m-%d}: the fire "
                f"time does not exist in {plan.zone.key} that week (the clocks change "
                "then): choose a time outside the night's first hours",
            )
            return


def next_times(schedule: Schedule, count: int, after: dt.datetime) -> list[dt.datetime]:
    return fire_times(schedule.trigger, after.astimezone(schedule.zone), limit=count)


def due(schedule: Schedule, first_start: dt.datetime, now: dt.datetime) -> dt.datetime | None:
    """The fire time to run at ``now``: the latest one inside the window, or None."""
    since = max(first_start, now - schedule.catch_up).astimezone(schedule.zone)
    times = fire_times(schedule.trigger, since, until=now)
    return times[-1] if times else None


def run_due(
    workspace: Path, schedule: Schedule, now: dt.datetime, log: Log, quiet: bool = False
) -> bool:
    """Perform the due run, if any; False when a run failed or its week is blocked.
    ``quiet``: say nothing when there is nothing to do (the daemon's retry ticks)."""
    with State(workspace) as state:
        first = dt.datetime.fromisoformat(state.first_start(now.isoformat()))
        if first > now:  # recorded by a run told it was later (--at): time starts now
            log(f"the scheduler's first start was recorded as {first.isoformat()}: now instead")
            first = dt.datetime.fromisoformat(state.first_start(now.isoformat(), reset=True))
    fire = due(schedule, first, now)
    if fire is None:
        if not quiet:
            log("nothing due")
        return True
    issue_id = week_of(fire)
    with State(workspace) as state:
        claimed = state.claim_run(
            issue_id, fire.isoformat(), schedule.action, STALE_RUN.total_seconds()
        )
        record = state.run(issue_id)
    if not claimed:
        if not quiet:
            log(status_line(record, schedule.zone))
        return record["outcome"] != "blocked"
    log(f"{issue_id}: {schedule.action} for {fire.isoformat()}")
    try:
        outcome, detail = perform(workspace, issue_id, schedule.action, log)
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM under --once: retried, not "running"
        with State(workspace) as state:
            state.finish_run(issue_id, "failed", "interrupted")
        raise
    except UserError as exc:  # a failed delivery is retried; what needs a person is not
        outcome = "failed" if _transient(exc) else "blocked"
        detail = str(exc).replace("\n", " ")
        if outcome == "blocked" and exc.hint:  # its own advice, not "fix the issue"
            detail += WHAT_TO_DO + exc.hint.replace("\n", " ")
    except Exception as exc:  # the daemon lives on; the reason is recorded
        outcome, detail = "failed", f"{type(exc).__name__}: {exc}"
    detail = mask_urls(detail)
    with State(workspace) as state:
        state.finish_run(issue_id, outcome, detail)
        record = state.run(issue_id)
    if outcome == "blocked":
        log(status_line(record, schedule.zone))
    else:
        log(f"{issue_id}: {'done' if outcome == 'ok' else 'FAILED'}: {detail}")
    return outcome == "ok"


WHAT_TO_DO = "; what to do: "


def _transient(exc: UserError) -> bool:
    """A failure a later attempt may not meet (a delivery that failed, a busy claim);
    not a refused issue, a renderer that failed, lost text or a setting to fix, nor a
    delivery that may have gone out."""
    from composer.commands.send import BeingSent, MaybeSent, SendFailed

    if isinstance(exc, MaybeSent):
        return False
    if isinstance(exc, SendFailed):
        return not exc.uncertain
    return isinstance(exc, BeingSent)


def status_line(record: dict | None, zone: ZoneInfo) -> str:
    """One line on the state of a week's run (``record``), times in ``zone``."""
    if record is None:
        return "no scheduled run yet in this workspace"
    issue_id, outcome, detail = record["issue_id"], record["outcome"], record["detail"]
    if outcome == "blocked" and WHAT_TO_DO in detail:
        return f"{issue_id}: blocked: {detail}"
    if outcome == "blocked":
        return (
            f"{issue_id}: blocked: {detail}; fix it (in issue.md, then `composer render "
            f"{issue_id}`; or in the notes, then `composer draft --issue {issue_id} --force`) "
            f"and run `composer send {issue_id}`"
        )
    since = dt.datetime.fromisoformat(record["finished"] or record["started"]).astimezone(zone)
    return f"{issue_id}: {outcome} since {since.isoformat()}" + (f": {detail}" if detail else "")


def last_run(workspace: Path) -> dict | None:
    """The run of the latest week on record (None without a state: nothing is created)."""
    if not state_file(workspace).is_file():
        return None
    with State(workspace) as state:
        return state.last_run()


def perform(workspace: Path, issue_id: str, action: str, log: Log) -> tuple[str, str]:
    """Draft (keeping an issue.md the editor edited) and, if asked, send.

    Returns the outcome, ``ok`` or ``blocked`` (blocking check problems: nothing was
    sent), and what happened.
    """
    from composer.app import open_app
    from composer.commands.draft import EditedIssue, draft
    from composer.commands.send import AlreadySent, Blocked, send
    from composer.pipeline.render import render_file

    app = open_app(workspace)
    if action == "draft+send" and _all_sent(app, issue_id):  # sent by hand meanwhile
        return "ok", f"{issue_id} was already sent; not drafted again"
    try:
        draft(app, issue_id)
        done = ["drafted"]
    except EditedIssue:
        issue_md = workspace / issue_id / "issue.md"
        render_file(app, issue_md, issue_md.parent / "out", f"{issue_id}/issue.md")
        done = ["kept the edited issue.md and rendered it"]
    try:
        if action == "draft+send":
            try:
                done += send(app, issue_id).lines
            except AlreadySent as exc:
                done.append(str(exc))
            except Blocked as exc:
                first, count = exc.problems[0], len(exc.problems)
                plural = "" if count == 1 else "s"
                return "blocked", f"{first.message} ({count} blocking problem{plural})"
    finally:
        for warning in app.report.warnings:
            log(f"{issue_id}: warning: {warning}")
    return "ok", "; ".join(done)


def _all_sent(app, issue_id: str) -> bool:
    from composer.commands.send import configured

    targets = {d.name for _, d in configured(app)}
    with State(app.workspace) as state:
        return bool(targets) and targets <= set(state.deliveries(issue_id))


def serve(workspace: Path, schedule: Schedule, log: Log) -> None:
    """Run until SIGTERM/SIGINT: catch up a missed week once, then fire on schedule."""
    import signal
    import time

    from apscheduler.schedulers.background import BackgroundScheduler

    def tick(quiet: bool = False) -> None:
        run_due(workspace, schedule, dt.datetime.now(schedule.zone), log, quiet)

    scheduler = BackgroundScheduler(timezone=schedule.zone)
    scheduler.add_job(
        tick,
        schedule.trigger,
        id="weekly-issue",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=int(schedule.catch_up.total_seconds()),
    )
    scheduler.add_job(  # a failed week is tried again while it is still due
        tick,
        "interval",
        minutes=RETRY_MINUTES,
        kwargs={"quiet": True},
        id="retry",
        coalesce=True,
        max_instances=1,
    )

    # The handler only records the signal: anything more (waking the scheduler, raising
    # into it) can deadlock on a lock its own thread holds or be swallowed by its loop.
    # Runs happen on the scheduler's thread; this one waits for a signal.
    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, frame: stopping.append(signum))
    signal.signal(signal.SIGINT, lambda signum, frame: stopping.append(signum))
    now = dt.datetime.now(schedule.zone)
    upcoming = next_times(schedule, 1, now)
    log(
        f"scheduler started: {schedule.cron!r} in {schedule.zone.key}, action {schedule.action}"
        + (f", next {upcoming[0].isoformat()}" if upcoming else "")
    )
    tick()  # catch up (a signal meanwhile stops the daemon after it)
    if not stopping:
        scheduler.start()
        while not stopping:
            time.sleep(STOP_POLL_S)
    log(f"{signal.Signals(stopping[0]).name}: stopping")
    if scheduler.running:
        scheduler.shutdown(wait=True)  # a run in progress finishes first
    log("scheduler stopped")


def moment(value: str | None, zone: ZoneInfo) -> dt.datetime | None:
    """``--at``: an ISO time (naive means the schedule's timezone); None for now."""
    if value is None:
        return None
    try:
        when = dt.datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--at {value!r} is not an ISO time like 2026-11-27T09:00") from None
    return when if when.tzinfo else when.replace(tzinfo=zone)


def schedule_command(app, count: int | None, once: bool, at: str | None) -> None:
    """``composer schedule``: print fire times, do the due run, or run the daemon."""
    import sys

    import click

    from composer.commands.common import report

    plan = load_schedule(app)
    now = moment(at, plan.zone) or dt.datetime.now(plan.zone)
    check_fires(app, plan, now)
    report(app.report)
    app.report = type(app.report)()  # said once

    def log(message: str) -> None:
        stamp = dt.datetime.now(plan.zone).isoformat(timespec="seconds")
        click.echo(f"{stamp} {mask_urls(message)}", err=True)

    if count:
        for when in next_times(plan, count, now):
            click.echo(when.isoformat())
        click.echo(mask_urls(status_line(last_run(app.workspace), plan.zone)), err=True)
    elif once:
        if not run_due(app.workspace, plan, now, log):
            sys.exit(1)
    else:
        serve(app.workspace, plan, log)
