"""What readers see: turns on their own lines, text escaped once, dates, accessibility."""

from __future__ import annotations

import html
import re
import shutil

import pytest
from conftest import RENDERED, ROOT
from conftest import run_composer as composer

LABEL = r"(?:Q\d*(?:-continue)?|A\d*|F\d*|F\(Follow\)|D(?:\(Discussion\))?|研究员\d+)"
TURN_IN_HTML = re.compile(rf"<strong>{LABEL}</strong>[：:]")


def commonmark(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").render(text)


def text_outside_code(rendered: str) -> str:
    rendered = re.sub(r"(?s)<pre>.*?</pre>|<code>.*?</code>", " ", rendered)
    return html.unescape(re.sub(r"<[^>]+>", " ", rendered))


# -- 1. turns ------------------------------------------------------------------
@pytest.mark.parametrize("name", RENDERED)
@pytest.mark.parametrize("output", ["post.md", "wechat.md"])
def test_every_turn_is_its_own_paragraph_in_commonmark(rendered, name, output):
    page = commonmark((rendered[name] / output).read_text(encoding="utf-8"))
    paragraphs = re.findall(r"(?s)<p>(.*?)</p>", page)
    crowded = [p[:120] for p in paragraphs if len(TURN_IN_HTML.findall(p)) > 1]
    assert crowded == []
    visible = text_outside_code(page)
    assert "**" not in visible and "](" not in visible


def test_consecutive_answers_and_follow_ups_each_start_a_paragraph(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(
        "## 简短问答\n\nQ: 问题？\n\nA: 答一\n\nA1: 答二\n\nA2: 答三\n\n"
        "## 讨论&杂谈\n\nD(Discussion): 开头\n\nF(Follow): 跟进\n\nF1: 再跟进\n",
        encoding="utf-8",
    )
    assert composer("render", source, "--out", tmp_path / "out", cwd=tmp_path).returncode == 0
    for output in ("post.md", "wechat.md"):
        rendered = commonmark((tmp_path / "out" / output).read_text(encoding="utf-8"))
        paragraphs = re.findall(r"(?s)<p>(.*?)</p>", rendered)
        for label, text in [
            ("A1", "答二"),
            ("A2", "答三"),
            ("F(Follow)", "跟进"),
            ("F1", "再跟进"),
        ]:
            assert f"<strong>{label}</strong>：{text}" in paragraphs, (output, label)


# -- 2. plain text -------------------------------------------------------------
def test_plain_text_keeps_the_indent_of_a_follow_up_on_every_wrapped_line(tmp_path):
    from composer.plugins.text import width

    long = "这是一段很长的跟进回复，" * 12 + "见 https://example.org/" + "x" * 60 + " 完。"
    source = tmp_path / "in.txt"
    source.write_text(
        f"## 讨论&杂谈\n\nD(Discussion): 开头\n\nF(Follow): {long}\n\n第二段也属于它。\n\nF1: 短\n",
        encoding="utf-8",
    )
    assert composer("render", source, "--out", tmp_path / "out", cwd=tmp_path).returncode == 0
    text = (tmp_path / "out" / "email.txt").read_text(encoding="utf-8")
    lines = text.split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("    F(Follow): "))
    end = next(i for i, ln in enumerate(lines) if ln.startswith("    F1: "))
    block = [ln for ln in lines[start:end] if ln]
    assert len(block) > 4  # wrapped, plus the second paragraph
    assert all(ln.startswith("    ") for ln in block), block
    assert "    第二段也属于它。" in block
    # closing punctuation may hang one character past the 72 columns; URLs are not cut
    assert all(width(ln) <= 74 for ln in block if "https://" not in ln), block
    assert (
        "".join(ln.strip() for ln in block)
        .replace(" ", "")
        .startswith("F(Follow):" + long.replace(" ", "")[:40])
    )


# -- 3. escaped exactly once ---------------------------------------------------
HOSTILE_TITLES = {
    "https://a.example/1": "《A < B》",
    "https://b.example/2": "A & B",
    "https://c.example/3": "&amp; 字面",
    "https://d.example/4": "a*b*c 星号",
    "https://e.example/5": "[x](y) 方括号",
}
HOSTILE = """## 论文分享

1.《A < B》https://a.example/1

摘要里 [C & D < E](https://f.example/6) 还有 [x &amp; y](https://g.example/7) 和 [*强调* `代码`](https://h.example/8)。

## 链接

- A & B: https://b.example/2
- &amp; 字面: https://c.example/3
- a*b*c 星号: https://d.example/4
- [x](y) 方括号: https://e.example/5
"""


def test_citation_titles_are_shown_as_typed(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(HOSTILE, encoding="utf-8")
    assert composer("render", source, "--out", tmp_path / "out", cwd=tmp_path).returncode == 0
    md = (tmp_path / "out" / "wechat.md").read_text(encoding="utf-8")
    assert "&amp;lt;" not in md and "&amp;amp;amp;" not in md
    cited = md.split("---\n")[-1]
    rendered = commonmark(cited)
    entries = dict(
        (url, html.unescape(title))
        for title, url in re.findall(r"\[\d+\] (.*?): (https://\S+?)(?:<|\s|$)", rendered)
    )
    expected = dict(HOSTILE_TITLES)
    expected.update(
        {
            "https://f.example/6": "C & D < E",
            "https://g.example/7": "x & y",
            "https://h.example/8": "强调 代码",
        }
    )
    assert entries == expected


def test_preheader_is_the_text_a_reader_sees_escaped_once(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(
        "## 讨论\n\n研究员1：见 (附录) > 正文 & 注释，**粗体** 与 [链接](https://x.example/) &amp; 完。\n",
        encoding="utf-8",
    )
    assert composer("render", source, "--out", tmp_path / "out", cwd=tmp_path).returncode == 0
    page = (tmp_path / "out" / "email.html").read_text(encoding="utf-8")
    hidden = re.search(r'<div class="preheader"[^>]*>(.*?)</div>', page).group(1)
    assert hidden == "见 (附录) &gt; 正文 &amp; 注释，粗体 与 链接 &amp; 完。"


# -- 4. dates ------------------------------------------------------------------
def test_the_bundled_issue_is_dated_friday_of_its_week_and_shown_in_chinese(rendered):
    out = rendered["2023-W47"]
    assert 'date: "2023-11-24"' in (out.parent / "issue.md").read_text(encoding="utf-8")
    assert 'date: "2023-11-24"' in (out / "post.md").read_text(encoding="utf-8")
    for name in ("email.html", "email.txt", "wechat.md"):
        assert "2023年11月24日" in (out / name).read_text(encoding="utf-8"), name


@pytest.mark.parametrize(
    ("cron", "day"),
    [
        ("0 9 * * fri", "2023-11-24"),
        ("0 9 * * 1", "2023-11-20"),
        ("30 8 * * sun,wed", "2023-11-22"),
        ("0 9 * * 5-7", "2023-11-24"),
        ("0 9 * * 6,0", "2023-11-25"),
        ("@weekly", "2023-11-26"),
        ("0 9 * * *", "2023-11-24"),
        ("0 9 1 * *", "2023-11-24"),
        ("", "2023-11-24"),
    ],
)
def test_an_issue_is_dated_the_first_weekday_its_schedule_names(cron, day):
    from composer.support.dates import issue_day

    assert issue_day("2023-W47", cron).isoformat() == day


def test_draft_dates_an_issue_by_its_schedule_not_by_today(tmp_path):
    ws = tmp_path / "ws"
    shutil.copytree(
        ROOT / "issues", ws, ignore=shutil.ignore_patterns("out", "issue.md*", ".composer")
    )
    config = ws / "composer.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + '\n[schedule]\ncron = "0 9 * * tue-thu"\n',
        encoding="utf-8",
    )
    result = composer("draft", "-w", ws, "--issue", "2023-W47", "--offline", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert 'date: "2023-11-21"' in (ws / "2023-W47" / "issue.md").read_text(encoding="utf-8")
    assert "2023年11月21日" in (ws / "2023-W47" / "out" / "email.html").read_text(encoding="utf-8")


DATES = [
    ("2023-02-28", "2023年2月28日", "28 February 2023", "2023-02-28"),
    ("2023-02-28T15:30:03+00:00", "2023年2月28日", "28 February 2023", "2023-02-28T15:30:03+00:00"),
    ("2023-02-28 15:30", "2023年2月28日", "28 February 2023", "2023-02-28T15:30:00"),
    (
        "2023-12-31T23:30:00-08:00",
        "2023年12月31日",
        "31 December 2023",
        "2023-12-31T23:30:00-08:00",
    ),
    ("2023/3/5", "2023年3月5日", "5 March 2023", "2023-03-05"),
    ("2023年3月5日", "2023年3月5日", "5 March 2023", "2023-03-05"),
]


@pytest.mark.parametrize(("typed", "zh", "en", "iso"), DATES)
def test_front_matter_dates_in_any_common_form_are_shown_as_dates(tmp_path, typed, zh, en, iso):
    source = tmp_path / "in.txt"
    source.write_text(
        f"---\ntitle: 一期\ndate: {typed}\n---\n\n## 讨论\n\n研究员1：内容\n", encoding="utf-8"
    )
    for language, shown in (("zh-CN", zh), ("en", en)):
        folder = tmp_path / language
        folder.mkdir()
        (folder / "composer.toml").write_text(
            f'[newsletter]\nlanguage = "{language}"\n', encoding="utf-8"
        )
        # the English month name must not come from the process locale
        env = {"LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8", "LC_TIME": "de_DE.UTF-8"}
        result = composer("render", source, "--out", folder / "out", cwd=folder, env=env)
        assert result.returncode == 0, result.stderr
        assert "date" not in result.stderr
        out = folder / "out"
        assert '<p class="date"' in (out / "email.html").read_text(encoding="utf-8")
        for name in ("email.html", "email.txt", "wechat.md"):
            text = (out / name).read_text(encoding="utf-8")
            assert shown in text, (language, name)
            assert typed not in text or typed == shown, (language, name)
        assert f'date: "{iso}"' in (out / "post.md").read_text(encoding="utf-8")


def test_a_date_that_is_no_date_is_shown_as_typed_with_a_warning(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text(
        "---\ntitle: 一期\nissue: 2023-W47\ndate: 下周五上午\n---\n\n## 讨论\n\n研究员1：内容\n",
        encoding="utf-8",
    )
    result = composer("render", source, "--out", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert re.search(r"in\.txt:4\b.*下周五上午", result.stderr), result.stderr
    for name in ("email.html", "email.txt", "wechat.md"):
        assert "下周五上午" in (tmp_path / "out" / name).read_text(encoding="utf-8"), name
    post = (tmp_path / "out" / "post.md").read_text(encoding="utf-8")
    assert 'date: "2023-11-24"' in post  # Hugo needs a date it can read
    assert "post.md" in result.stderr
