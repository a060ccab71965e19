"""The ``composer`` command line: click wiring only; the work is in ``composer.commands``.

Only click, pluggy and the plugin modules load for ``composer --help``, which never
reads the workspace's composer.toml: plugin commands listed there are those of the
built-in and installed plugins. A command of a plugin the workspace disables is
refused when run; a local plugin's commands are found when they are asked for.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from composer import __version__
from composer.commands.common import fail, open_app, report, strict_option, workspace_option
from composer.errors import UserError


class ComposerGroup(click.Group):
    """Core commands plus plugin commands; user errors become one line plus a hint."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._plugin_commands: dict[str, tuple[str, click.Command]] | None = None

    def plugin_commands(self, local: bool = False) -> dict[str, tuple[str, click.Command]]:
        """{name: (plugin, command)} registered by plugins (``local``: the workspace's too)."""
        if self._plugin_commands is None or local:
            from composer.commands.plugins import plugin_commands

            self._plugin_commands = plugin_commands(set(self.commands), local)
        return self._plugin_commands

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.plugin_commands()})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        found = self.plugin_commands().get(name) or self.plugin_commands(local=True).get(name)
        return found[1] if found else None

    def resolve_command(self, ctx: click.Context, args):
        name, command, rest = super().resolve_command(ctx, args)
        if name not in self.commands and not ctx.resilient_parsing:
            from composer.commands.plugins import refuse_if_disabled

            owner = self.plugin_commands().get(name, ("", None))[0]
            refuse_if_disabled(name, owner)
        return name, command, rest

    def invoke(self, ctx: click.Context):
        debug = ctx.params.get("debug") or bool(os.environ.get("COMPOSER_DEBUG"))
        _terminate_as_interrupt()
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort, click.ClickException):
            raise
        except UserError as exc:
            if debug:
                raise
            fail(str(exc), exc.hint, exc.code)
        except Terminated:
            fail("terminated (SIGTERM)", "", 143)
        except KeyboardInterrupt:
            fail("interrupted", "", 130)
        except Exception as exc:
            if debug:
                raise
            from composer.commands.common import describe_os_error, describe_state_error

            known = describe_os_error(exc) or describe_state_error(exc)
            if known:
                fail(*known)
            fail(f"internal error: {type(exc).__name__}: {exc}", "run with --debug for details")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it cleans up as after Ctrl-C
    (a send releases its claims); the scheduler daemon installs its own handler."""


def _terminate(signum, frame) -> None:
    raise Terminated


def _terminate_as_interrupt() -> None:
    import signal

    try:
        signal.signal(signal.SIGTERM, _terminate)
    except ValueError:  # not the main thread (the CLI invoked from a test's thread)
        pass


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
    try:
        result = run_draft(app, issue_id, offline=offline, force=force)
    except UserError:
        report(app.report)
        raise
    if result.backup:
        click.echo(f"kept a backup of the edited draft: {result.backup}")
    click.echo(f"wrote {result.issue_md}")
    for path in result.outputs:
        click.echo(f"wrote {path}")
    report(app.report, strict)


@cli.command()
@click.argument("source", required=False)
@click.option("--out", type=click.Path(path_type=Path), help="Output folder.")
@click.option("--format", "formats", metavar="F,..", help="Renderers to run (default: all).")
@workspace_option
@strict_option
def render(source, out, formats, workspace, strict) -> None:
    """Render an issue (ID) or any dialect FILE with every loaded renderer."""
    from composer.commands.render import render_source

    app, written, lost = render_source(source, out, formats, workspace)
    for path in written:
        click.echo(f"wrote {path}")
    report(app.report, strict and not lost)
    if lost:
        raise lost


@cli.command()
@click.argument("source", required=False)
@click.option("--out", type=click.Path(path_type=Path), help="Output folder.")
@workspace_option
@strict_option
def check(source, out, workspace, strict) -> None:
    """Lint every output of an issue (ID) or dialect FILE before sending it."""
    from composer.commands.check import check as run_check

    app, problems, note = run_check(source, out, workspace)
    if note:
        click.echo(note, err=True)
    blocking = [p for p in problems if p.blocking]
    for problem in problems:
        kind = "error" if problem.blocking else "warning"
        click.secho(f"{kind}: {problem}", fg="red" if problem.blocking else "yellow", err=True)
    report(app.report)
    warnings = len(problems) - len(blocking) + len(app.report)
    if blocking:
        fail(f"{len(blocking)} blocking problem(s): fix them before sending")
    if strict and warnings:
        fail(f"{warnings} warning(s) under --strict")
    click.echo(f"check: {warnings} warning(s), no blocking problem")


@cli.command()
@click.argument("source", required=False)
@click.option("--port", type=int, default=8808, show_default=True, help="0 picks a free port.")
@workspace_option
def preview(source, port, workspace) -> None:
    """Serve the email (600 and 375 px) and WeChat renderings side by side, live."""
    from composer.commands.preview import Preview, preview_builder, serve

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
@click.option("--section", metavar="NAME", help="Section to add to (default: the best taker).")
@click.option("--note", default="", help="A sentence about the link.")
@click.option("--issue", "issue_id", metavar="ID", help="Issue id (default: this ISO week).")
@click.option("--offline", is_flag=True, help="Do not look anything up on the network.")
@workspace_option
def add(what, section, note, issue_id, offline, workspace) -> None:
    """Add a link (or a notes file) to this week's notes."""
    from composer.commands.add import add as run_add

    app = open_app(workspace)
    click.echo(run_add(app, what, section, note, issue_id, offline))
    report(app.report)


@cli.command()
@click.option("--next", "count", type=click.IntRange(1, 1000), help="Print the next N fire times.")
@click.option("--once", is_flag=True, help="Do the due run, if any, and exit (for cron).")
@click.option("--at", "at", metavar="TIME", help="Pretend it is TIME (ISO 8601).")
@workspace_option
def schedule(count, once, at, workspace) -> None:
    """Draft (and send) each week's issue on the [schedule] cron; runs until stopped."""
    from composer.commands.schedule import schedule_command

    if at and not (count or once):
        raise click.UsageError("--at goes with --next or --once")
    schedule_command(open_app(workspace), count, once, at)


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
    try:
        result = run_send(app, issue_id, dry_run=dry_run, resend=resend, force=force, to=list(to))
    except UserError:
        report(app.report)
        raise
    report(app.report)
    for line in result.lines:
        click.echo(line)
    if dry_run:
        click.echo(f"dry run: {result.issue_id} not sent")


@cli.group(invoke_without_command=True)
@workspace_option
@click.pass_context
def plugins(ctx: click.Context, workspace) -> None:
    """List plugins: name, version, source, hooks, status."""
    if ctx.invoked_subcommand is None:
        from composer.commands.plugins import list_plugins

        list_plugins(workspace)


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
@workspace_option
def plugins_new(name: str, parent: Path, workspace) -> None:
    """Scaffold a plugin package composer-NAME (section, templates, test)."""
    from composer.commands.plugins import new_plugin_command

    new_plugin_command(name, parent, workspace)


def main() -> None:
    try:
        cli()
    finally:
        # Shutdown then skips a last cyclic-GC pass over every loaded module (~40 ms
        # with lxml, pydantic and httpx loaded); our files and databases are closed.
        import gc

        gc.freeze()
