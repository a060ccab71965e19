"""The command line: workspace discovery, draft, edit protection, bad input, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import SAMPLES, check_outputs

OUTPUTS = ("email.html", "email.txt", "wechat.md", "post.md", "email.eml", "wechat.html")


def one_error_line(result) -> str:
    """The stderr of a failed run: no traceback, an 'Error:' line first."""
    assert "Traceback" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_help_lists_commands(run):
    result = run("--help")
    assert result.returncode == 0
    for command in ("init", "draft", "render", "plugins"):
        assert command in result.stdout


def test_init_then_draft_from_inside_the_workspace(run, tmp_path):
    result = run("init", "digest")
    assert result.returncode == 0, result.stderr
    ws = tmp_path / "digest"
    toml = (ws / "composer.toml").read_text(encoding="utf-8")
    assert "[newsletter]" in toml and "# " in toml
    (ws / "deep" / "er").mkdir(parents=True)
    result = run("draft", cwd=ws / "deep" / "er")
    assert result.returncode == 0, result.stderr
    (issue_dir,) = [p for p in ws.iterdir() if p.name[:2] == "20" and (p / "issue.md").exists()]
    for name in OUTPUTS:
        assert (issue_dir / "out" / name).stat().st_size > 0
    again = run("init", "digest")
    assert again.returncode == 1 and "already exists" in one_error_line(again)


def test_draft_example_workspace_is_lossless(run, workspace, tmp_path):
    result = run("draft", "-w", workspace, "--issue", "2023-W47", "--offline")
    assert result.returncode == 0, result.stderr
    folder = workspace / "2023-W47"
    issue_md = (folder / "issue.md").read_text(encoding="utf-8")
    assert issue_md.startswith("---\n") and 'issue: "2023-W47"' in issue_md
    notes = "\n\n".join(p.read_text(encoding="utf-8") for p in sorted((folder / "notes").iterdir()))
    assert check_outputs(notes, folder / "out") == []
    assert check_outputs(issue_md, folder / "out") == []


def test_workspace_from_environment(run, workspace, tmp_path):
    result = run("draft", "--issue", "2023-W47", env={"COMPOSER_WORKSPACE": str(workspace)})
    assert result.returncode == 0, result.stderr
    assert (workspace / "2023-W47" / "out" / "wechat.md").exists()


def test_no_workspace_is_a_usage_error(run, tmp_path):
    result = run("draft")
    assert result.returncode == 2
    assert "composer.toml" in one_error_line(result)


def test_draft_never_overwrites_an_edited_issue(run, workspace):
    args = ("draft", "-w", workspace, "--issue", "2023-W47")
    assert run(*args).returncode == 0
    issue_md = workspace / "2023-W47" / "issue.md"
    assert run(*args).returncode == 0  # unchanged since generated: regenerated freely
    edited = issue_md.read_text(encoding="utf-8") + "\n编辑加的一句话。\n"
    issue_md.write_text(edited, encoding="utf-8")
    refused = run(*args)
    assert refused.returncode == 1
    assert "edited" in one_error_line(refused) and "--force" in refused.stderr
    assert issue_md.read_text(encoding="utf-8") == edited
    forced = run(*args, "--force")
    assert forced.returncode == 0, forced.stderr
    (backup,) = issue_md.parent.glob("issue.md.*.bak")
    assert backup.read_text(encoding="utf-8") == edited
    assert "编辑加的一句话" not in issue_md.read_text(encoding="utf-8")


def test_render_an_edited_issue_by_id(run, workspace):
    assert run("draft", "-w", workspace, "--issue", "2023-W47").returncode == 0
    issue_md = workspace / "2023-W47" / "issue.md"
    issue_md.write_text(
        issue_md.read_text(encoding="utf-8") + "\n## 编者按\n\n本周加一句。\n", encoding="utf-8"
    )
    result = run("render", "2023-W47", "-w", workspace, "--format", "wechat,text")
    assert result.returncode == 0, result.stderr
    out = workspace / "2023-W47" / "out"
    assert "本周加一句" in (out / "wechat.md").read_text(encoding="utf-8")
    assert "本周加一句" in (out / "email.txt").read_text(encoding="utf-8")


def test_unknown_format_is_a_usage_error(run, tmp_path):
    result = run("render", SAMPLES[0], "--out", tmp_path / "o", "--format", "pdf")
    assert result.returncode == 2 and "pdf" in one_error_line(result)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "is empty"),
        (b"\x00\x01binary\x00" * 50, "binary"),
    ],
)
def test_unreadable_input_gets_one_clear_line(run, tmp_path, data, expected):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(data)
    result = run("render", bad, "--out", tmp_path / "o")
    assert result.returncode == 1
    line = one_error_line(result)
    assert "bad.txt" in line and expected in line


def test_missing_file_is_named(run, tmp_path):
    result = run("render", "nope.txt")
    assert result.returncode == 2  # a usage error, like a malformed issue id
    assert "nope.txt" in one_error_line(result)


def test_gb18030_and_crlf_bom_render_with_a_warning(run, tmp_path):
    text = "## 简短问答\r\n\r\nQ: 中文问题？\r\n\r\nA: 中文回答。\r\n"
    (tmp_path / "gbk.txt").write_bytes(text.encode("gb18030"))
    (tmp_path / "bom.txt").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    for name in ("gbk.txt", "bom.txt"):
        result = run("render", name, "--out", tmp_path / f"out-{name}")
        assert result.returncode == 0, result.stderr
        assert "中文回答" in (tmp_path / f"out-{name}" / "wechat.md").read_text(encoding="utf-8")
    assert "GB18030" in run("render", "gbk.txt", "--out", tmp_path / "x").stderr


def test_strict_turns_warnings_into_exit_1(run, tmp_path):
    (tmp_path / "free.txt").write_text("没有结构的一段话。\n", encoding="utf-8")
    assert run("render", "free.txt", "--out", tmp_path / "o").returncode == 0
    strict = run("render", "free.txt", "--out", tmp_path / "o", "--strict")
    assert strict.returncode == 1
    assert "free.txt:1" in strict.stderr


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[newsletter]\ntitle = "x"\ntitel = "typo"\n', ":3: unknown key 'titel' in [newsletter]"),
        ('[newsletter]\ntitle = "x"\n\n[nosuch]\na = 1\n', ":4: unknown table [nosuch]"),
        ('[plugins]\ndisable = "papers"\n', ":2: [plugins] disable:"),
        ('[newsletter]\ntimezone = "Mars/Base"\n', ":2: [newsletter] timezone: unknown timezone"),
        ("[newsletter\n", "composer.toml"),
    ],
)
def test_config_errors_name_file_line_and_key(run, tmp_path, toml, expected):
    (tmp_path / "composer.toml").write_text(toml, encoding="utf-8")
    result = run("draft")
    assert result.returncode == 2
    line = one_error_line(result)
    assert "composer.toml" in line and expected in line


def test_debug_shows_the_traceback(run, tmp_path):
    (tmp_path / "composer.toml").write_text("[nosuch]\n", encoding="utf-8")
    result = run("--debug", "draft")
    assert result.returncode != 0 and "Traceback" in result.stderr


def test_outputs_are_written_atomically(run, tmp_path):
    out = tmp_path / "o"
    assert run("render", SAMPLES[0], "--out", out).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)


def test_example_notes_are_not_generated_outputs():
    root = Path(__file__).resolve().parents[1]
    ignored = (root / ".gitignore").read_text(encoding="utf-8")
    for pattern in ("issues/*/issue.md", "issues/*/out/", ".composer/"):
        assert pattern in ignored
