"""`composer check`: blocking rules exit 1 and name output, line and rule; others warn."""

from __future__ import annotations

import re

import pytest
from composer.plugins.email.rules import email_rules
from composer.plugins.hugo import post_rules
from composer.plugins.wechat.rules import wechat_rules
from conftest import SAMPLES

from composer.pipeline.fidelity import source_rules


@pytest.fixture
def rendered(run, tmp_path):
    src = tmp_path / "issue.txt"
    src.write_text(SAMPLES[1].read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "out"
    assert run("render", src, "--out", out).returncode == 0
    return src, out


def test_clean_outputs_pass(run, rendered):
    src, out = rendered
    result = run("check", src, "--out", out)
    assert result.returncode == 0, result.stderr
    assert "no blocking problem" in result.stdout
    assert "[mixed-punctuation]" in result.stderr  # 001 writes half-width commas in CJK


def test_outputs_older_than_their_source_are_named(run, rendered):
    import os
    import time

    src, out = rendered
    later = time.time() + 60
    os.utime(src, (later, later))  # edited after the render
    result = run("check", src, "--out", out)
    assert "[stale-output]" in result.stderr and f"older than {src}" in result.stderr
    assert run("render", src, "--out", out).returncode == 0
    os.utime(src, (time.time() - 60, time.time() - 60))
    assert "[stale-output]" not in run("check", src, "--out", out).stderr


def test_missing_outputs_block(run, rendered):
    src, out = rendered
    (out / "wechat.md").unlink()
    result = run("check", src, "--out", out)
    assert result.returncode == 1
    assert "wechat.md: [missing-output]" in result.stderr


def test_a_lost_sentence_blocks_and_names_the_output(run, rendered):
    src, out = rendered
    text = (out / "email.txt").read_text(encoding="utf-8")
    (out / "email.txt").write_text(
        text.replace("保守估计从去年这个时候到现在", ""), encoding="utf-8"
    )
    result = run("check", src, "--out", out)
    assert result.returncode == 1
    assert re.search(r"email.txt: \[lost-text\] lost text «保守估计从去年", result.stderr)


def test_script_and_relative_links_block_with_line_numbers(run, rendered):
    src, out = rendered
    html = (out / "email.html").read_text(encoding="utf-8")
    html = html.replace("</body>", '<a href="page.html">x</a>\n<script>x()</script>\n</body>')
    (out / "email.html").write_text(html, encoding="utf-8")
    result = run("check", src, "--out", out)
    assert result.returncode == 1
    assert re.search(
        r"email.html:\d+: \[relative-link\] link is not absolute: page.html", result.stderr
    )
    assert re.search(r"email.html:\d+: \[script\]", result.stderr)


def test_wechat_rules():
    md = "# t\n\n见 [文](https://a.example)\n\n[1]: https://a.example\n\n**Q：**x\n\n```\n[x](https://b.example)\n```\n"
    problems = {(p.rule, p.line, p.blocking) for p in wechat_rules(md)}
    assert ("external-link", 3, True) in problems
    assert ("definition-line", 5, True) in problems
    assert ("bold-colon", 7, False) in problems
    assert not any(r == "external-link" and line == 10 for r, line, _ in problems)
    assert wechat_rules("[原文](https://mp.weixin.qq.com/s/x)\n") == []


def test_email_event_handlers_and_javascript():
    html = (
        '<html lang="zh"><head><meta charset="utf-8"></head><body>'
        '<p style="x" onclick="y">a</p><a href="javascript:alert(1)">b</a></body></html>'
    )
    rules = {p.rule for p in email_rules(html) if p.blocking}
    assert rules == {"event-handler", "javascript-link"}


def test_size_past_100kb_warns_with_clip(run, tmp_path):
    papers = "\n\n".join(
        f"{n}.《论文 {n}》https://example.org/p/{n}\n\n" + "很长的摘要。" * 120
        for n in range(1, 60)
    )
    src = tmp_path / "big.txt"
    src.write_text("## 论文分享\n\n" + papers, encoding="utf-8")
    rendered = run("render", src, "--out", tmp_path / "out")
    assert rendered.returncode == 0
    assert "clip" in rendered.stderr and "largest sections: 论文分享" in rendered.stderr
    checked = run("check", src, "--out", tmp_path / "out")
    assert checked.returncode == 0 and "[size]" in checked.stderr and "clip" in checked.stderr


def test_empty_sections_and_duplicate_links_warn(run, tmp_path):
    src = tmp_path / "i.txt"
    src.write_text(
        "## 论文分享\n\n1.《甲》https://a.example/x\n\n## 延伸阅读\n\n"
        "- 甲: https://a.example/x\n\n## 空的\n",
        encoding="utf-8",
    )
    assert run("render", src, "--out", tmp_path / "o").returncode == 0
    result = run("check", src, "--out", tmp_path / "o")
    assert result.returncode == 0
    assert "[empty-section] section '空的' has no items" in result.stderr
    assert "[duplicate-link] https://a.example/x appears in 论文分享, 延伸阅读" in result.stderr
    assert run("check", src, "--out", tmp_path / "o", "--strict").returncode == 1


def test_post_and_source_rules():
    assert [p.rule for p in post_rules("no front matter")] == ["front-matter"]
    assert post_rules("---\ntitle: x\n---\nbody") == []
    (warning,) = source_rules("中文,中文\n英文, ok\n", "s.txt")
    assert warning.rule == "mixed-punctuation" and "lines 1)" in warning.message
