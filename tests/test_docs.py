"""docs/plugins.md documents every name a plugin may use: composer.api, every template
variable the renderers pass or the theme's templates read, and composer.testing."""

from __future__ import annotations

import re

import pytest
from conftest import ROOT, SAMPLES

DOCS = (ROOT / "docs" / "plugins.md").read_text(encoding="utf-8")
CODE_NAMES = set(re.findall(r"`([A-Za-z_][\w.]*)", DOCS))


def documented(name: str) -> bool:
    return name in CODE_NAMES


def test_every_name_of_composer_api_is_documented():
    import composer.api

    missing = [name for name in composer.api.__all__ if not documented(name)]
    assert missing == []


def test_every_helper_of_composer_api_loads():
    import composer.api

    for name in composer.api.__all__:
        assert getattr(composer.api, name) is not None, name


def test_every_name_of_composer_testing_is_documented():
    import composer.testing

    public = [n for n in vars(composer.testing) if not n.startswith("_") and n.isidentifier()]
    functions = [
        n
        for n in public
        if callable(getattr(composer.testing, n))
        and getattr(composer.testing, n).__module__ == "composer.testing"
    ]
    missing = [n for n in [*functions, "ISSUE"] if not documented(n)]
    assert functions and missing == []


@pytest.fixture(scope="module")
def rendered_context():
    """A render of a sample by every built-in renderer; its context records the names."""
    from composer.app import open_app
    from composer.pipeline.assemble import read_issue
    from composer.pipeline.render import render_context

    app = open_app(None, plugins="builtins")
    issue = read_issue(app, SAMPLES[1])
    ctx = render_context(app, issue)
    for _, renderer in app.renderers.values():
        renderer.render(issue, ctx)
    return ctx


def test_every_template_variable_the_renderers_pass_is_documented(rendered_context):
    passed = set().union(*rendered_context.passed.values())
    assert {"issue", "ctx", "md", "turn"} <= passed
    missing = sorted(name for name in passed if not documented(name))
    assert missing == []


def test_every_name_the_theme_templates_read_is_documented(rendered_context):
    from jinja2 import meta

    env = rendered_context.env
    used = set()
    for name in env.list_templates(extensions=["j2"]):
        source = env.loader.get_source(env, name)[0]
        used |= meta.find_undeclared_variables(env.parse(source))
    used -= set(env.globals) - {"render_section"}  # Jinja's own: range, dict ...
    missing = sorted(name for name in used if not documented(name))
    assert "section" in used and missing == []
