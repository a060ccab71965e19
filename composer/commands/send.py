"""``composer send``: render an issue, check it, and hand it to every configured deliverer.

A deliverer runs when its table (``[delivery.email]`` ...) is in composer.toml. Each
success is recorded in the state by issue id and deliverer; a failed one is not, so
the next run retries it, and one already done is skipped unless ``--resend``.
A send ``--to`` chosen addresses (a proof) is not recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from composer.commands.draft import resolve_issue_id
from composer.contract.protocols import Delivery, DeliveryError
from composer.errors import Refusal, UsageError, UserError
from composer.pipeline.render import render_file
from composer.support.state import State

if TYPE_CHECKING:
    from composer.app import App


class AlreadySent(Refusal):
    """Every configured deliverer already delivered this issue."""


class SendFailed(UserError):
    """At least one deliverer failed; the issue stays unsent for it."""


@dataclass
class SendResult:
    issue_id: str
    lines: list[str] = field(default_factory=list)  # one per deliverer


def configured(app: App) -> list[tuple[str, Any]]:
    """(owner, deliverer) of every registered deliverer whose table is in composer.toml."""
    return [(owner, d) for owner, d in app.deliverers if d.config_key in app.plugin_config]


def _already_sent(issue_id: str, done: dict[str, dict]) -> AlreadySent:
    parts = [f"{name} on {d['delivered_at']} to {d['target']}" for name, d in done.items()]
    return AlreadySent(
        f"{issue_id} was already sent: {'; '.join(parts)}",
        f"`composer send {issue_id} --resend` sends it again",
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
    with State(app.workspace) as state:
        done = state.deliveries(issue_id)
    pending = [(o, d) for o, d in deliverers if resend or d.name not in done]
    if not pending:
        raise _already_sent(issue_id, done)
    label, out = f"{issue_id}/issue.md", path.parent / "out"
    issue, written = render_file(app, path, out, label)
    _refuse_blocking(app, path, out, label, issue, force)
    delivery = Delivery(issue=issue, outputs={p.name: p for p in written}, to=list(to or []))
    ctx = app.context(issue_id)
    result = SendResult(issue_id)
    failures = []
    for owner, deliverer in pending:
        try:
            if dry_run:
                result.lines.append(f"{deliverer.name}: {deliverer.describe(delivery, ctx)}")
                continue
            target = deliverer.deliver(delivery, ctx)
        except DeliveryError as exc:
            failures.append(f"{deliverer.name}: {exc}")
            continue
        except Exception as exc:
            app.broken_plugin(owner, f"deliver: {type(exc).__name__}: {exc}")
            failures.append(f"{deliverer.name} (plugin {owner}): {type(exc).__name__}: {exc}")
            continue
        if not to:  # a proof sent --to someone is not the issue's delivery
            with State(app.workspace) as state:
                state.record_delivery(issue_id, deliverer.name, target)
        result.lines.append(f"{deliverer.name}: sent {issue_id} to {target}")
    if failures:
        done = f" (delivered: {'; '.join(result.lines)})" if result.lines else ""
        raise SendFailed(
            "; ".join(failures),
            f"{issue_id} stays unsent there; `composer send {issue_id}` retries{done}",
        )
    return result


def _refuse_blocking(app: App, path, out, label: str, issue, force: bool) -> None:
    from composer.commands.check import problems

    blocking = [p for p in problems(app, path, out, label, issue) if p.blocking]
    if blocking and not force:
        raise Refusal(
            f"{len(blocking)} blocking problem(s), first: {blocking[0]}",
            "`composer check` lists them; fix them, or send anyway with --force",
        )
