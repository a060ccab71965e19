"""Plugin discovery and isolation.

Sources, in order: built-ins (``DEFAULT_PLUGINS``, registered like any other
plugin), the ``composer`` entry point group, and workspace-local files listed in
composer.toml ``[plugins] local``. ``COMPOSER_PLUGINS=a,b`` (or ``builtins``)
restricts which built-in and installed plugins load (listed local files always
load unless ``[plugins] disable`` names them); ``COMPOSER_TRACE_PLUGINS=1`` prints
each hook call.
A plugin that fails to import or raises in a hook is recorded as broken and skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from composer import PLUGIN_API_VERSION
from composer.contract import hookspecs

DEFAULT_PLUGINS = (
    "composer.plugins.discussions",
    "composer.plugins.papers",
    "composer.plugins.qa",
    "composer.plugins.chat",
    "composer.plugins.links",
    "composer.plugins.feeds",
    "composer.plugins.arxiv",
    "composer.plugins.email",
    "composer.plugins.text",
    "composer.plugins.wechat",
    "composer.plugins.hugo",
    "composer.plugins.delivery",
)
ENTRY_POINT_GROUP = "composer"


@dataclass
class PluginInfo:
    name: str
    source: str  # builtin | entry point | local
    version: str = ""
    module: Any = None
    error: str = ""
    hooks: list[str] = field(default_factory=list)
    templates: Path | None = None

    @property
    def status(self) -> str:
        return f"broken: {self.error}" if self.error else "ok"


class PluginManager:
    """A pluggy manager plus a record of every plugin tried and what went wrong."""

    def __init__(self) -> None:
        self.pm = pluggy.PluginManager("composer")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        if os.environ.get("COMPOSER_TRACE_PLUGINS"):
            self.pm.trace.root.setwriter(lambda msg: print(msg, end="", file=sys.stderr))
            self.pm.enable_tracing()

    # -- loading -------------------------------------------------------------
    def add(self, module: Any, name: str, source: str, version: str = "") -> None:
        info = PluginInfo(name=name, source=source, version=version, module=module)
        self.infos[name] = info
        problem = _api_problem(module)
        if problem:
            info.error = problem
            return
        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # a malformed hookimpl, a name clash
            info.error = _describe(exc)
            return
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(module) or [])
        folder = getattr(module, "__file__", None)
        if folder:
            templates = Path(folder).parent / "templates"
            info.templates = templates if templates.is_dir() else None

    def fail(self, name: str, source: str, error: str, version: str = "") -> None:
        self.infos[name] = PluginInfo(name=name, source=source, version=version, error=error)

    def broken(self, name: str, error: str) -> None:
        if name in self.infos and not self.infos[name].error:
            self.infos[name].error = error

    # -- calling -------------------------------------------------------------
    def each(self, hook: str, **kwargs) -> Iterable[tuple[str, Any]]:
        """Call ``hook`` on each plugin separately; a raising plugin is marked and skipped."""
        caller = getattr(self.pm.hook, hook)
        for impl in caller.get_hookimpls():
            name = self.pm.get_name(impl.plugin) or repr(impl.plugin)
            args = {k: kwargs[k] for k in impl.argnames}
            try:
                yield name, impl.function(**args)
            except Exception as exc:
                self.broken(name, f"{hook}: {_describe(exc)}")
                yield name, _Failed(_describe(exc))

    def collect(self, hook: str) -> list[tuple[str, Any]]:
        """Run a registration hook plugin by plugin, in load order.

        Returns (plugin name, registered object) pairs; a plugin that raises is
        marked broken and contributes nothing.
        """
        found: list[tuple[str, Any]] = []
        for impl in reversed(getattr(self.pm.hook, hook).get_hookimpls()):
            name = self.pm.get_name(impl.plugin)
            mine: list[Any] = []
            try:
                impl.function(_registrar(mine))
            except Exception as exc:
                self.broken(name, f"{hook}: {_describe(exc)}")
                continue
            found.extend((name, obj) for obj in mine)
        return found

    def sections(self):
        """The registered section types (:class:`composer.pipeline.parse.Sections`)."""
        from composer.pipeline.parse import Sections

        found = Sections()
        for owner, stype in self.collect("register_sections"):
            found.add(stype, owner)
        return found

    def renderers(self) -> dict[str, Any]:
        """Registered renderers by name, with the plugin that owns each."""
        return {r.name: (owner, r) for owner, r in self.collect("register_renderers")}

    def template_dirs(self) -> list[Path]:
        """``templates/`` folders of loaded plugin packages (never the built-in theme)."""
        return [i.templates for i in self.infos.values() if i.templates and not i.error]


def _registrar(into: list[Any]) -> Callable[..., None]:
    """The ``register`` callback: one object, or several values as a tuple."""

    def register(*args: Any) -> None:
        into.append(args[0] if len(args) == 1 else args)

    return register


@dataclass
class _Failed:
    error: str


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


def _api_problem(module: Any) -> str:
    declared = getattr(module, "COMPOSER_API", None)
    if declared is None:
        return ""
    if str(declared).split(".")[0] != PLUGIN_API_VERSION.split(".")[0]:
        return (
            f"needs plugin API {declared}, this composer provides {PLUGIN_API_VERSION}; "
            "upgrade the plugin or composer"
        )
    return ""


def _wanted(env: str | None) -> Callable[[str, str], bool]:
    if env is None or not env.strip():
        return lambda name, source: True
    names = {n.strip() for n in env.split(",") if n.strip()}
    builtins = "builtins" in names
    return lambda name, source: name in names or (builtins and source == "builtin")


def load_plugins(
    local: Iterable[str] = (),
    workspace: Path | None = None,
    disable: Iterable[str] = (),
    env: str | None = None,
) -> PluginManager:
    """Load built-in, entry point and listed local plugins, isolating failures."""
    env = os.environ.get("COMPOSER_PLUGINS") if env is None else env
    wanted = _wanted(env)
    disabled = set(disable)
    manager = PluginManager()

    def ok(name: str, source: str) -> bool:
        return name not in disabled and wanted(name, source)

    from composer import __version__

    for modname in DEFAULT_PLUGINS:
        name = modname.rsplit(".", 1)[1]
        if not ok(name, "builtin"):
            continue
        try:
            module = importlib.import_module(modname)
        except Exception as exc:
            manager.fail(name, "builtin", _describe(exc), __version__)
            continue
        manager.add(module, name, "builtin", __version__)

    if env is None or env.strip() not in ("builtins", ""):
        _load_entry_points(manager, ok)

    for rel in local:  # listed in composer.toml: only [plugins] disable turns them off
        path = (workspace or Path.cwd()) / rel
        name = Path(rel).stem
        if name in disabled:
            continue
        try:
            module = _import_file(path, name)
        except Exception as exc:
            manager.fail(name, "local", f"{rel}: {_describe(exc)}")
            continue
        manager.add(module, name, "local")
    return manager


def _load_entry_points(manager: PluginManager, ok: Callable[[str, str], bool]) -> None:
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        dist = ep.dist.name if ep.dist else ep.name
        version = ep.dist.version if ep.dist else ""
        if not (ok(dist, "entry point") or ok(ep.name, "entry point")):
            continue
        try:
            module = ep.load()
        except Exception as exc:
            manager.fail(dist, "entry point", _describe(exc), version)
            continue
        manager.add(module, dist, "entry point", version)


def _import_file(path: Path, name: str) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no such file {path}")
    spec = importlib.util.spec_from_file_location(f"composer_local_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
