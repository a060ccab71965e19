"""``composer send``: render an issue, check it, and hand it to every configured deliverer.

A deliverer runs when its table (``[delivery.email]`` ...) is in composer.toml. Each
delivery is claimed in the state before anything leaves (so runs that race deliver
once), recorded by issue id and deliverer when it succeeded, and released when it
failed, so the next run retries it; one already done is skipped unless ``--resend``,
which replaces only the delivery this run saw at its start. A claim older than
:data:`STALE_CLAIM` was left by a run that crashed: taken over when that run had not
begun to deliver it; else, like a delivery whose server's answer never came, it may
have gone out, and only ``--resend`` tries it again.
A send ``--to`` chosen addresses (a proof) goes only to the targets that take
recipients (email), and is neither claimed nor recorded.

What is checked is what is sent: issue.md is read once, rendered into a folder of
this run's own and checked there, and the deliverers send those files (a render
beside it, into out/, changes nothing that goes out).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from composer.commands.draft import resolve_issue_id
from composer.contract.protocols import Delivery, DeliveryError
from composer.errors import Refusal, UsageError, UserError
from composer.pipeline.render import render_file
from composer.plugin_manager import describe
from composer.support.state import Claims, State
from composer.support.text import mask_urls

if TYPE_CHECKING:
    from composer.app import App

STALE_CLAIM = dt.timedelta(hours=1)  # a send takes minutes at most: older claims crashed


class AlreadySent(Refusal):
    """Every configured deliverer already delivered this issue."""


class SentElsewhere(AlreadySent):
    """Another run delivered the issue while this one was preparing it."""


class BeingSent(Refusal):
    """Another run holds the claim of a delivery of this issue."""


class MaybeSent(Refusal):
    """A delivery of this issue may have gone out: only ``--resend`` tries again."""


class Blocked(Refusal):
    """Blocking ``composer check`` problems, without ``--force``."""

    def __init__(self, issue_id: str, problems: list) -> None:
        self.problems = problems
        super().__init__(
            f"{len(problems)} blocking problem(s), first: {problems[0]}",
            f"`composer check {issue_id}` lists them; fix them, or send anyway with --force",
        )


class SendFailed(UserError):
    """At least one deliverer failed; the issue stays unsent for it. ``uncertain``:
    one of them may have delivered it all the same (only ``--resend`` retries)."""

    uncertain = False


@dataclass
class SendResult:
    issue_id: str
    lines: list[str] = field(default_factory=list)  # one per deliverer


def configured(app: App) -> list[tuple[str, Any]]:
    """(owner, deliverer) of every registered deliverer whose table is in composer.toml."""
    return [(owner, d) for owner, d in app.deliverers if d.config_key in app.plugin_config]


def shown_time(stamp: str) -> str:
    """A stored UTC time, to the second."""
    return dt.datetime.fromisoformat(stamp).isoformat(timespec="seconds")


def _sent(done: dict[str, dict]) -> str:
    return "; ".join(
        f"{name} on {shown_time(d['delivered_at'])} to {d['target']}" for name, d in done.items()
    )


def send(
    app: App,
    issue_id: str | None,
    dry_run: bool = False,
    resend: bool = False,
    force: bool = False,
    to: list[str] | None = None,
) -> SendResult:
    """Render ``issue_id``'s issue.md, check it, deliver it; see the module docstring."""
    issue_id = resolve_issue_id(app, issue_id)
    deliverers = configured(app)
    if not deliverers:
        raise UsageError(
            "nothing to send with: no [delivery.*] table in composer.toml",
            "add [delivery.email] (SMTP) or [delivery.directory]; see docs/schedule.md",
        )
    path = app.workspace / issue_id / "issue.md"
    if not path.is_file():
        raise UsageError(f"{path} does not exist", f"run `composer draft --issue {issue_id}`")
    started = dt.datetime.now(dt.UTC).isoformat()
    if to:
        from composer.support.constraints import address_problem

        for address in to:
            if address_problem(address):
                raise UsageError(f"--to {address_problem(address)}", "give one address per --to")
        return _proof(app, issue_id, deliverers, path, list(to), dry_run, force)
    with State(app.workspace) as state:
        seen = state.deliveries(issue_id)
    pending = [(o, d) for o, d in deliverers if resend or d.name not in seen]
    if not pending:
        raise AlreadySent(
            f"{issue_id} was already sent: {_sent(seen)}",
            f"`composer send {issue_id} --resend` sends it again",
        )
    with _rendered(app, issue_id, path, force) as delivery, State(app.workspace) as state:
        ctx = app.context(issue_id, state=state)  # deliverers keep tables (media ids ...)
        if dry_run:
            names = [d.name for _, d in pending]
            found = state.claim_status(issue_id, names, STALE_CLAIM.total_seconds(), resend)
            lines = [
                _describe(app, o, d, delivery, ctx) + _now(found.get(d.name)) for o, d in pending
            ]
            return SendResult(issue_id, lines)
        sent = _Sent(seen, started, resend)
        return _claim_and_deliver(app, issue_id, pending, sent, delivery, ctx)


