"""composer.toml: every value checked where it is declared, errors on their own line,
and a file that cannot be read is one line and exit 2 for every command."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oserrors import composer as unprivileged

from composer.app import open_app
from composer.errors import ConfigError

EMAIL = '[delivery.email]\nsmtp_host = "smtp.weekly.test"\nfrom = "a@weekly.test"\n'


def config_error(tmp_path, toml: str) -> str:
    """The ConfigError message opening a workspace with this composer.toml gives."""
    (tmp_path / "composer.toml").write_text(toml, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        open_app(tmp_path, plugins="builtins")
    return str(caught.value)


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        # numbers: finite and in range, core and plugins alike
        ("[feeds]\ntimeout = nan\n", ":2: [feeds] timeout: must be a number above 0"),
        ("[feeds]\ntimeout = inf\n", ":2: [feeds] timeout: must be a number above 0"),
        ("[feeds]\ntimeout = -1\n", ":2: [feeds] timeout:"),
        ("[feeds]\nmax_bytes = 0\n", ":2: [feeds] max_bytes: must be a number from 1"),
        (
            "[feeds]\nconcurrency = 1000\n",
            ":2: [feeds] concurrency: must be a number from 1 to 256",
        ),
        ("[feeds]\nsummary_chars = -5\n", ":2: [feeds] summary_chars:"),
        ("[feeds]\nmax_entries = -1\n", ":2: [feeds] max_entries:"),
        ("[plugins]\ncollect_timeout = nan\n", ":2: [plugins] collect_timeout:"),
        ("[plugins]\ncollect_timeout = 0\n", ":2: [plugins] collect_timeout:"),
        ("[schedule]\ncatch_up_hours = inf\n", ":2: [schedule] catch_up_hours:"),
        (
            "[schedule]\ncatch_up_hours = 12\n",
            ":2: [schedule] catch_up_hours: must be a number from 24",
        ),
        ('[schedule]\n\naction = "go"\n', ":3: [schedule] action: must be one of"),
        ("[arxiv]\ntimeout = inf\n", ":2: [arxiv] timeout:"),
        (
            '[arxiv]\napi_url = "ftp://arxiv.org/api"\n',
            ":2: [arxiv] api_url: 'ftp://arxiv.org/api' is not an http(s) URL",
        ),
        (
            EMAIL + 'to = ["b@weekly.test"]\nsmtp_port = 70000\n',
            ":5: [delivery.email] smtp_port: must be a number from 0 to 65535",
        ),
        (EMAIL + 'to = ["b@weekly.test"]\ntimeout = nan\n', ":5: [delivery.email] timeout:"),
        (
            '[delivery.webhook]\nurl = "https://hooks.weekly.test/x"\ntimeout = -2\n',
            ":3: [delivery.webhook] timeout:",
        ),
        # feed URLs and sections
        (
            '[feeds]\nurls = ["file:///etc/passwd"]\n',
            ":2: [feeds] urls[0]: 'file:///etc/passwd' is not an http(s) URL",
        ),
        (
            '[feeds]\nurls = ["https://a.test/f", "https://b.test/f x"]\n',
            "urls[1]: 'https://b.test/f x' is not one URL: it contains a space",
        ),
        (
            '[feeds]\nurls = [\n  "https://a.test/f",\n  { url = "gopher://b.test/" },\n]\n',
            ":4: [feeds] urls[1].url: 'gopher://b.test/' is not an http(s) URL",
        ),
        (
            '[feeds]\nurls = [\n  "https://a.test/f",\n  { url = "https://b.test/f", section = "paper" },\n]\n',
            ":4: [feeds] urls[1].section: no section type named 'paper' (did you mean papers?",
        ),
        (
            '[feeds]\nurls = [{ url = "https://b.test/f", section = "qa" }]\n',
            "the section type 'qa' cannot hold link items (sections that can: feeds, links)",
        ),
        (
            '[[feeds.urls]]\nurl = "https://a.test/f"\n\n[[feeds.urls]]\nurl = "https://b.test/f"\nsection = "nope"\n',
            ":6: [feeds] urls[1].section: no section type named 'nope'",
        ),
        (
            '[feeds]\nurls = [\n  "https://a.test/f",\n  { url = "https://b.test/f", nmae = "Lab" },\n]\n',
            ":4: unknown key 'nmae' in [feeds] urls[1]",
        ),
        # [newsletter]
        (
            '[newsletter]\ntitle = "x"\nlanguage = "zh"\n',
            ":3: [newsletter] language: the theme has no 'zh' (did you mean zh-CN? languages: zh-CN, en)",
        ),
        ('[newsletter]\nlanguage = "fr"\n', "[newsletter] language: the theme has no 'fr'"),
        (
            '[newsletter]\nsections = ["papers", "paper"]\n',
            ":2: [newsletter] sections: no section type named 'paper' (did you mean papers?",
        ),
        (
            '[newsletter]\ntitle = "x"\nsections = ["papers", "qa", "papers"]\n',
            ":3: [newsletter] sections: 'papers' listed twice (once each)",
        ),
        (
            '[newsletter]\ntitle = "x"\n\n' + EMAIL.replace('"a@', '"a@b@'),
            "[delivery.email] from: ",
        ),
        (
            '[newsletter]\nsections = [\n  "papers",\n  "linkz",\n]\n',
            ":4: [newsletter] sections: no section type named 'linkz' (did you mean links?",
        ),
        # nested tables: the key's own line, in each way TOML can write it
        (
            '[newsletter]\ntitle = "x"\n\n' + EMAIL + 'to = ["b@weekly.test"]\nsmtp_port = -1\n',
            ":8: [delivery.email] smtp_port:",
        ),
        (
            '[newsletter]\ntitle = "x"\n\n[delivery]\nemail = { smtp_host = "h", from = "a@b.test", to = ["c@b.test"], smtp_port = -1 }\n',
            ":5: [delivery.email] smtp_port:",
        ),
        (
            '[delivery]\nemail.smtp_host = "h"\nemail.from = "a@b.test"\nemail.to = ["c@b.test"]\nemail.smtp_port = -1\n',
            ":5: [delivery.email] smtp_port:",
        ),
        (
            '[newsletter]\ntitle = "x"\n\n' + EMAIL + "to = []\n",
            ":7: [delivery.email] to: at least one recipient",
        ),
        (
            '[newsletter]\ntitle = "x"\n\n' + EMAIL + 'to = ["b@weekly.test"]\nbcc = "x"\n',
            ":8: unknown key 'bcc' in [delivery.email]",
        ),
        (
            '[delivery.directory]\npath = "site"\nfiles = { "post.md" = "{id}{foo}.md" }\n',
            ":3: [delivery.directory] files: post.md = '{id}{foo}.md': {id} is the only field",
        ),
        (
            '[delivery.directory]\npath = "site"\nfiles = { "post.md" = "../x-{id}.md" }\n',
            "a file name inside path",
        ),
        ('[delivery.directory]\npath = ""\n', ":2: [delivery.directory] path: the folder"),
        (
            '[newsletter]\ntitle = "x"\n\n[delivery.pigeon]\nloft = "roof"\n',
            ":4: unknown table [delivery.pigeon]",
        ),
    ],
)
def test_bad_values_are_one_line_naming_file_line_and_key(tmp_path, toml, expected):
    message = config_error(tmp_path, toml)
    assert message.startswith(str(tmp_path / "composer.toml") + ":")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "toml",
    [
        '[feeds]\nurls = ["https://a.test/f", { url = "http://b.test/f", section = "links" }]\n'
        "timeout = 0.5\nmax_bytes = 1\nconcurrency = 256\nmax_entries = 0\nsummary_chars = 1\n",
        '[newsletter]\nlanguage = "en-GB"\nsections = ["feeds", "papers"]\n',
        "[schedule]\ncatch_up_hours = 24\n[plugins]\ncollect_timeout = 3600\n",
        EMAIL + 'to = ["b@weekly.test"]\nsmtp_port = 0\ntimeout = 600\n',
    ],
)
def test_values_in_range_are_accepted(tmp_path, toml):
    (tmp_path / "composer.toml").write_text(toml, encoding="utf-8")
    open_app(tmp_path, plugins="builtins")


def test_a_theme_strings_file_adds_a_language(tmp_path):
    (tmp_path / "composer.toml").write_text('[newsletter]\nlanguage = "fr"\n', encoding="utf-8")
    (tmp_path / "templates").mkdir()
    strings = tmp_path / "templates" / "strings.toml"
    strings.write_text('[fr]\ncontents = "Sommaire"\n[en]\ncontents = "Contents"\n', "utf-8")
    assert open_app(tmp_path, plugins="builtins").settings.newsletter.language == "fr"
    # the workspace's strings.toml replaces the theme's: its languages are the ones
    message = config_error(tmp_path, '[newsletter]\nlanguage = "zh-CN"\n')
    assert "strings.toml has no 'zh-CN'" in message and "languages: fr, en" in message


def test_a_disabled_plugins_section_is_a_warning_not_an_error(tmp_path):
    (tmp_path / "composer.toml").write_text(
        '[newsletter]\nsections = ["papers", "chat"]\n\n[plugins]\ndisable = ["chat"]\n', "utf-8"
    )
    app = open_app(tmp_path, plugins="builtins")
    (warning,) = [str(w) for w in app.report]
    assert "'chat'" in warning and "disabled plugin chat" in warning


TOOLS_PLUGIN = """
from dataclasses import dataclass

