"""The Jinja environment and the renderer runs.

Templates are looked up in the workspace's ``templates/`` first, then in each
plugin package's ``templates/`` folder, then in the default theme
(``composer.templates``), so a theme overrides one file at a time.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING

from composer.contract.protocols import RenderContext
from composer.errors import UsageError
from composer.support.dates import DEFAULT_FORMAT, issue_day, show_date
from composer.support.workspace import atomic_write

if TYPE_CHECKING:
    from composer.app import App
    from composer.contract.model import Issue

FORMATS_ALL = ("email", "text", "wechat", "hugo")


def _autoescape(name: str | None) -> bool:
    return bool(name) and (".email." in name or name.endswith((".html", ".html.j2")))


def _bytecode_cache(jinja2):
    """Compiled templates kept between runs (keyed by template source, so edits count)."""
    import os
    import sys

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folder = Path(base) / "newsletter-composer" / f"jinja-{sys.implementation.cache_tag}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(folder))


def make_env(app: App):
    import jinja2

    loaders: list[jinja2.BaseLoader] = []
    if app.workspace and (app.workspace / "templates").is_dir():
        loaders.append(jinja2.FileSystemLoader(str(app.workspace / "templates")))
    loaders += [jinja2.FileSystemLoader(str(d)) for d in app.manager.template_dirs()]
    loaders.append(jinja2.PackageLoader("composer.templates", "."))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        bytecode_cache=_bytecode_cache(jinja2),
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    strings = load_strings(env, app.settings.newsletter.language)
    env.filters["show_date"] = functools.partial(  # a plugin may replace it below
        show_date, pattern=strings.get("date_format", DEFAULT_FORMAT), months=strings.get("months")
    )
    for name, result in app.manager.each("prepare_jinja_env", env=env):
        if getattr(result, "error", None):
            app.report.warn(f"plugin {name}", f"prepare_jinja_env failed ({result.error})")
    return env


def load_strings(env, language: str) -> dict[str, str]:
    """Fixed words of the theme (目录, 引用链接 ...) in ``language``, English as fallback."""
    source, _, _ = env.loader.get_source(env, "strings.toml")
    table = tomllib.loads(source)
    strings = dict(table.get("en", {}))
    strings.update(table.get(language, table.get(language.split("-")[0], {})))
    return strings


def render_context(app: App, issue: Issue) -> RenderContext:
    env = make_env(app)
    language = app.settings.newsletter.language
    strings = load_strings(env, language)
    return RenderContext(
        settings=app.settings,
        workspace=app.workspace,
        issue_id=issue.id,
        report=app.report,
        plugin_config=app.plugin_config,
        config_models=app.config_models,
        env=env,
        sections=app.sections.types,
        strings=strings,
    )


def parse_formats(spec: str | None, available) -> list[str]:
    if not spec:
        return [f for f in FORMATS_ALL if f in available] + [
            f for f in available if f not in FORMATS_ALL
        ]
    wanted = [f.strip() for f in spec.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in available]
    if unknown:
        raise UsageError(
            f"unknown format {', '.join(unknown)} (available: {', '.join(sorted(available))})"
        )
    return wanted


def render_issue(app: App, issue: Issue, out: Path, formats: str | None = None) -> list[Path]:
    """Run the chosen renderers plugin by plugin and write their files atomically."""
    renderers = app.manager.renderers()
    chosen = parse_formats(formats, renderers)
    if not issue.date:  # dated like a draft of its week, unless the front matter says
        day = issue_day(issue.id, app.settings.schedule.cron)
        issue.date = day.isoformat() if day else ""
    ctx = render_context(app, issue)
    written: list[Path] = []
    for name in chosen:
        owner, renderer = renderers[name]
        try:
            files = renderer.render(issue, ctx)
        except Exception as exc:
            message = f"{type(exc).__name__}: {exc}"
            app.manager.broken(owner, f"render: {message}")
            app.report.warn(
                f"plugin {owner}", f"render failed ({message}); {name} output not written"
            )
            continue
        for filename, data in files.items():
            path = out / filename
            atomic_write(path, data)
            written.append(path)
    return written