def _now(found: tuple[str, Any] | None) -> str:
    """What a send would meet now, from :meth:`State.claim_status` (dry run)."""
    if found is None:
        return ""
    kind, detail = found
    if kind == "busy":
        return f" (refused now: being sent by another run, claimed at {detail})"
    if kind == "doubtful":
        return f" (refused now: it may have gone out: {detail['reason']})"
    return f" (takes over a claim of {detail.claimed_at} of a run that never finished)"


@dataclass
class _Sent:
    """What the run saw when it began: the deliveries on record, and when."""

    seen: dict[str, dict]
    started: str
    resend: bool


@contextlib.contextmanager
def _rendered(app: App, issue_id: str, path: Path, force: bool):
    """The Delivery of issue.md as read now, rendered and checked in a folder of its own."""
    with tempfile.TemporaryDirectory(prefix="composer-send-") as folder:
        source = Path(folder) / "issue.md"
        shutil.copyfile(path, source)
        out = Path(folder) / "out"
        label = f"{issue_id}/issue.md"
        issue, written = render_file(app, source, out, label)
        _refuse_blocking(app, issue_id, source, out, label, issue, force)
        yield Delivery(issue=issue, outputs={p.name: p for p in written})


def _proof(app: App, issue_id, deliverers, path: Path, to: list[str], dry_run, force):
    """``--to``: the issue to chosen addresses, by the targets that take recipients."""
    proofs = [(o, d) for o, d in deliverers if getattr(d, "takes_recipients", False)]
    if not proofs:
        raise UsageError(
            "--to sends a proof by email: no configured target takes recipients",
            "add [delivery.email]; other targets (a folder, a webhook) only take the issue",
        )
    with _rendered(app, issue_id, path, force) as delivery, State(app.workspace) as state:
        delivery.to = to
        ctx = app.context(issue_id, state=state)
        if dry_run:
            return SendResult(issue_id, [_describe(app, o, d, delivery, ctx) for o, d in proofs])
        result = _deliver_all(app, issue_id, proofs, delivery, ctx, None)
    skipped = [d.name for _, d in deliverers if not getattr(d, "takes_recipients", False)]
    if skipped:
        result.lines.append(f"not run for a proof: {', '.join(skipped)}")
    return result


def _claim_and_deliver(
    app: App, issue_id: str, pending, sent: _Sent, delivery: Delivery, ctx
) -> SendResult:
    """Deliver what this run could claim; refuse (after) what another run has."""
    with State(app.workspace) as state:
        claims = state.claim_deliveries(
            issue_id,
            {d.name: sent.seen.get(d.name, {}).get("delivered_at") for _, d in pending},
            STALE_CLAIM.total_seconds(),
            sent.started,
            sent.resend,
        )
    mine = [(o, d) for o, d in pending if d.name in claims.taken]
    try:
        result = _deliver_all(app, issue_id, mine, delivery, ctx, claims)
    finally:
        for name, stale in claims.stale.items():
            left = (
                f"a claim of {stale.claimed_at}, older than {_hours()}, of a run that never "
                "finished"
            )
            if stale.began:
                app.report.warn(issue_id, f"{name}: --resend took over {left}")
            else:
                app.report.warn(issue_id, f"{name}: took over {left}; it had sent nothing there")
    if claims.busy or claims.done or claims.doubtful:
        raise _elsewhere(issue_id, claims, result)
    with State(app.workspace) as state:
        state.unblock_run(issue_id, "blocked, then sent by `composer send`: " + _lines(result))
    return result


def _describe(app: App, owner: str, deliverer, delivery: Delivery, ctx) -> str:
    try:
        return mask_urls(f"{deliverer.name}: {deliverer.describe(delivery, ctx)}")
    except DeliveryError as exc:
        raise SendFailed(mask_urls(f"{deliverer.name}: {exc}")) from None
    except Exception as exc:
        app.broken_plugin(owner, f"describe: {describe(exc)}")
        raise SendFailed(mask_urls(f"{deliverer.name} (plugin {owner}): {describe(exc)}")) from None