from composer.api import hookimpl


@dataclass
class ToolsConfig:
    __pydantic_config__ = {"extra": "forbid"}
    limit: int = 3


class Tools:
    name = "tools"
    title = "工具"
    aliases = ()
    config = ToolsConfig

    def sniff(self, block):
        return 0.0

    def parse(self, block):
        return []

    def serialize(self, items):
        return ""


class Drop:
    name = "drop"
    config_key = "delivery.drop"
    config = None

    def describe(self, delivery, ctx):
        return "nowhere"

    def deliver(self, delivery, ctx):
        return "nowhere"


@hookimpl
def register_sections(register):
    register(Tools())


@hookimpl
def register_deliverers(register):
    register(Drop())
"""


def test_what_a_disabled_plugin_declares_is_a_warning_and_a_typo_still_an_error(tmp_path):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "acme.py").write_text(TOOLS_PLUGIN, encoding="utf-8")
    head = (
        '[newsletter]\nsections = ["papers", "tools"]\n\n[plugins]\nlocal = ["plugins/acme.py"]\n'
    )
    tables = "\n[tools]\nlimit = 5\n\n[delivery.drop]\n"
    (tmp_path / "composer.toml").write_text(head + tables, "utf-8")
    assert "tools" in open_app(tmp_path, plugins="builtins").sections.types  # loaded: fine
    disabled = head + 'disable = ["acme"]\n' + tables
    (tmp_path / "composer.toml").write_text(disabled, "utf-8")
    warnings = [str(w) for w in open_app(tmp_path, plugins="builtins").report]
    assert len(warnings) == 3 and all("disabled plugin acme" in w for w in warnings)
    assert any("[tools]" in w for w in warnings) and any("[delivery.drop]" in w for w in warnings)
    message = config_error(tmp_path, disabled + '\n[delivery.emial]\nsmtp_host = "x"\n')
    assert "unknown table [delivery.emial]" in message


def test_the_feed_section_chosen_is_where_entries_go(tmp_path):
    (tmp_path / "composer.toml").write_text(
        '[feeds]\nurls = [{ url = "https://a.test/f", section = "links" }]\n', "utf-8"
    )
    config = open_app(tmp_path, plugins="builtins").plugin_config["feeds"]
    assert [s.section for s in config.sources()] == ["links"]


def test_a_bad_value_stops_the_command_with_exit_2(run, tmp_path):
    (tmp_path / "composer.toml").write_text('[newsletter]\nlanguage = "zh"\n', "utf-8")
    for args in (("draft", "--offline"), ("render",), ("add", "https://a.test/x")):
        result = run(*args)
        assert result.returncode == 2, result.stderr
        assert "composer.toml:2: [newsletter] language" in one_error_line(result)
    assert not list(tmp_path.glob("20*"))  # nothing written


# -- a composer.toml that cannot be read ---------------------------------------


def _deep(path):
    path.write_text("a = " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")


def _big(path):
    path.write_text("# " + "x" * 1_100_000 + "\n", encoding="utf-8")


def _not_utf8(path):
    path.write_bytes(b'[newsletter]\ntitle = "\xff\xfe"\n')


def _folder(path):
    path.mkdir()


def _syntax(path):
    path.write_text('[newsletter\ntitle = "x"\n', encoding="utf-8")


def _pipe(path):
    os.mkfifo(path)  # nobody writes: reading it would hang


def _huge_number(path):
    path.write_text("[feeds]\nconcurrency = " + "9" * 5000 + "\n", encoding="utf-8")


UNREADABLE = {
    "pipe": (_pipe, "composer.toml: not a regular file (a device or a pipe)"),
    "huge-number": (_huge_number, "composer.toml: Exceeds the limit (4300 digits)"),
    "syntax": (_syntax, "composer.toml: Expected ']'"),
    "deep": (_deep, "composer.toml: tables or arrays nested too deep to read"),
    "big": (_big, "composer.toml: larger than 1,000,000 bytes"),
    "not-utf8": (_not_utf8, "composer.toml: not UTF-8 text"),
    "folder": (_folder, "composer.toml: a folder, not a file"),
}

COMMANDS = [
    ("draft", "--offline"),
    ("render",),
    ("check",),
    ("add", "https://a.test/x", "--offline"),
    ("send", "--dry-run"),
    ("schedule", "--next", "1"),
    ("preview", "--port", "0"),
    ("plugins",),
    ("feeds",),
]


@pytest.mark.parametrize("kind", sorted(UNREADABLE))
def test_an_unreadable_config_is_one_line_and_exit_2_for_every_command(run, tmp_path, kind):
    make, expected = UNREADABLE[kind]
    make(tmp_path / "composer.toml")
    assert run("--help").returncode == 0
    for args in COMMANDS:
        result = run(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert expected in one_error_line(result), args


def test_a_config_without_read_permission_is_one_line(tmp_path):
    config = tmp_path / "composer.toml"
    config.write_text('[newsletter]\ntitle = "x"\n', encoding="utf-8")
    config.chmod(0)
    assert unprivileged("--help", cwd=tmp_path).returncode == 0
    for args in COMMANDS:
        result = unprivileged(*args, cwd=tmp_path)
        assert result.returncode == 2, (args, result.stderr)
        assert "composer.toml: cannot read it (Permission denied)" in one_error_line(result)


def test_the_help_never_reads_the_config(run, tmp_path):
    _deep(tmp_path / "composer.toml")
    result = run("--help")
    assert result.returncode == 0 and "draft" in result.stdout
    assert os.path.getsize(tmp_path / "composer.toml") > 200_000


LOCAL_PLUGIN = """
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from composer import api
from composer.api import hookimpl


