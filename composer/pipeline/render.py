"""The Jinja environment and the renderer runs.

Templates are looked up in the workspace's ``templates/`` first, then in each
plugin package's ``templates/`` folder, then in the default theme
(``composer.templates``), so a theme overrides one file at a time. Each section is
rendered on its own (``render_section`` in page templates): a section template that
fails loses only that section's own template (the default one stands in), with a
warning naming the plugin and ``template:line``.
"""

from __future__ import annotations

import functools
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from composer.contract.protocols import RenderContext
from composer.errors import UsageError, UserError
from composer.plugin_manager import describe
from composer.support.dates import DEFAULT_FORMAT, issue_day, show_date
from composer.support.workspace import atomic_write

if TYPE_CHECKING:
    from composer.app import App
    from composer.contract.model import Issue, Section

JINJA_OPTIONS = {"trim_blocks": True, "lstrip_blocks": True, "keep_trailing_newline": True}


class RenderFailed(UserError):
    """One or more renderers failed: their outputs were not written."""


class LostText(UserError):
    """A faithful output lost a URL or sentence of its source (the outputs were written)."""


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
        **JINJA_OPTIONS,
    )
    env.globals["render_section"] = _section_renderer(app)
    strings = load_strings(env, app.settings.newsletter.language)
    env.filters["show_date"] = functools.partial(  # a plugin may replace it below
        show_date, pattern=strings.get("date_format", DEFAULT_FORMAT), months=strings.get("months")
    )
    for name, result in app.manager.call("prepare_jinja_env", env=env):
        if getattr(result, "error", None):
            app.report.warn(f"plugin {name}", f"prepare_jinja_env failed ({result.error})")
    return env


def template_place(exc: BaseException) -> str:
    """``template:line`` where a Jinja error happened, or ''."""
    import traceback

    filename = getattr(exc, "filename", None) or getattr(exc, "name", None)
    if filename and getattr(exc, "lineno", None):
        return f"{_template_name(filename)}:{exc.lineno}"
    places = [
        f"{_template_name(f.filename)}:{f.lineno}"
        for f in traceback.extract_tb(exc.__traceback__)
        if f.filename.endswith(".j2")
    ]
    return places[-1] if places else ""


def _template_name(filename: str) -> str:
    parts = Path(filename).parts
    return "/".join(parts[-2:]) if len(parts) > 1 and parts[-2] == "sections" else parts[-1]


def _section_renderer(app: App):
    """``render_section(section)`` for page templates: one section, failures isolated."""
    import jinja2
    from markupsafe import Markup

    @jinja2.pass_context
    def render_section(context, section: Section):
        fmt = context.get("fmt")
        if not fmt:
            raise ValueError("render_section needs `fmt`: pass fmt=... to ctx.render_page")
        env = context.environment
        names = [f"sections/{section.kind}.{fmt}.j2", f"sections/default.{fmt}.j2"]
        variables = {**context.get_all(), "section": section}
        missing = 0
        for name in names:
            try:
                html = env.get_template(name).render(variables)
            except jinja2.TemplateNotFound as exc:
                if exc.name == name:  # no template of this name in this format
                    missing += 1
                    continue
                _section_failed(app, section, name, exc)
                continue
            except Exception as exc:
                _section_failed(app, section, name, exc)
                continue
            return Markup(html) if context.eval_ctx.autoescape else html
        if missing == len(names):
            app.report.warn(
                f"format {fmt}",
                f"no template {names[0]} nor {names[1]}: section "
                f"'{section.title or section.kind}' is left out of this output",
            )
        return ""

    return render_section


def _section_failed(app: App, section: Section, name: str, exc: Exception) -> None:
    fallback = "the default template stands in" if "default" not in name else "it is missing"
    app.report.warn(
        _template_owner(app, section, exc),
        f"template {template_place(exc) or name}: {describe(exc)}; "
        f"section '{section.title or section.kind}': {fallback}",
    )


def _template_owner(app: App, section: Section, exc: Exception) -> str:
    """Whose template failed: the workspace's override, a plugin's, or the theme's."""
    import traceback

    paths = [getattr(exc, "filename", None) or ""]
    paths += [f.filename for f in traceback.extract_tb(exc.__traceback__)]
    failed = next((Path(p) for p in reversed(paths) if p.endswith(".j2")), None)
    if failed is not None and app.workspace is not None:
        if (app.workspace / "templates") in failed.parents:
            return "workspace templates/"
    for info in app.manager.loaded():
        if failed is not None and info.templates and info.templates in failed.parents:
            return f"plugin {info.name}"
    if section.kind in app.sections.owners and failed is None:
        return f"plugin {app.sections.owners[section.kind]}"
    return "theme"


def load_strings(env, language: str) -> dict[str, str]:
    """Fixed words of the theme (目录, 引用链接 ...) in ``language``, English as fallback."""
    source, _, _ = env.loader.get_source(env, "strings.toml")
    table = tomllib.loads(source)
    strings = dict(table.get("en", {}))
    strings.update(table.get(language, table.get(language.split("-")[0], {})))
    return strings


