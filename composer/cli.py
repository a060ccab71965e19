"""The ``composer`` command line: a click group whose commands call into the core.

Only click, pluggy and the plugin modules load for ``composer --help``; every
heavier library is imported inside the command that needs it.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from composer import __version__
from composer.errors import UserError

workspace_option = click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    help="Workspace folder (default: $COMPOSER_WORKSPACE, else the nearest composer.toml).",
)
strict_option = click.option("--strict", is_flag=True, help="Treat any warning as an error.")


class ComposerGroup(click.Group):
    """Turns user errors into one line plus a hint; tracebacks only with --debug."""

    def invoke(self, ctx: click.Context):
        debug = ctx.params.get("debug") or bool(os.environ.get("COMPOSER_DEBUG"))
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except UserError as exc:
            if debug:
                raise
            _fail(str(exc), exc.hint, exc.code)
        except KeyboardInterrupt:
            _fail("interrupted", "", 130)
        except Exception as exc:
            if debug:
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc}", "run with --debug for details", 1)


def _fail(message: str, hint: str, code: int) -> None:
    click.secho(f"Error: {message}", fg="red", err=True)
    if hint:
        click.echo(f"  hint: {hint}", err=True)
    sys.exit(code)


def report(app, strict: bool = False) -> None:
    """Print the run's warnings; under --strict any warning is a failure (exit 1)."""
    for warning in app.report.warnings:
        click.secho(f"warning: {warning}", fg="yellow", err=True)
    if strict and app.report.warnings:
        _fail(f"{len(app.report.warnings)} warning(s) under --strict", "", 1)


def open_app(workspace: Path | None, required: bool = True):  # noqa: D103
    from composer.app import open_workspace

    return open_workspace(workspace, required)


@click.group(cls=ComposerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="composer")
@click.option("--debug", is_flag=True, help="Show tracebacks.")
def cli(debug: bool) -> None:
    """Assemble the weekly research digest and render it for email, WeChat and Hugo."""


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
def init(folder: Path) -> None:
    """Create a workspace in FOLDER with a commented composer.toml."""
    from composer.commands.init import init_workspace

    for path in init_workspace(folder):
        click.echo(f"created {path}")


@cli.command()
@click.option("--issue", "issue_id", metavar="ID", help="Issue id (default: this ISO week).")
@click.option("--offline", is_flag=True, help="Make no network request; use stored copies.")
@click.option("--force", is_flag=True, help="Regenerate an edited issue.md (a backup is kept).")
@workspace_option
@strict_option
def draft(issue_id, offline, force, workspace, strict) -> None:
    """Collect, assemble and render this week's issue."""
    from composer.commands.draft import draft as run_draft

    app = open_app(workspace)
    result = run_draft(app, issue_id, offline=offline, force=force)
    if result.backup:
        click.echo(f"kept a backup of the edited draft: {result.backup}")
    click.echo(f"wrote {result.issue_md}")
    for path in result.outputs:
        click.echo(f"wrote {path}")
    report(app, strict)


