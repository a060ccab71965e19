"""One plugin-manager behaviour and what a third party may rely on: order, tracing,
protocol checks, isolation down to a template line, renderers checked like built-ins,
and every built-in can be switched off."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, make_sendable
from smtp_server import append_config

from composer.plugin_manager import DEFAULT_PLUGINS

BUILTIN = [m.rsplit(".", 1)[1] for m in DEFAULT_PLUGINS]
WEEK = "2026-W10"


def workspace(tmp_path: Path, local: list[str] = (), extra: str = "", notes: str = "") -> Path:
    ws = tmp_path / "ws"
    (ws / WEEK / "notes").mkdir(parents=True)
    listed = ", ".join(f'"plugins/{name}.py"' for name in local)
    (ws / "composer.toml").write_text(
        f'[newsletter]\ntitle = "周报"\n\n[plugins]\nlocal = [{listed}]\n{extra}',
        encoding="utf-8",
    )
    (ws / WEEK / "notes" / "a.md").write_text(
        notes or "## 简短问答\n\nQ: 还在吗？\n\nA: 在，一直在。\n", encoding="utf-8"
    )
    return ws


def plugin(ws: Path, name: str, source: str) -> None:
    (ws / "plugins").mkdir(exist_ok=True)
    (ws / "plugins" / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


ORDERED = """
from composer.api import hookimpl


class Renderer:
    name = "{name}-out"
    outputs = ("{name}.txt",)

    def render(self, issue, ctx):
        return {{"{name}.txt": "{name}"}}


@hookimpl
def register_renderers(register):
    register(Renderer())


@hookimpl
def process_issue(issue, ctx):
    first = next(issue.items())
    first.turns[-1].text += " [{name}]"
"""


def test_hooks_run_in_load_order_and_registrations_once(run, tmp_path):
    ws = workspace(tmp_path, ["first", "second"])
    plugin(ws, "first", ORDERED.format(name="first"))
    plugin(ws, "second", ORDERED.format(name="second"))
    result = run("draft", "--issue", WEEK, cwd=ws, env={"COMPOSER_TRACE_PLUGINS": "1"})
    assert result.returncode == 0, result.stderr
    assert "在，一直在。 [first] [second]" in (ws / WEEK / "issue.md").read_text("utf-8")
    written = [ln.rsplit("/", 1)[1] for ln in result.stdout.splitlines() if ln.startswith("wrote")]
    assert written.index("first.txt") < written.index("second.txt")
    trace = result.stderr
    for hook in ("register_sections", "register_renderers", "process_issue"):
        calls = re.findall(rf"composer trace: {hook} \[(\w+)\] [\d.]+ ms", trace)
        assert calls, hook
        assert len(calls) == len(set(calls)), f"{hook} called twice for a plugin: {calls}"
    process = re.findall(r"composer trace: process_issue \[(\w+)\]", trace)
    assert process.index("first") < process.index("second")
    assert re.search(r"composer trace: render email \[email\] [\d.]+ ms", trace)


def test_an_object_missing_a_required_attribute_is_named_and_left_out(run, tmp_path):
    ws = workspace(tmp_path, ["half"])
    plugin(
        ws,
        "half",
        """
        from composer.api import hookimpl

        class Half:
            name = "half"
            title = "一半"
            aliases = ()

            def sniff(self, block):
                return 0.0

            def parse(self, block):
                return []

        @hookimpl
        def register_sections(register):
            register(Half())
        """,
    )
    listed = run("plugins", cwd=ws)
    row = next(ln for ln in listed.stdout.splitlines() if ln.startswith("half"))
    assert "broken: register_sections: Half lacks 'serialize'" in row
    assert "(a section type needs name, title, aliases, sniff, parse, serialize)" in row
    result = run("draft", "--issue", WEEK, cwd=ws)
    assert result.returncode == 0, result.stderr
    assert "warning: plugin half: register_sections: Half lacks" in result.stderr


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('raise RuntimeError("cannot write events")', "RuntimeError: cannot write events"),
        (
            'return "\\n".join("- " + i.meta["when"] for i in items)',
            "it dropped «https://example.org/talk»",
        ),
    ],
    ids=["raises", "drops-text"],
)
def test_a_failing_serialize_loses_only_its_structure(run, tmp_path, body, reason):
    ws = workspace(tmp_path, ["stiff"], notes="## 活动\n\n周五 分享会 https://example.org/talk\n")
    plugin(
        ws,
        "stiff",
        """
        from composer.api import Item, hookimpl

        class Stiff:
            name = "stiff"
            title = "活动"
            aliases = ()

            def sniff(self, block):
                return 0.0

            def parse(self, block):
                return [Item("event", title=block.text, meta={"when": "周五"})]

            def serialize(self, items):
                BODY

        @hookimpl
        def register_sections(register):
            register(Stiff())
        """.replace("BODY", body),
    )
    result = run("draft", "--issue", WEEK, cwd=ws)
    assert result.returncode == 0, result.stderr
    assert f"plugin stiff: serialize failed ({reason}" in result.stderr
    assert "1 of its items in '活动' are written to issue.md as plain notes" in result.stderr
    text = (ws / WEEK / "out" / "email.txt").read_text("utf-8")
    assert "周五 分享会 https://example.org/talk" in text


@pytest.mark.parametrize(
    ("template", "place"),
    [
        ("{% for t in section.items %}\n{{ 1 / 0 }}\n{% endfor %}", "sections/qa.text.j2:2"),
        ("line one\n{% for %}\n", "sections/qa.text.j2:2"),
    ],
)
def test_a_failing_section_template_is_named_and_the_default_stands_in(
    run, tmp_path, template, place
):
    ws = workspace(tmp_path)
    (ws / "templates" / "sections").mkdir(parents=True)
    (ws / "templates" / "sections" / "qa.text.j2").write_text(template, encoding="utf-8")
    result = run("draft", "--issue", WEEK, cwd=ws)
    assert result.returncode == 0, result.stderr
    assert f"warning: workspace templates/: template {place}: " in result.stderr
    assert "the default template stands in" in result.stderr
    out = ws / WEEK / "out"
    assert "在，一直在" in (out / "email.txt").read_text("utf-8")
    assert "在，一直在" in (out / "email.html").read_text("utf-8")


JSON_RENDERER = """
import json

