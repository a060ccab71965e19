"""Plugin loading, restriction, isolation and the documented contract."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pluggy

from composer.contract import hookspecs
from composer.plugin_manager import DEFAULT_PLUGINS, load_plugins

BUILTIN = [m.rsplit(".", 1)[1] for m in DEFAULT_PLUGINS]

EVENTS_PLUGIN = """
from composer.contract.hookspecs import hookimpl
from composer.contract.model import Item


class Events:
    name = "events"
    title = "活动日历"
    aliases = ("活动",)

    @property
    def config(self):
        from pydantic import BaseModel, ConfigDict

        class EventsConfig(BaseModel):
            model_config = ConfigDict(extra="forbid")
            city: str = "北京"

        return EventsConfig

    def sniff(self, block):
        return 0.0

    def parse(self, block):
        {parse}

    def serialize(self, items):
        return "\\n".join("* " + i.title for i in items)


@hookimpl
def register_sections(register):
    register(Events())
"""


def write_plugin(ws: Path, name: str, source: str) -> None:
    (ws / "plugins").mkdir(exist_ok=True)
    (ws / "plugins" / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")


def events(parse_body: str) -> str:
    return EVENTS_PLUGIN.replace("{parse}", parse_body)


def config(ws: Path, local: list[str], extra: str = "") -> None:
    listed = ", ".join(f'"{p}"' for p in local)
    (ws / "composer.toml").write_text(
        f'[newsletter]\ntitle = "周报"\n\n[plugins]\nlocal = [{listed}]\n{extra}',
        encoding="utf-8",
    )


def note(ws: Path, text: str) -> None:
    (ws / "2026-W10" / "notes").mkdir(parents=True, exist_ok=True)
    (ws / "2026-W10" / "notes" / "a.md").write_text(text, encoding="utf-8")


def table(result) -> dict[str, list[str]]:
    rows = [re.split(r"\s{2,}", ln.strip()) for ln in result.stdout.splitlines()[1:]]
    return {r[0]: r for r in rows if r}


def test_plugins_lists_every_builtin(run):
    result = run("plugins")
    assert result.returncode == 0, result.stderr
    rows = table(result)
    for name in BUILTIN:
        assert rows[name][2] == "builtin" and rows[name][-1] == "ok"
    assert "register_sections" in rows["papers"][3]
    assert "register_renderers" in rows["wechat"][3]


def test_composer_plugins_env_restricts_loading(run):
    rows = table(run("plugins", env={"COMPOSER_PLUGINS": "papers,wechat"}))
    assert sorted(rows) == ["papers", "wechat"]


def test_disable_in_config(run, tmp_path):
    (tmp_path / "composer.toml").write_text('[plugins]\ndisable = ["chat"]\n', encoding="utf-8")
    row = table(run("plugins"))["chat"]
    assert row[3] == "-" and row[-1] == "disabled"


def test_the_theme_shows_every_field_of_a_kind_it_does_not_know(run, tmp_path):
    parse = (
        "return [Item('event', url='https://ev.example/1', text='分享会',"
        " meta={'when': '周五下午', 'place': '三楼报告厅'})]"
    )
    write_plugin(tmp_path, "events", events(parse))
    config(tmp_path, ["plugins/events.py"])
    source = tmp_path / "in.md"
    source.write_text("## 活动\n\n周五下午 三楼报告厅 分享会 https://ev.example/1\n", "utf-8")
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr  # no output lost a word or the URL
    for name in ("email.html", "email.txt", "wechat.md", "post.md", "wechat.html"):
        out = (tmp_path / "out" / name).read_text(encoding="utf-8")
        assert "周五下午" in out and "三楼报告厅" in out and "https://ev.example/1" in out, name


def test_an_unknown_table_names_a_plugin_whose_registration_failed(run, tmp_path):
    write_plugin(
        tmp_path,
        "acme",
        "from composer.api import hookimpl\n\n\n@hookimpl\ndef register_sections(register):\n"
        "    raise RuntimeError('boom in sections')\n",
    )
    config(tmp_path, ["plugins/acme.py"], "\n[tools]\nlimit = 3\n")
    result = run("draft", "--offline")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "unknown table [tools]" in result.stderr
    assert "plugin acme failed: register_sections: RuntimeError: boom in sections" in result.stderr


def test_local_plugin_loads_only_when_listed(run, tmp_path):
    write_plugin(tmp_path, "events", events("return [Item('event', title=block.text)]"))
    config(tmp_path, [])
    assert "events" not in table(run("plugins"))
    config(tmp_path, ["plugins/events.py"], '\n[events]\ncity = "上海"\n')
    row = table(run("plugins"))["events"]
    assert row[2] == "local" and row[-1] == "ok"
    note(tmp_path, "## 活动\n\n周五 分享会\n")
    result = run("draft", "--issue", "2026-W10")
    assert result.returncode == 0, result.stderr
    assert "## 活动\n\n* 周五 分享会" in (tmp_path / "2026-W10" / "issue.md").read_text("utf-8")


def test_plugin_config_errors_name_the_table_and_line(run, tmp_path):
    write_plugin(tmp_path, "events", events("return []"))
    config(tmp_path, ["plugins/events.py"], '\n[events]\ncity = "上海"\ncountry = "中国"\n')
    result = run("draft")
    assert result.returncode == 2
    assert "composer.toml:9: unknown key 'country' in [events]" in result.stderr


def test_plugin_that_fails_to_import_is_reported_and_the_issue_still_builds(run, tmp_path):
    write_plugin(tmp_path, "broken", "import does_not_exist\n")
    config(tmp_path, ["plugins/broken.py"])
    rows = table(run("plugins"))
    assert rows["broken"][-1].startswith("broken: ") and "does_not_exist" in rows["broken"][-1]
    note(tmp_path, "## 简短问答\n\nQ: 问\n\nA: 答\n")
    result = run("draft", "--issue", "2026-W10")
    assert result.returncode == 0, result.stderr
    assert "plugin broken" in result.stderr and "does_not_exist" in result.stderr
    assert "问" in (tmp_path / "2026-W10" / "out" / "wechat.md").read_text("utf-8")


def test_plugin_raising_in_parse_keeps_the_block_verbatim(run, tmp_path):
    write_plugin(tmp_path, "events", events("raise RuntimeError('boom')"))
    config(tmp_path, ["plugins/events.py"])
    note(tmp_path, "## 活动\n\n周五 分享会 https://example.org/e\n\n## 简短问答\n\nQ: 问\n")
    result = run("draft", "--issue", "2026-W10")
    assert result.returncode == 0, result.stderr
    assert "plugin events" in result.stderr and "parse failed" in result.stderr
    assert "boom" in result.stderr and "2026-W10/notes/a.md:3" in result.stderr
    out = (tmp_path / "2026-W10" / "out" / "email.txt").read_text("utf-8")
    assert "周五 分享会 https://example.org/e" in out and "Q: 问" in out
    assert "events" in table(run("plugins"))  # import was fine; the hook failure is per run


def test_plugin_that_drops_text_is_overruled(run, tmp_path):
    write_plugin(tmp_path, "events", events("return [Item('event', title='只留标题')]"))
    config(tmp_path, ["plugins/events.py"])
    note(tmp_path, "## 活动\n\n只留标题\n\n这句话会被插件丢掉。\n")
    result = run("draft", "--issue", "2026-W10")
    assert "dropped text" in result.stderr and "plugin events dropped text" in result.stderr
    assert "这句话会被插件丢掉" in (tmp_path / "2026-W10" / "out" / "wechat.md").read_text("utf-8")


def test_incompatible_plugin_api_is_refused(run, tmp_path):
    write_plugin(tmp_path, "future", "COMPOSER_API = '2'\n")
    config(tmp_path, ["plugins/future.py"])
    status = table(run("plugins"))["future"][-1]
    assert status.startswith("broken: needs plugin API 2, this composer provides 1")


def test_builtins_are_registered_like_any_plugin():
    manager = load_plugins(env="builtins")
    assert [i.source for i in manager.infos.values()] == ["builtin"] * len(BUILTIN)
    assert sorted(manager.pm.list_name_plugin()[i][0] for i in range(len(BUILTIN))) == sorted(
        BUILTIN
    )


def test_every_hook_is_documented():
    docs = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text("utf-8")
    marker = pluggy.HookspecMarker("composer").project_name + "_spec"
    hooks = [n for n in dir(hookspecs) if hasattr(getattr(hookspecs, n), marker)]
    assert len(hooks) >= 6
    for hook in hooks:
        assert re.search(rf"(?m)^### `{hook}\(", docs), f"docs/plugins.md lacks ### `{hook}(`"


MISBEHAVING = """
import time
from composer.contract.hookspecs import hookimpl
from composer.contract.model import Item


