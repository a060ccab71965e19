"""One run's setup: workspace, settings, plugins, what they registered, their config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.contract.protocols import Context, Report
from composer.pipeline.parse import Sections
from composer.plugin_manager import PluginManager, load_plugins
from composer.support.config import check_newsletter, load_core, validate_plugin_tables
from composer.support.settings import NoSettings, Settings
from composer.support.workspace import CONFIG_NAME


@dataclass
class App:
    workspace: Path | None
    settings: Settings
    manager: PluginManager
    sections: Sections
    renderers: dict[str, tuple[str, Any]]  # name -> (plugin, renderer)
    deliverers: list[tuple[str, Any]]  # (plugin, deliverer)
    plugin_config: dict[str, Any] = field(default_factory=dict)
    report: Report = field(default_factory=Report)
    config_models: dict[str, Any] = field(default_factory=dict)

    def broken_plugin(self, name: str, error: str) -> None:
        self.manager.broken(name, error)

    def context(self, issue_id: str, offline: bool = False, state: Any = None) -> Context:
        """What plugins get for work on ``issue_id``: settings, validated config, report."""
        return Context(
            settings=self.settings,
            workspace=self.workspace,
            issue_id=issue_id,
            offline=offline,
            report=self.report,
            state=state,
            plugin_config=self.plugin_config,
            config_models=self.config_models,
        )


def config_models(manager: PluginManager) -> dict[str, tuple[Any, str]]:
    """{table name: (schema, owning plugin)} declared by every registered object."""
    objects = [
        *manager.registered("register_sections"),
        *manager.registered("register_renderers"),
        *manager.registered("register_deliverers"),
    ]
    models = {
        table: (schema, owner) for owner, (table, schema) in manager.registered("register_settings")
    }
    for owner, obj in objects:
        model = getattr(obj, "config", None)
        if model is None and getattr(obj, "config_key", None):
            model = NoSettings  # a deliverer is switched on by its (empty) table
        if model is not None:
            models[getattr(obj, "config_key", None) or obj.name] = (model, owner)
    return models


def open_app(workspace: Path | None, plugins: str | None = None) -> App:
    """Read composer.toml (if any), load plugins, validate every plugin table.

    ``plugins`` restricts what loads like ``COMPOSER_PLUGINS`` (which it overrides).
    """
    path = workspace / CONFIG_NAME if workspace else None
    settings, tables, text = load_core(path)
    report = Report()
    listed = settings.plugins
    manager = load_plugins(listed.local, workspace, listed.disable, env=plugins)
    sections = Sections.of(manager.registered("register_sections"))
    renderers = {r.name: (owner, r) for owner, r in manager.registered("register_renderers")}
    deliverers = manager.registered("register_deliverers")
    models = config_models(manager)
    disabled = _absent_names(manager)
    kinds = {name: getattr(t, "kinds", None) for name, t in sections.types.items()}
    if path is not None:
        broken = [i.name for i in manager.infos.values() if i.error]
        folders = _theme_folders(workspace, manager)
        check_newsletter(settings, kinds, disabled, broken, folders, path, text, report)
    plugin_config = (
        validate_plugin_tables(
            tables,
            models,
            path,
            text,
            disabled,
            report,
            context={"sections": kinds},
            broken={i.name: i.error for i in manager.infos.values() if i.errors},
        )
        if tables
        else {}
    )
    _warn_unknown_disabled(manager, listed.disable, path, text, report)
    for name in manager.unmatched:
        report.warn("COMPOSER_PLUGINS", f"no plugin named {name!r}")
    for info in manager.infos.values():
        if info.errors:
            said = f"not loaded ({info.error})" if not info.registered else info.error
            report.warn(f"plugin {info.name}", said)
    schemas = {table: model for table, (model, _) in models.items()}
    return App(
        workspace,
        settings,
        manager,
        sections,
        renderers,
        deliverers,
        plugin_config,
        report,
        schemas,
    )


def _theme_folders(workspace: Path | None, manager: PluginManager) -> list[Path]:
    """Where templates are looked up before the default theme (see pipeline.render)."""
    own = [workspace / "templates"] if workspace else []
    return [*own, *manager.template_dirs()]


def _absent_names(manager: PluginManager) -> dict[str, str]:
    """Names the tables of a plugin that did not load may have -> what that plugin is."""
    names: dict[str, str] = {}
    for info in manager.infos.values():
        if info.disabled or not info.registered:
            what = (
                f"the disabled plugin {info.name}"
                if info.disabled
                else f"the plugin {info.name}, which did not load"
            )
            for name in (info.name, *info.aliases, *_declared(manager, info)):
                names[name] = what
                names[name.removeprefix("composer-")] = what
    for dist, aliases in manager.left_out.items():
        what = f"the plugin {dist}, which COMPOSER_PLUGINS leaves out"
        for name in (dist, *aliases):
            names.setdefault(name, what)
            names.setdefault(name.removeprefix("composer-"), what)
    return names


def _declared(manager: PluginManager, info) -> list[str]:
    """The tables and section types a disabled plugin would declare (its
    registrations, read apart; nothing of it runs in this run)."""
    if not info.disabled:
        return []
    alone = manager.probe(info.name)
    if alone is None:
        return []
    sections = [t.name for _, t in alone.registered("register_sections")]
    return [*config_models(alone), *sections]


def _warn_unknown_disabled(manager, disable, path, text: str, report: Report) -> None:
    from composer.support.config import line_of

    known = {n for i in manager.infos.values() for n in (i.name, *i.aliases)}
    known |= {n for dist, aliases in manager.left_out.items() for n in (dist, *aliases)}
    for name in disable:
        if name not in known:
            line = line_of(text, "plugins", "disable") if text else 0
            report.warn(
                f"{path}:{line}" if path else "[plugins] disable",
                f"[plugins] disable: no plugin named {name!r} "
                f"(plugins: {', '.join(sorted(known))})",
            )


def open_workspace(workspace: Path | None, required: bool = True) -> App:
    """``open_app`` for ``-w DIR``, else $COMPOSER_WORKSPACE, else the nearest composer.toml.

    With ``required=False`` and no ``-w``, a run outside any workspace gets defaults.
    """
    from composer.errors import WorkspaceError
    from composer.support.workspace import find_workspace

    try:
        ws = find_workspace(workspace)
    except WorkspaceError:
        if required or workspace is not None:
            raise
        ws = None
    return open_app(ws)