@dataclass
class EventsConfig:
    __pydantic_config__ = {"extra": "forbid"}
    calendar: Annotated[str, api.HttpURL()] = "https://cal.test/ics"
    days: Annotated[int, api.Within(1, 365)] = 30
    section: Annotated[str, api.SectionName(holds="link")] = "links"


class Events:
    name = "events"
    title = "活动"
    aliases = ("活动",)
    config = EventsConfig

    def sniff(self, block):
        return 0.0

    def parse(self, block):
        return []

    def serialize(self, items):
        return ""


@hookimpl
def register_sections(register):
    register(Events())
"""


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        (
            "days = 400\n",
            ":6: [events] days: must be a number from 1 to 365, not 400 (plugin events)",
        ),
        (
            'calendar = "webcal://cal.test/x"\n',
            ":6: [events] calendar: 'webcal://cal.test/x' is not an http(s) URL",
        ),
        (
            'section = "chat"\n',
            ":6: [events] section: the section type 'chat' cannot hold link items",
        ),
    ],
)
def test_a_local_plugin_declares_its_own_checks(tmp_path, table, expected):
    (tmp_path / "plugins").mkdir()
    (tmp_path / "plugins" / "events.py").write_text(LOCAL_PLUGIN, encoding="utf-8")
    toml = f'[plugins]\nlocal = ["plugins/events.py"]\n\n[events]\n# its own checks\n{table}'
    assert expected in config_error(tmp_path, toml)


def _built_in_schemas():
    from composer.plugins.delivery import DirectoryConfig, WebhookConfig
    from composer.plugins.email.smtp import SmtpConfig
    from composer.plugins.feeds import FeedsConfig, FeedSource
    from composer.plugins.wechat_mp.push import WechatConfig

    from composer.support import settings as core

    return [
        core.Settings,
        core.NewsletterSettings,
        core.PluginsSettings,
        core.ScheduleSettings,
        core.NoSettings,
        FeedsConfig,
        FeedSource,
        DirectoryConfig,
        WebhookConfig,
        SmtpConfig,
        WechatConfig,
    ]


SECTIONS = {"sections": {"links": ("link",), "feeds": ("link",), "papers": ("paper",)}}


def _agrees(schema, data) -> None:
    """What the quick check makes of ``data`` is pydantic's result, or it defers."""
    from pydantic import TypeAdapter, ValidationError

    from composer.support.quickcheck import UNSURE, quick

    got = quick(schema, data, SECTIONS)
    try:
        expected = TypeAdapter(schema).validate_python(data, context=SECTIONS)
    except ValidationError:
        assert got is UNSURE, (schema, data)
        return
    if got is not UNSURE:
        assert type(got) is type(expected) and repr(got) == repr(expected), (schema, data)