class Slow:
    name = "slow"
    title = "慢"
    aliases = ()
    config = None

    def sniff(self, block):
        return 0.0

    def parse(self, block):
        return []

    def serialize(self, items):
        return "\\n".join(i.title for i in items)

    def collect(self, ctx):
        {collect}


class Loud:
    name = "loud"
    outputs = ("loud.txt",)
    config = None

    def render(self, issue, ctx):
        raise ValueError("renderer exploded")


@hookimpl
def register_sections(register):
    register(Slow())


@hookimpl
def register_renderers(register):
    register(Loud())


@hookimpl
def process_issue(issue, ctx):
    issue.sections.clear()
    raise KeyError("half way")
"""


def test_collect_process_and_render_failures_lose_only_their_own_part(run, tmp_path):
    write_plugin(tmp_path, "bad", MISBEHAVING.replace("{collect}", "raise OSError('no feed')"))
    config(tmp_path, ["plugins/bad.py"])
    note(tmp_path, "## 简短问答\n\nQ: 还在吗？\n\nA: 在。\n")
    result = run("draft", "--issue", "2026-W10")
    assert result.returncode == 1, result.stderr  # a failing renderer fails the command
    err = result.stderr
    assert re.search(
        r"plugin bad: collect failed \(OSError: no feed \(bad.py:\d+\)\); its slow", err
    )
    assert re.search(
        r"plugin bad: process_issue failed \(KeyError: 'half way' \(bad.py:\d+\)\)", err
    )
    assert re.search(
        r"Error: renderer loud \(plugin bad\): ValueError: renderer exploded \(bad", err
    )
    assert "written: email.txt, email.html, email.eml, wechat.md, post.md" in err
    out = tmp_path / "2026-W10" / "out"
    assert not (out / "loud.txt").exists()
    assert "还在吗" in (out / "wechat.md").read_text("utf-8")  # the cleared sections came back
    assert "还在吗" in (tmp_path / "2026-W10" / "issue.md").read_text("utf-8")


def test_slow_collect_is_cut_off_by_the_budget(run, tmp_path):
    plugin = MISBEHAVING.replace("{collect}", "time.sleep(30)")
    write_plugin(
        tmp_path, "bad", plugin.replace('raise ValueError("renderer exploded")', "return {}")
    )
    config(tmp_path, ["plugins/bad.py"], extra="collect_timeout = 0.5\n")
    note(tmp_path, "## 简短问答\n\nQ: 快吗？\n")
    started = __import__("time").monotonic()
    result = run("draft", "--issue", "2026-W10")
    assert result.returncode == 0, result.stderr
    assert "collect took longer than 0.5 s ([plugins] collect_timeout)" in result.stderr
    assert __import__("time").monotonic() - started < 25