def page_variables(app: App, issue: Issue, strings: dict[str, str]) -> dict[str, Any]:
    """What every page template gets besides ``issue`` and ``ctx``."""
    newsletter = app.settings.newsletter
    return {
        "t": strings,
        "language": newsletter.language,
        "web_url": newsletter.url.replace("{id}", issue.id) if newsletter.url else "",
        "unsubscribe_url": newsletter.unsubscribe_url,
    }


def render_context(app: App, issue: Issue) -> RenderContext:
    env = make_env(app)
    strings = load_strings(env, app.settings.newsletter.language)
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
        page=page_variables(app, issue, strings),
    )


def choose(app: App, spec: str | None) -> list[str]:
    """Renderer names to run, in registration order (``--format`` chooses some)."""
    available = list(app.renderers)
    if not spec:
        return available
    wanted = [f.strip() for f in spec.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in available]
    if unknown:
        raise UsageError(f"unknown format {', '.join(unknown)} (available: {', '.join(available)})")
    return [name for name in available if name in wanted]


def run_order(app: App, names: list[str]) -> list[str]:
    """``names`` with each renderer after the ones it reads (``after``)."""
    ordered: list[str] = []

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in ordered or name in path or name not in app.renderers:
            return
        for first in getattr(app.renderers[name][1], "after", ()):
            if first in names:
                visit(first, (*path, name))
        ordered.append(name)

    for name in names:
        visit(name, ())
    return ordered


def render_issue(app: App, issue: Issue, out: Path, formats: str | None = None) -> list[Path]:
    """Run the chosen renderers plugin by plugin and write their files atomically.

    A renderer that raises writes nothing, and its earlier files in ``out`` are
    removed (never stale); the others are written, then :class:`RenderFailed`
    names every failed renderer and why.
    """
    if not issue.date:  # dated like a draft of its week, unless the front matter says
        day = issue_day(issue.id, app.settings.schedule.cron)
        issue.date = day.isoformat() if day else ""
    ctx = render_context(app, issue)
    try:
        return _render_all(app, issue, ctx, out, formats)
    finally:
        from composer.support.mdwriter import forget_parsed

        forget_parsed()


def _render_all(app: App, issue: Issue, ctx: RenderContext, out: Path, formats: str | None):
    written: list[Path] = []
    failures: list[str] = []
    first: BaseException | None = None
    for name in run_order(app, choose(app, formats)):
        owner, renderer = app.renderers[name]
        try:
            with app.manager.trace(owner, f"render {name}"):
                files = renderer.render(issue, ctx)
            _check_files(renderer, files)
        except (Exception, SystemExit) as exc:
            first = first or exc
            place = template_place(exc)
            failures.append(
                f"{name} (plugin {owner}{', ' + place if place else ''}): {describe(exc)}"
            )
            for filename in renderer.outputs:
                (out / filename).unlink(missing_ok=True)
            continue
        ctx.rendered.update(files)
        for filename, data in files.items():
            path = out / filename
            atomic_write(path, data)
            written.append(path)
    if failures:
        done = f"; written: {', '.join(p.name for p in written)}" if written else ""
        raise RenderFailed(
            f"renderer {'; '.join(failures)}",
            f"its outputs were not written{done}",
        ) from first  # --debug shows the renderer's own traceback
    return written


def _check_files(renderer, files) -> None:
    """What ``render`` returned must be {declared output: str or bytes}."""
    if not isinstance(files, dict):
        raise TypeError(f"render returned {type(files).__name__}, not a dict of files")
    for filename, data in files.items():
        if filename not in renderer.outputs:
            raise ValueError(f"returned {filename!r}, not declared in its outputs")
        if not isinstance(data, str | bytes):
            raise TypeError(f"{filename}: render returned {type(data).__name__}, not str or bytes")


def render_file(app, path: Path, out: Path, label: str, formats: str | None = None):
    """Parse the dialect file ``path`` and render it into ``out``: (issue, written paths)."""
    from composer.pipeline.assemble import read_issue

    issue = read_issue(app, path, label)
    issue.title = issue.title or app.settings.newsletter.title
    return issue, render_issue(app, issue, out, formats)


def lost_text(app: App, source: str, written: list[Path]) -> LostText | None:
    """What the faithful outputs among ``written`` lost of ``source`` (the dialect text
    they were rendered from), as one error naming each output and what it lost; None
    when nothing is lost. The same check as ``composer check``'s lost-url/lost-text."""
    from composer.pipeline.fidelity import Expectations, lost

    faithful = {f for _, r in app.renderers.values() for f in getattr(r, "faithful", ())}
    expected = Expectations(source)
    problems = []
    for path in written:
        if path.name in faithful:
            text = path.read_text(encoding="utf-8", errors="replace")
            problems += lost(source, path.name, text, expected)
    if not problems:
        return None
    shown = "; ".join(f"{p.output} {p.message}" for p in problems[:4])
    more = f" (and {len(problems) - 4} more)" if len(problems) > 4 else ""
    return LostText(
        f"{shown}{more}",
        f"the outputs are written in {written[0].parent} so you can look; "
        "`composer check` lists every problem",
    )
