"""One run's setup: workspace, settings, plugins and their validated config."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from composer.contract.protocols import Context, Report
from composer.pipeline.parse import Sections
from composer.plugin_manager import PluginManager, load_plugins
from composer.support.config import load_core, validate_plugin_tables
from composer.support.settings import NoSettings, Settings
from composer.support.workspace import CONFIG_NAME


@dataclass
class App:
    workspace: Path | None
    settings: Settings
    manager: PluginManager
    sections: Sections
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


def config_models(manager: PluginManager, sections: Sections) -> dict[str, tuple[Any, str]]:
    """{table name: (schema, owning plugin)} declared by every registered object."""
    objects = [(sections.owners[n], t) for n, t in sections.types.items()]
    objects += [(owner, obj) for owner, obj in manager.renderers().values()]
    objects += manager.collect("register_deliverers")
    models = {
        table: (schema, owner) for owner, (table, schema) in manager.collect("register_settings")
    }
    for owner, obj in objects:
        model = getattr(obj, "config", None)
        if model is None and getattr(obj, "config_key", None):
            model = NoSettings  # a deliverer is switched on by its (empty) table
        if model is not None:
            models[getattr(obj, "config_key", None) or obj.name] = (model, owner)
    return models


def open_app(workspace: Path | None) -> App:
    """Read composer.toml (if any), load plugins, validate every plugin table."""
    path = workspace / CONFIG_NAME if workspace else None
    settings, tables, text = load_core(path)
    manager = load_plugins(
        local=settings.plugins.local, workspace=workspace, disable=settings.plugins.disable
    )
    report = Report()
    sections = manager.sections()
    models = config_models(manager, sections)
    plugin_config = validate_plugin_tables(tables, models, path, text) if tables else {}
    for info in manager.infos.values():
        if info.error:
            report.warn(f"plugin {info.name}", f"not loaded ({info.error})")
    schemas = {table: model for table, (model, _) in models.items()}
    return App(workspace, settings, manager, sections, plugin_config, report, schemas)


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