def test_plain_tables_are_read_as_pydantic_reads_them():
    """Valid tables of every built-in schema are built without pydantic, equal to what
    pydantic builds (float fields from integers included); anything doubtful defers."""
    from composer.support.quickcheck import UNSURE, quick
    from composer.support.settings import Settings

    settings = quick(Settings, {"newsletter": {"title": "T", "sections": ["papers"]}})
    assert settings is not UNSURE and settings.newsletter.sections == ["papers"]
    assert repr(quick(Settings, {"plugins": {"collect_timeout": 5}})).count("5.0") == 1
    feeds = _built_in_schemas()[5]
    table = {"urls": ["https://a.example/f", {"url": "https://b.example/", "section": "links"}]}
    assert repr(quick(feeds, table, SECTIONS)) == repr(
        __import__("pydantic").TypeAdapter(feeds).validate_python(table, context=SECTIONS)
    )
    for doubtful in (
        {"urls": ["ftp://a.example/"]},  # a constraint fails: pydantic words the error
        {"urls": [{"url": "https://a.example/", "section": "papers"}]},
        {"timeout": "10"},  # a string pydantic would convert
        {"timeout": True},
        {"concurrency": 2.0},
        {"nope": 1},  # unknown key
    ):
        assert quick(feeds, doubtful, SECTIONS) is UNSURE
        _agrees(feeds, doubtful)
    assert quick(Settings, {"schedule": {"action": "send"}}) is UNSURE  # __post_init__
    assert quick(_built_in_schemas()[9], {"smtp_host": "h", "from": "a@b", "to": []}) is UNSURE


TOML_VALUES = st.recursive(
    st.one_of(
        st.text(max_size=8),
        st.sampled_from(["https://a.example/x", "links", "papers", "draft", "ftp://x", ""]),
        st.integers(-5, 70000),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["url", "name", "section", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_table_is_read_as_pydantic_reads_it_or_left_to_pydantic(data):
    import dataclasses

    schema = data.draw(st.sampled_from(_built_in_schemas()))
    names = [f.name for f in dataclasses.fields(schema)] + ["from", "extra"]
    table = data.draw(st.dictionaries(st.sampled_from(names), TOML_VALUES, max_size=4))
    _agrees(schema, table)
