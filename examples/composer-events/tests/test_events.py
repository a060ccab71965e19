"""composer-events, tested from the outside: installed package, entry point, CLI."""

from __future__ import annotations

from pathlib import Path

from composer import testing

ICS = """BEGIN:VCALENDAR
VERSION:2.0
BEGIN:VEVENT
SUMMARY:长上下文模型分享会
DTSTART;TZID=Asia/Shanghai:20261127T190000
LOCATION:线上
URL:https://example.org/talk
DESCRIPTION:报名截止周四\\, 名额有限。
END:VEVENT
BEGIN:VEVENT
SUMMARY:Too late
DTSTART:20270301T010000Z
END:VEVENT
BEGIN:VEVENT
SUMMARY:NeurIPS workshop 截稿
DTSTART;VALUE=DATE:20261201
END:VEVENT
END:VCALENDAR
"""

NOTES = """## 活动日历

- 2026-11-28 14:00 · 读书会 · 北京 https://example.org/read
    带上笔记本。
- 2026-12-03 · 组会
"""


PLUGINS = "builtins,composer-events"


def composer(*args, cwd):
    return testing.run(*args, cwd=cwd, plugins=PLUGINS)


def test_notes_parse_and_round_trip():
    issue, again = testing.round_trip(NOTES, PLUGINS)
    (section,) = issue.sections
    assert section.kind == "events"
    first, second = section.items
    assert (first.title, first.url, first.meta["place"], first.text) == (
        "读书会",
        "https://example.org/read",
        "北京",
        "带上笔记本。",
    )
    assert second.meta["when"] == "2026-12-03" and second.url == ""
    assert again == issue


def test_listed_by_distribution_name(tmp_path):
    result = composer("plugins", cwd=tmp_path)
    row = next(ln for ln in result.stdout.splitlines() if ln.startswith("composer-events"))
    assert "0.1.0" in row and "entry point" in row and row.rstrip().endswith("ok")


def test_draft_collects_the_week_from_ics_and_renders_everywhere(tmp_path):
    (tmp_path / "calendars").mkdir()
    (tmp_path / "calendars" / "talks.ics").write_text(ICS, encoding="utf-8")
    (tmp_path / "composer.toml").write_text(
        '[newsletter]\ntimezone = "Asia/Shanghai"\n\n[events]\n'
        'calendars = ["calendars/talks.ics"]\ndays = 14\n',
        encoding="utf-8",
    )
    result = composer("draft", "--issue", "2026-W48", "--offline", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = tmp_path / "2026-W48" / "out"
    issue_md = (tmp_path / "2026-W48" / "issue.md").read_text(encoding="utf-8")
    assert "- 2026-11-27 19:00 · 长上下文模型分享会 · 线上 https://example.org/talk" in issue_md
    assert "2026-12-01 · NeurIPS workshop 截稿" in issue_md and "Too late" not in issue_md
    assert "报名截止周四, 名额有限。" in (out / "email.txt").read_text(encoding="utf-8")
    assert "长上下文模型分享会<sup>[1]</sup>" in (out / "wechat.md").read_text(encoding="utf-8")
    assert 'href="https://example.org/talk"' in (out / "email.html").read_text(encoding="utf-8")
    assert "[长上下文模型分享会](https://example.org/talk)" in (out / "post.md").read_text("utf-8")


def test_bad_config_names_the_table_key_and_line(tmp_path):
    (tmp_path / "composer.toml").write_text('[events]\ndays = "many"\n', encoding="utf-8")
    result = composer("draft", cwd=tmp_path)
    assert result.returncode == 2
    assert "composer.toml:2: [events] days:" in result.stderr


def test_workspace_overrides_one_template(tmp_path):
    (tmp_path / "composer.toml").write_text("[newsletter]\n", encoding="utf-8")
    (tmp_path / "templates" / "sections").mkdir(parents=True)
    (tmp_path / "templates" / "sections" / "events.text.j2").write_text(  # keeps every word
        "{% for item in section.items %}EVENT {{ item.title }} {{ item.meta.when }} "
        "{{ item.meta.place }} {{ item.url }}\n{{ md(item.text) }}\n{% endfor %}",
        encoding="utf-8",
    )
    notes = tmp_path / "n.txt"
    notes.write_text(NOTES, encoding="utf-8")
    result = composer("render", notes, "--out", tmp_path / "o", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "EVENT 读书会" in (tmp_path / "o" / "email.txt").read_text(encoding="utf-8")
    assert "读书会" in (tmp_path / "o" / "wechat.md").read_text(encoding="utf-8")


def test_package_ships_its_templates():
    import composer_events

    folder = Path(composer_events.__file__).parent / "templates" / "sections"
    assert sorted(p.name for p in folder.glob("*.j2")) == [
        "events.email.j2",
        "events.hugo.j2",
        "events.text.j2",
        "events.wechat.j2",
    ]
