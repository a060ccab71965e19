"""Plugin discovery, order, isolation and tracing.

Sources, in this order (which is also the order every hook is called in): built-ins
(``DEFAULT_PLUGINS``, registered like any other plugin), packages with an entry point
in the ``composer`` group, and workspace-local files listed in composer.toml
``[plugins] local``. A plugin is named by its distribution name (``composer-events``),
a built-in by its module name (``papers``), a local one by its file name
(``events`` for ``plugins/events.py``); ``[plugins] disable`` also accepts an entry
point's own name.

``COMPOSER_PLUGINS=a,b`` (or ``builtins``) restricts which built-in and installed
plugins load; ``COMPOSER_TRACE_PLUGINS=1`` prints every hook call (and every call of
a registered object's main method) with its plugin and duration.

Hooks are called through pluggy one plugin at a time, so a plugin that raises is
marked broken and skipped while the others still run. Registered objects are
collected once per manager and checked against their protocol.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pluggy

from composer import PLUGIN_API_VERSION
from composer.contract import hookspecs
from composer.support.entrypoints import entry_points

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
    "composer.plugins.wechat_mp",
)
ENTRY_POINT_GROUP = "composer"

# what each registration hook's objects must have: (kind, attributes, methods)
PROTOCOLS = {
    "register_sections": (
        "section type",
        ("name", "title", "aliases"),
        ("sniff", "parse", "serialize"),
    ),
    "register_renderers": ("renderer", ("name", "outputs"), ("render",)),
    "register_deliverers": ("deliverer", ("name", "config_key"), ("describe", "deliver")),
}


@dataclass
class PluginInfo:
    name: str
    source: str  # builtin | entry point | local
    version: str = ""
    module: Any = None
    errors: list[str] = field(default_factory=list)
    disabled: bool = False
    registered: bool = False  # its hooks are in (it may still have failed somewhere)
    hooks: list[str] = field(default_factory=list)
    templates: Path | None = None
    aliases: tuple[str, ...] = ()  # other names it answers to (its entry point name)
    load: Any = field(default=None, repr=False, compare=False)  # a disabled one's import

    @property
    def error(self) -> str:
        return "; ".join(self.errors)

    @property
    def status(self) -> str:
        if self.disabled:
            return "disabled"
        return f"broken: {self.error}" if self.errors else "ok"


@dataclass
class Failed:
    """What a hook call of a plugin that raised returns."""

    error: str


def describe(exc: BaseException) -> str:
    """An exception as one line: ``TypeError: first line of its message (where.py:12)``,
    the place being the innermost frame of the traceback (the plugin's own line)."""
    import traceback

    text = str(exc).strip().splitlines()
    line = f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__
    frames = traceback.extract_tb(exc.__traceback__) if exc.__traceback__ else []
    frames = [f for f in frames if not f.filename.endswith(".j2")]
    if frames:
        line += f" ({Path(frames[-1].filename).name}:{frames[-1].lineno})"
    return line


def env_flag(name: str) -> bool:
    """An environment variable read as a switch: unset, empty, 0, false, no, off are off."""
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no", "off")


class PluginManager:
    """A pluggy manager plus a record of every plugin tried and what went wrong."""

    def __init__(self, trace: bool | None = None) -> None:
        self.pm = pluggy.PluginManager("composer")
        self.pm.add_hookspecs(hookspecs)
        self.infos: dict[str, PluginInfo] = {}
        self._registered: dict[str, list[tuple[str, Any]]] = {}
        self.unmatched: list[str] = []  # names COMPOSER_PLUGINS lists that match no plugin
        self.left_out: dict[str, tuple[str, ...]] = {}  # installed, not in COMPOSER_PLUGINS
        self.tracing = env_flag("COMPOSER_TRACE_PLUGINS") if trace is None else trace
        if self.tracing:
            self.pm.add_hookcall_monitoring(self._before, self._after)
        self._started: list[float] = []

    # -- loading ---------------------------------------------------------------------
    def add(self, module: Any, name: str, source: str, version: str = "", aliases=()) -> None:
        info = PluginInfo(name, source, version, module, aliases=tuple(aliases))
        self.infos[name] = info
        problem = _api_problem(module)
        if problem:
            info.errors.append(problem)
            return
        try:
            self.pm.register(module, name=name)
        except Exception as exc:  # a malformed hookimpl, a name clash
            info.errors.append(describe(exc))
            return
        info.registered = True
        info.hooks = sorted(c.name for c in self.pm.get_hookcallers(module) or [])
        folder = getattr(module, "__file__", None)
        if folder:
            templates = Path(folder).parent / "templates"
            info.templates = templates if templates.is_dir() else None

    def fail(self, name: str, source: str, error: str, version: str = "", aliases=()) -> None:
        """Record a plugin that could not be imported."""
        self.infos[name] = PluginInfo(name, source, version, errors=[error], aliases=tuple(aliases))

    def skip(self, name: str, source: str, version: str = "", aliases=(), load=None) -> None:
        """Record a plugin that exists but was disabled (``load()`` imports it, to learn
        the names of its tables without running it)."""
        self.infos[name] = PluginInfo(
            name, source, version, disabled=True, aliases=tuple(aliases), load=load
        )

    def probe(self, name: str) -> PluginManager | None:
        """A manager holding only the disabled plugin ``name``, registered apart from
        this one (None when it cannot be imported): what it would declare."""
        info = self.infos.get(name)
        if info is None or info.load is None:
            return None
        try:
            module = info.load()
        except Exception:
            return None
        alone = PluginManager()
        alone.add(module, name, info.source, info.version, info.aliases)
        return alone

    def broken(self, name: str, error: str) -> None:
        info = self.infos.get(name)
        if info and error not in info.errors:
            info.errors.append(error)

    def loaded(self) -> list[PluginInfo]:
        """Plugins whose hooks are registered (some may have failed since)."""
        return [i for i in self.infos.values() if i.registered]

    # -- calling ---------------------------------------------------------------------
    def call(self, hook: str, **kwargs: Any) -> Iterator[tuple[str, Any]]:
        """Call ``hook`` plugin by plugin in load order, through pluggy.

        Yields (plugin name, result); a plugin that raises is marked broken and
        yields a :class:`Failed` instead.
        """
        plugins = [impl.plugin for impl in getattr(self.pm.hook, hook).get_hookimpls()]
        for plugin in plugins:
            name = self.pm.get_name(plugin) or repr(plugin)
            caller = self.pm.subset_hook_caller(hook, [p for p in plugins if p is not plugin])
            try:
                results = caller(**kwargs)
            except (Exception, SystemExit) as exc:  # a plugin's exit() ends only its part
                self.broken(name, f"{hook}: {describe(exc)}")
                yield name, Failed(describe(exc))
                continue
            yield name, results[0] if results else None

    def registered(self, hook: str) -> list[tuple[str, Any]]:
        """(plugin, object) pairs a registration hook collects, once per manager.

        An object that lacks what its protocol requires, or takes a name (or an
        output file) another plugin registered first, is left out and its plugin
        is marked broken with a message saying why.
        """
        if hook in self._registered:
            return self._registered[hook]
        found: list[tuple[str, Any]] = []
        taken: dict[str, str] = {}
        mine: list[Any] = []
        for name, result in self.call(hook, register=_Registrar(mine)):
            objects, mine[:] = list(mine), []
            if isinstance(result, Failed):
                continue
            for obj in objects:
                problem = _protocol_problem(hook, obj) or _clash(hook, obj, name, taken)
                if problem:
                    self.broken(name, problem)
                else:
                    found.append((name, obj))
        self._registered[hook] = found
        return found

    def template_dirs(self) -> list[Path]:
        """``templates/`` folders of loaded plugin packages (never the built-in theme)."""
        return [i.templates for i in self.loaded() if i.templates]

    # -- tracing ---------------------------------------------------------------------
    @contextlib.contextmanager
    def trace(self, plugin: str, what: str):
        """Time one call of a registered object's method when tracing is on."""
        if not self.tracing:
            yield
            return
        start = time.perf_counter()
        try:
            yield
        finally:
            _trace_line(what, plugin, time.perf_counter() - start)

    def _before(self, hook_name: str, hook_impls, kwargs) -> None:
        self._started.append(time.perf_counter())

    def _after(self, outcome, hook_name: str, hook_impls, kwargs) -> None:
        took = time.perf_counter() - self._started.pop()
        names = ",".join(self.pm.get_name(i.plugin) or "?" for i in hook_impls) or "-"
        failed = " (raised)" if outcome.exception is not None else ""
        _trace_line(hook_name, names, took, failed)


def _trace_line(what: str, plugin: str, seconds: float, extra: str = "") -> None:
    print(f"composer trace: {what} [{plugin}] {seconds * 1000:.2f} ms{extra}", file=sys.stderr)


class _Registrar:
    """The ``register`` callback: one object, or several values as a tuple."""

    def __init__(self, into: list[Any]) -> None:
        self.into = into

    def __call__(self, *args: Any) -> None:
        self.into.append(args[0] if len(args) == 1 else args)


def _protocol_problem(hook: str, obj: Any) -> str:
    if hook == "register_settings":
        ok = isinstance(obj, tuple) and len(obj) == 2 and isinstance(obj[0], str)
        return "" if ok else f"{hook}: call register(table_name, schema), not register({obj!r})"
    if hook not in PROTOCOLS:
        return ""
    kind, attributes, methods = PROTOCOLS[hook]
    missing = [a for a in attributes if not hasattr(obj, a)]
    missing += [m for m in methods if not callable(getattr(obj, m, None))]
    if missing:
        needs = ", ".join((*attributes, *methods))
        return (
            f"{hook}: {type(obj).__name__} lacks {', '.join(repr(m) for m in missing)} "
            f"(a {kind} needs {needs})"
        )
    wrong = _shape_problem(obj)
    return f"{hook}: {type(obj).__name__}.{wrong}" if wrong else ""


def _names_of(value: Any) -> bool:
    return isinstance(value, tuple | list) and all(isinstance(v, str) for v in value)


def _shape_problem(obj: Any) -> str:
    """A registered object's attributes of the wrong type: names, file tuples."""
    for attribute in ("name", "title", "config_key"):
        if hasattr(obj, attribute) and not isinstance(getattr(obj, attribute), str):
            return f"{attribute} must be a string"
    for attribute in ("aliases", "outputs", "faithful", "after", "kinds"):
        if hasattr(obj, attribute) and not _names_of(getattr(obj, attribute)):
            return f"{attribute} must be a tuple of strings, not {getattr(obj, attribute)!r}"
    outputs = getattr(obj, "outputs", ())
    strays = [f for f in getattr(obj, "faithful", ()) if f not in outputs]
    if strays:
        return f"faithful names {', '.join(strays)}, which is not one of its outputs"
    return ""


def _clash(hook: str, obj: Any, plugin: str, taken: dict[str, str]) -> str:
    """A name (or output file) another plugin registered first; records this one's."""
    if hook not in PROTOCOLS:
        return ""
    kind = PROTOCOLS[hook][0]
    keys = [f"{kind} {obj.name!r}"]
    if hook == "register_renderers":
        keys += [f"output {name!r}" for name in obj.outputs]
    for key in keys:
        if key in taken and taken[key] != plugin:
            return f"{hook}: {key} is already registered by plugin {taken[key]}"
    for key in keys:
        taken[key] = plugin
    return ""


def _api_problem(module: Any) -> str:
    declared = getattr(module, "COMPOSER_API", None)
    if declared is None:
        return ""
    declared = str(declared).strip()
    if declared.split(".")[0] != PLUGIN_API_VERSION.split(".")[0]:
        return (
            f"needs plugin API {declared}, this composer provides {PLUGIN_API_VERSION}; "
            "upgrade the plugin or composer"
        )
    return ""


def _names(env: str | None) -> set[str] | None:
    """The names ``COMPOSER_PLUGINS`` lists; None when it is unset or empty (all load)."""
    names = {n.strip() for n in (env or "").split(",") if n.strip()}
    return names or None


def _wanted(names: set[str] | None) -> Callable[[str, str], bool]:
    if names is None:
        return lambda name, source: True
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
    names = _names(env)
    wanted = _wanted(names)
    disabled = set(disable)
    manager = PluginManager()
    from composer import __version__

    for modname in DEFAULT_PLUGINS:
        name = modname.rsplit(".", 1)[1]
        if not wanted(name, "builtin"):
            continue
        if name in disabled:
            load = functools.partial(importlib.import_module, modname)
            manager.skip(name, "builtin", __version__, load=load)
            continue
        try:
            module = importlib.import_module(modname)
        except Exception as exc:
            manager.fail(name, "builtin", describe(exc), __version__)
            continue
        manager.add(module, name, "builtin", __version__)

    # installed plugins are known by name even when COMPOSER_PLUGINS leaves them out
    for ep in entry_points(ENTRY_POINT_GROUP):
        called = {ep.dist, ep.name}
        if not any(wanted(n, "entry point") for n in called):
            manager.left_out[ep.dist] = (ep.name,)
            continue
        if called & disabled:
            manager.skip(ep.dist, "entry point", ep.version, (ep.name,), load=ep.load)
            continue
        try:
            module = ep.load()
        except Exception as exc:
            manager.fail(ep.dist, "entry point", describe(exc), ep.version, (ep.name,))
            continue
        manager.add(module, ep.dist, "entry point", ep.version, (ep.name,))

    for rel in local:  # listed in composer.toml: only [plugins] disable turns them off
        path = (workspace or Path.cwd()) / rel
        name = Path(rel).parent.name if Path(rel).stem == "__init__" else Path(rel).stem
        if name in disabled or rel in disabled:
            manager.skip(name, "local", load=functools.partial(_import_file, path, name))
            continue
        try:
            module = _import_file(path, name)
        except Exception as exc:
            manager.fail(name, "local", f"{rel}: {describe(exc)}")
            continue
        manager.add(module, name, "local")
    if names is not None:
        known = {n for i in manager.infos.values() for n in (i.name, *i.aliases)}
        manager.unmatched = sorted(names - known - {"builtins"})
    return manager


def _import_file(path: Path, name: str) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"no such file {path}")
    spec = importlib.util.spec_from_file_location(f"composer_local_{name}", path)
    module = importlib.util.module_from_spec(spec)
    # in sys.modules, like any module: dataclasses and pydantic read string annotations
    # (`from __future__ import annotations`) in its namespace
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module