def _deliver_all(
    app: App, issue_id: str, pending, delivery: Delivery, ctx, claims: Claims | None
) -> SendResult:
    """Each deliverer in turn; a claimed delivery is recorded, or released when it failed.

    A claim another run took over meanwhile is left to it (``claims.busy``); when the
    run is interrupted (Ctrl-C, SIGTERM), the claims it had not begun are released and
    the one it was delivering is recorded as a doubt.
    """
    result, outcome = SendResult(issue_id), _Outcome()
    left = dict(claims.taken) if claims else {}
    try:
        for owner, deliverer in pending:
            token = left.get(deliverer.name)
            if token:  # still in `left` until begun: an interrupt meanwhile releases it
                with State(app.workspace) as state:
                    began = state.begin_delivery(issue_id, deliverer.name, token)
                del left[deliverer.name]
                if not began:
                    claims.busy[deliverer.name] = "meanwhile"
                    continue
            try:
                _deliver_one(app, issue_id, owner, deliverer, delivery, ctx, token, result, outcome)
            except BaseException:
                if token:
                    with State(app.workspace) as state:
                        state.release_delivery(issue_id, deliverer.name, token, INTERRUPTED)
                raise
    finally:
        with State(app.workspace) as state:
            for name, token in left.items():
                state.release_delivery(issue_id, name, token)
    if outcome.failures:
        raise outcome.failed(issue_id, result)
    return result


INTERRUPTED = "the run was interrupted while delivering it: it may have gone out"


@dataclass
class _Outcome:
    """The failures of a run's deliveries, and whether any may have gone out."""

    failures: list[str] = field(default_factory=list)
    doubtful: bool = False
    partial: bool = False

    def failed(self, issue_id: str, result: SendResult) -> SendFailed:
        done = f" (delivered: {_lines(result)})" if result.lines else ""
        if self.doubtful:
            again = f"check whether it arrived, then `composer send {issue_id} --resend`"
        elif self.partial:  # recorded as sent: a resend would reach the others twice
            again = f"fix those, then `composer send {issue_id} --to ADDRESS` reaches them alone"
        else:
            again = f"`composer send {issue_id}` retries"
        failed = SendFailed(
            "; ".join(self.failures), f"{issue_id} stays unsent there; {again}{done}"
        )
        failed.uncertain = self.doubtful
        return failed


def _deliver_one(
    app: App, issue_id: str, owner: str, deliverer, delivery, ctx, token, result, outcome
) -> None:
    """One deliverer: its target recorded (claimed) and listed, or its failure noted."""
    target, doubt = "", ""
    try:
        target = mask_urls(str(deliverer.deliver(delivery, ctx)))
    except DeliveryError as exc:
        outcome.failures.append(mask_urls(f"{deliverer.name}: {exc}"))
        target = mask_urls(exc.delivered)
        doubt = mask_urls(str(exc)) if exc.uncertain else ""
        outcome.partial = outcome.partial or bool(target)
    except Exception as exc:
        app.broken_plugin(owner, f"deliver: {describe(exc)}")
        outcome.failures.append(mask_urls(f"{deliverer.name} (plugin {owner}): {describe(exc)}"))
    if target:  # it went there (to some recipients, when it also failed): recorded
        if token:
            with State(app.workspace) as state:
                state.finish_delivery(issue_id, deliverer.name, token, target)
        result.lines.append(f"{deliverer.name}: sent {issue_id} to {target}")
    elif token:  # nothing went out: the next run tries again (a doubt: only --resend)
        with State(app.workspace) as state:
            state.release_delivery(issue_id, deliverer.name, token, doubt)
    outcome.doubtful = outcome.doubtful or bool(doubt)


def _lines(result: SendResult) -> str:
    return "; ".join(result.lines)


def _hours() -> str:
    hours = STALE_CLAIM.total_seconds() / 3600
    return f"{hours:g} hour" + ("" if hours == 1 else "s")


def _elsewhere(issue_id: str, claims: Claims, result: SendResult) -> Refusal:
    """The refusal of a run that lost a race: another run is sending, or just sent."""
    here = f"; delivered here: {_lines(result)}" if result.lines else ""
    if claims.doubtful:
        doubts = "; ".join(f"{n} at {d['at']}: {d['reason']}" for n, d in claims.doubtful.items())
        return MaybeSent(
            f"{issue_id} may have been sent already ({doubts}): not sending it again",
            f"look whether it arrived; `composer send {issue_id} --resend` sends it{here}",
        )
    if claims.busy:
        busy = ", ".join(f"{name} claimed at {at}" for name, at in claims.busy.items())
        done = f"; just sent: {_sent(claims.done)}" if claims.done else ""
        return BeingSent(
            f"{issue_id} is being sent by another run ({busy}{done}): not sending it twice",
            f"a claim older than {_hours()} is a run that crashed: `composer send {issue_id}`"
            f" then takes it over, or asks you to check whether it arrived{here}",
        )
    return SentElsewhere(
        f"{issue_id} was just sent by another run: {_sent(claims.done)}",
        f"`composer send {issue_id} --resend` sends it again{here}",
    )


def _refuse_blocking(app: App, issue_id: str, path, out, label: str, issue, force) -> None:
    from composer.commands.check import problems

    blocking = [p for p in problems(app, path, out, label, issue) if p.blocking]
    if blocking and not force:
        raise Blocked(issue_id, blocking)