@cli.command()
@click.argument("source", required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@click.option("--format", "formats", metavar="F,..", help="email,text,wechat,hugo (default all).")
@workspace_option
@strict_option
def render(source, out, formats, workspace, strict) -> None:
    """Render an issue (ID) or any dialect FILE into email, text, WeChat and Hugo outputs."""
    from composer.commands.render import render_source

    app, written = render_source(source, out, formats, workspace)
    for path in written:
        click.echo(f"wrote {path}")
    report(app, strict)


@cli.command()
@click.argument("source", required=False)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Output folder.")
@workspace_option
@strict_option
def check(source, out, workspace, strict) -> None:
    """Lint every output of an issue (ID) or dialect FILE before sending it."""
    from composer.commands.check import check as run_check

    app, problems = run_check(source, out, workspace)
    blocking = [p for p in problems if p.blocking]
    for problem in problems:
        kind = "error" if problem.blocking else "warning"
        click.secho(f"{kind}: {problem}", fg="red" if problem.blocking else "yellow", err=True)
    report(app, strict)
    if blocking:
        _fail(f"{len(blocking)} blocking problem(s): fix them before sending", "", 1)
    if strict and problems:
        _fail(f"{len(problems)} warning(s) under --strict", "", 1)
    click.echo(f"check: {len(problems)} warning(s), no blocking problem")


@cli.command()
@click.argument("source", required=False)
@click.option("--port", type=int, default=8808, show_default=True, help="0 picks a free port.")
@workspace_option
def preview(source, port, workspace) -> None:
    """Serve the email (600 and 375 px) and WeChat renderings side by side, live."""
    from composer.commands.preview import Preview, serve
    from composer.commands.render import preview_builder

    build, watched, language = preview_builder(source, workspace)
    click.echo("press Ctrl+C to stop", err=True)
    serve(
        Preview(build, watched),
        port,
        language,
        ready=lambda url: click.echo(f"preview at {url}", err=True),
    )


@cli.command()
@click.argument("what", metavar="URL|FILE")
@click.option(
    "--section",
    metavar="NAME",
    help="Section to add to (default: papers for arXiv links, else links).",
)
@click.option("--note", default="", help="A sentence about the link.")
@click.option("--issue", "issue_id", metavar="ID", help="Issue id (default: this ISO week).")
@click.option("--offline", is_flag=True, help="Do not look up arXiv titles.")
@workspace_option
def add(what, section, note, issue_id, offline, workspace) -> None:
    """Add a link (or a notes file) to this week's notes."""
    from composer.commands.add import add as run_add

    app = open_app(workspace)
    click.echo(run_add(app, what, section, note, issue_id, offline))
    report(app)


@cli.command()
@click.argument("action", required=False, type=click.Choice(["status"]), default="status")
@workspace_option
def feeds(action, workspace) -> None:
    """Feed health: last success, consecutive failures, last error per feed."""
    from composer.support.state import State

    app = open_app(workspace)
    config = app.plugin_config.get("feeds")
    configured = [s.url for s in config.sources()] if config else []
    with State(app.workspace) as state:
        health = {row["url"]: row for row in state.feed_health()}
    rows = [("URL", "LAST SUCCESS", "FAILURES", "ENTRIES", "LAST ERROR")]
    for url in dict.fromkeys(configured + list(health)):
        row = health.get(url, {})
        rows.append(
            (
                url,
                row.get("last_success") or "never",
                str(row.get("failures") or 0),
                "" if row.get("entries") is None else str(row["entries"]),
                row.get("last_error") or "" if row.get("failures") else "",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:4], widths, strict=True)]
        click.echo("  ".join(cells) + "  " + row[4])


def _moment(value: str | None):
    """--at: an ISO time (naive means the schedule's timezone); None for now."""
    import datetime as dt

    if value is None:
        return None
    try:
        return dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO time like 2026-11-27T09:00") from None


@cli.command()
@click.option("--next", "count", type=click.IntRange(1), help="Print the next N fire times.")
@click.option("--once", is_flag=True, help="Do the due run, if any, and exit (for cron).")
@click.option("--at", "at", metavar="TIME", help="Pretend it is TIME (ISO 8601).")
@workspace_option
def schedule(count, once, at, workspace) -> None:
    """Draft (and send) each week's issue on the [schedule] cron; runs until stopped."""
    import datetime as dt

    from composer.commands.schedule import load_schedule, next_times, run_due, serve

    app = open_app(workspace)
    plan = load_schedule(app)
    now = _moment(at) or dt.datetime.now(plan.zone)
    if now.tzinfo is None:
        now = now.replace(tzinfo=plan.zone)

    def log(message: str) -> None:
        stamp = dt.datetime.now(plan.zone).isoformat(timespec="seconds")
        click.echo(f"{stamp} {message}", err=True)

    if count:
        for when in next_times(plan, count, now):
            click.echo(when.isoformat())
    elif once:
        if not run_due(app.workspace, plan, now, log):
            sys.exit(1)
    else:
        if at:
            raise click.UsageError("--at goes with --next or --once")
        serve(app.workspace, plan, log)