from composer.api import Problem, hookimpl


class Json:
    name = "json"
    outputs = ("issue.json",)
    faithful = ("issue.json",)

    def render(self, issue, ctx):
        items = [issue.title] + [
            {{
                "section": ctx.section_title(s),
                "items": [
                    {{"title": i.title, "url": i.url, "text": i.text, "turns": [t.text for t in i.turns]}}
                    for i in s.items
                ],
            }}
            for s in issue.sections
        ]
        return {{"issue.json": json.dumps(items, ensure_ascii=False){drop}}}

    def check(self, files, ctx):
        if "NOT ALLOWED" in files["issue.json"]:
            return [Problem("issue.json", "json-rule", "says NOT ALLOWED", 1)]
        return []


@hookimpl
def register_renderers(register):
    register(Json())
"""


def test_a_third_party_renderer_is_checked_like_a_built_in(run, tmp_path):
    ws = workspace(tmp_path, ["json_out"])
    plugin(ws, "json_out", JSON_RENDERER.format(drop=""))
    assert run("draft", "--issue", WEEK, cwd=ws).returncode == 0
    out = ws / WEEK / "out"
    checked = run("check", WEEK, cwd=ws)
    assert "issue.json" not in checked.stderr, checked.stderr
    (out / "issue.json").write_text('["NOT ALLOWED"]', encoding="utf-8")
    checked = run("check", WEEK, cwd=ws)
    assert checked.returncode == 1
    assert "issue.json:1: [json-rule] says NOT ALLOWED" in checked.stderr
    assert "issue.json: [lost-text] lost text «简短问答»" in checked.stderr
    (out / "issue.json").unlink()
    checked = run("check", WEEK, cwd=ws)
    assert "issue.json: [missing-output] issue.json was not written (json)" in checked.stderr


def test_a_renderer_that_loses_text_fails_render_and_draft(run, tmp_path):
    ws = workspace(tmp_path, ["json_out"])
    plugin(ws, "json_out", JSON_RENDERER.format(drop='.replace("简短问答", "")'))
    result = run("draft", "--issue", WEEK, cwd=ws)
    assert result.returncode == 1
    assert "issue.json" in result.stderr and "lost" in result.stderr


def sendable_example(tmp_path: Path) -> Path:
    import shutil

    ws = tmp_path / "ws"
    shutil.copytree(
        ROOT / "issues", ws, ignore=shutil.ignore_patterns("out", "issue.md*", ".composer")
    )
    return make_sendable(ws)


@pytest.mark.parametrize("builtin", BUILTIN)
def test_every_built_in_can_be_disabled(run, tmp_path, builtin):
    ws = sendable_example(tmp_path)
    config = ws / "composer.toml"
    config.write_text(
        config.read_text("utf-8").replace("disable = []", f'disable = ["{builtin}"]'), "utf-8"
    )
    copies = tmp_path / "copies"
    if builtin == "delivery":
        target = '[delivery.email]\nsmtp_host = "127.0.0.1"\nsmtp_port = 9\n'
        target += 'from = "周报 <editor@weekly.test>"\nto = ["r@weekly.test"]\n'
    else:
        target = f'[delivery.directory]\npath = "{copies.as_posix()}"\nfiles = {{}}\n'
    append_config(ws, target)
    drafted = run("draft", "-w", ws, "--issue", "2023-W47", "--offline")
    assert drafted.returncode == 0, drafted.stderr
    checked = run("check", "-w", ws, "2023-W47")
    assert checked.returncode == 0, checked.stderr
    sent = run("send", "-w", ws, "2023-W47", "--dry-run")
    assert sent.returncode == 0, sent.stderr
    listed = run("plugins", "-w", ws)
    assert re.search(rf"(?m)^{builtin}\s.*disabled$", listed.stdout)


def test_feeds_command_belongs_to_the_feeds_plugin(run, tmp_path):
    ws = workspace(tmp_path)
    assert run("feeds", cwd=ws).returncode == 0
    config = ws / "composer.toml"
    config.write_text(config.read_text("utf-8") + 'disable = ["feeds"]\n', "utf-8")
    refused = run("feeds", cwd=ws)
    assert refused.returncode == 2
    assert "belongs to the plugin feeds" in refused.stderr
    gone = run("feeds", cwd=ws, env={"COMPOSER_PLUGINS": "papers,email"})
    assert gone.returncode == 2 and "No such command 'feeds'" in gone.stderr


def test_samples_unchanged_by_the_plugin_manager(tmp_path):
    """Loading built-ins through pluggy one by one keeps every sample lossless."""
    from conftest import check_outputs

    from composer import testing

    for sample in SAMPLES:
        out = tmp_path / sample.stem
        testing.render(sample.read_text("utf-8"), out)
        assert check_outputs(sample.read_text("utf-8"), out) == []
