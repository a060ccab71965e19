"""``composer plugins`` (list) and ``composer plugins new NAME`` (scaffold), and the
plugin commands the command line offers."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from composer.errors import Refusal, UsageError

NAME = re.compile(r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*")


def _workspace(workspace: Path | None) -> Path | None:
    from composer.errors import WorkspaceError
    from composer.support.workspace import find_workspace

    try:
        return find_workspace(workspace)
    except WorkspaceError:
        if workspace is not None:
            raise
        return None


def _load(ws: Path | None, strict: bool = False):
    """Plugins as the workspace lists them, without validating its other settings
    (``strict``: a composer.toml that cannot be read is an error)."""
    from composer.plugin_manager import load_plugins
    from composer.support.config import plugin_lists
    from composer.support.workspace import CONFIG_NAME

    local, disable = plugin_lists(ws / CONFIG_NAME if ws else None, strict)
    return load_plugins(local=local, workspace=ws, disable=disable)


def list_plugins(workspace: Path | None) -> None:
    """Print name, version, source, hooks and status of every plugin."""
    from composer.commands.common import print_table

    manager = _load(_workspace(workspace), strict=True)
    for hook in ("register_sections", "register_renderers", "register_deliverers"):
        manager.registered(hook)  # a registration that fails marks its plugin broken
    manager.registered("register_settings")
    for _ in manager.call("register_commands", cli=_Collector([])):
        pass  # a plugin whose commands fail to register is marked broken too
    rows = [
        (i.name, i.version or "-", i.source, ",".join(i.hooks) or "-", i.status)
        for i in manager.infos.values()
    ]
    print_table(("NAME", "VERSION", "SOURCE", "HOOKS", "STATUS"), rows)


_SAID: set[str] = set()  # warnings about plugin commands, once per process


def _warn_once(message: str) -> None:
    if message not in _SAID:
        _SAID.add(message)
        click.secho(f"warning: {message}", fg="yellow", err=True)


def plugin_commands(core: set[str], local: bool) -> dict[str, tuple[str, click.Command]]:
    """{name: (plugin, command)} of plugin commands; ``local``: the workspace's plugins
    too (reads its ``[plugins]`` table), else built-in and installed ones only.

    A command whose name is taken (by the core or a plugin loaded before) is left out
    with a warning; a plugin command that raises is reported as that plugin's failure.
    """
    from composer.plugin_manager import load_plugins

    manager = _load(_workspace(None)) if local else load_plugins()
    found: dict[str, tuple[str, click.Command]] = {}
    added: list[click.Command] = []  # what the plugin being called registered
    for name, result in manager.call("register_commands", cli=_Collector(added)):
        if getattr(result, "error", None):
            _warn_once(f"plugin {name}: register_commands failed ({result.error})")
        for command in added:
            taken = "composer itself" if command.name in core else found.get(command.name, ("",))[0]
            if taken:
                _warn_once(f"plugin {name}: command {command.name!r} is taken by {taken}")
                continue
            found[command.name] = (name, _isolated(command, name))
        added.clear()
    return found


def _isolated(command: click.Command, plugin: str) -> click.Command:
    """``command`` with its callback's unexpected exceptions named as ``plugin``'s."""
    from composer.errors import UserError
    from composer.plugin_manager import describe

    callback = command.callback
    if callback is None:
        return command

    def run(*args, **kwargs):
        try:
            return callback(*args, **kwargs)
        except (UserError, click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as exc:
            raise UserError(
                f"plugin {plugin}: `composer {command.name}` failed ({describe(exc)})",
                "run with --debug for the traceback; report it to the plugin's author",
            ) from exc

    command.callback = run
    return command


class _Collector(click.Group):
    """Stands in for the ``composer`` group while plugins register their commands."""

    def __init__(self, into: list[click.Command]) -> None:
        super().__init__("composer")
        self.into = into

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        cmd.name = name or cmd.name
        self.into.append(cmd)


def refuse_if_disabled(command: str, plugin: str) -> None:
    """Refuse a built-in or installed plugin's command in a workspace that disables it."""
    if not plugin:
        return
    from composer.plugin_manager import load_plugins
    from composer.support.config import plugin_lists
    from composer.support.workspace import CONFIG_NAME

    ws = _workspace(None)
    local, disable = plugin_lists(ws / CONFIG_NAME if ws else None)
    if not disable:
        return
    manager = load_plugins(local=(), workspace=ws, disable=disable)
    info = manager.infos.get(plugin)
    if info is not None and info.disabled:
        raise UsageError(
            f"`composer {command}` belongs to the plugin {plugin}, "
            f"which {ws / CONFIG_NAME} disables",
            "remove it from [plugins] disable to use this command",
        )


def taken_names(workspace: Path | None) -> dict[str, str]:
    """Names a new plugin may not take: {name: what already has it}."""
    manager = _load(_workspace(workspace))
    taken = {}
    for info in manager.infos.values():
        for name in (info.name, *info.aliases):
            taken[name] = f"the plugin {info.name}"
    for owner, stype in manager.registered("register_sections"):
        taken[stype.name] = f"a section type of the plugin {owner}"
    return taken


def new_plugin_command(name: str, parent: Path, workspace: Path | None) -> None:
    folder = new_plugin(name, parent, taken_names(workspace))
    python = sys.executable
    click.echo(f"created {folder}")
    click.echo(f"next: {python} -m pip install -e '{folder}[test]' && {python} -m pytest {folder}")


def new_plugin(name: str, parent: Path, taken: dict[str, str] | None = None) -> Path:
    """Write the package ``composer-NAME`` into ``parent``; returns its folder."""
    from composer import __version__
    from composer.commands.plugin_skeleton import MODULE, PYPROJECT, README, TEST
    from composer.support.workspace import atomic_write

    if not NAME.fullmatch(name) or len(name) > 40:
        raise UsageError(
            f"'{name}' is not a plugin name",
            "use lower-case letters and digits, words joined by - or _ (e.g. demo-digest)",
        )
    dist = f"composer-{name.replace('_', '-')}"
    for candidate in (name, dist):
        if candidate in (taken or {}):
            raise UsageError(f"'{candidate}' is already {taken[candidate]}", "choose another name")
    folder = parent / dist
    if folder.exists():
        raise Refusal(f"{folder} already exists", "choose another name or folder")
    module = dist.replace("-", "_")
    values = {
        "name": name,
        "dist": dist,
        "module": module,
        "title": name.replace("-", " ").replace("_", " ").title(),
        "version": __version__,
    }
    files = {
        "pyproject.toml": PYPROJECT.format(**values),
        f"{module}/__init__.py": MODULE.format(**values),
        f"tests/test_{module.removeprefix('composer_')}.py": TEST.format(**values),
        "README.md": README.format(**values),
    }
    for fmt, template in section_templates().items():
        files[f"{module}/templates/sections/{name}.{fmt}.j2"] = template
    for rel, text in files.items():
        atomic_write(folder / rel, text)
    return folder


def section_templates() -> dict[str, str]:
    """{format: starter section template}, from the default theme's ``skeleton/`` folder
    (the theme knows each format's markup)."""
    from importlib.resources import files

    folder = files("composer.templates") / "skeleton"
    found = {}
    for entry in folder.iterdir():
        name = entry.name
        if name.startswith("section.") and name.endswith(".j2"):
            found[name.removeprefix("section.").removesuffix(".j2")] = entry.read_text("utf-8")
    return dict(sorted(found.items()))