@cli.command()
@click.argument("issue_id", metavar="[ID]", required=False)
@click.option("--dry-run", is_flag=True, help="Print recipients, subject and size; send nothing.")
@click.option("--resend", is_flag=True, help="Send an issue that was already sent.")
@click.option("--force", is_flag=True, help="Send despite blocking `composer check` problems.")
@click.option("--to", "to", metavar="ADDR", multiple=True, help="Send only to ADDR (repeatable).")
@workspace_option
def send(issue_id, dry_run, resend, force, to, workspace) -> None:
    """Send this week's (or ID's) issue to every [delivery.*] target."""
    from composer.commands.send import send as run_send

    app = open_app(workspace)
    result = run_send(app, issue_id, dry_run=dry_run, resend=resend, force=force, to=list(to))
    report(app)
    for line in result.lines:
        click.echo(line)
    if dry_run:
        click.echo(f"dry run: {result.issue_id} not sent")


@cli.group(invoke_without_command=True)
@workspace_option
@click.pass_context
def plugins(ctx: click.Context, workspace) -> None:
    """List plugins: name, version, source, hooks, status."""
    if ctx.invoked_subcommand is not None:
        return
    from composer.plugin_manager import load_plugins
    from composer.support.workspace import find_workspace

    try:
        ws = find_workspace(workspace)
    except UserError:
        if workspace is not None:
            raise
        ws = None
    local, disable = _plugin_lists(ws)
    manager = load_plugins(local=local, workspace=ws, disable=disable)
    manager.sections(), manager.renderers()
    manager.collect("register_deliverers"), manager.collect("register_settings")
    rows = [("NAME", "VERSION", "SOURCE", "HOOKS", "STATUS")]
    for info in manager.infos.values():
        hooks = ",".join(info.hooks) or "-"
        rows.append((info.name, info.version or "-", info.source, hooks, info.status))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        )


@plugins.command("new")
@click.argument("name")
@click.option(
    "--dir",
    "parent",
    type=click.Path(file_okay=False, path_type=Path),
    default=".",
    show_default=True,
    help="Folder to create the package in.",
)
def plugins_new(name: str, parent: Path) -> None:
    """Scaffold a plugin package composer-NAME (section, templates, test)."""
    from composer.commands.plugins import new_plugin

    folder = new_plugin(name, parent)
    click.echo(f"created {folder}")
    click.echo(f"next: pip install -e '{folder}[test]' && pytest {folder}")


def _plugin_lists(ws: Path | None) -> tuple[list[str], list[str]]:
    """[plugins] local and disable, read without validating the rest of the file."""
    if ws is None:
        return [], []
    import tomllib

    try:
        data = tomllib.loads((ws / "composer.toml").read_text(encoding="utf-8-sig"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return [], []
    table = data.get("plugins", {}) if isinstance(data.get("plugins"), dict) else {}
    return list(table.get("local", [])), list(table.get("disable", []))


def _add_plugin_commands(group: click.Group) -> None:
    from composer.plugin_manager import load_plugins
    from composer.support.workspace import find_workspace

    try:
        ws = find_workspace()
    except UserError:
        ws = None
    local, disable = _plugin_lists(ws)
    manager = load_plugins(local=local, workspace=ws, disable=disable)
    for name, result in manager.each("register_commands", cli=group):
        if getattr(result, "error", None):
            click.secho(
                f"warning: plugin {name}: register_commands failed ({result.error})",
                fg="yellow",
                err=True,
            )


def main() -> None:
    _add_plugin_commands(cli)
    try:
        cli()
    finally:
        # Shutdown then skips a last cyclic-GC pass over every loaded module (~40 ms
        # with lxml, pydantic and httpx loaded); our files and databases are closed.
        import gc

        gc.freeze()
