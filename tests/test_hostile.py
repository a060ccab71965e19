"""Hostile input, probed as an attacker would (issue 12): outside text stays data,
front matter is bounded, nothing is lost at any depth."""

from __future__ import annotations

import pytest

# -- front matter ------------------------------------------------------------------
BOMB = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n"
    "---\n\n## 简短问答\n\nQ: 炸弹之后的问题\n"
)


def test_a_yaml_alias_bomb_is_refused(run, tmp_path):
    source = tmp_path / "bomb.md"
    source.write_text(BOMB, encoding="utf-8")
    assert len(BOMB.encode()) < 600
    result = run("render", source, "--out", tmp_path / "out")
    assert result.returncode == 0, result.stderr
    assert "bomb.md:2" in result.stderr and "alias" in result.stderr
    post = (tmp_path / "out" / "post.md").read_text(encoding="utf-8")
    assert len(post) < 20 * len(BOMB)
    assert "炸弹之后的问题" in post and "lol" in post  # kept as text, not lost


@pytest.mark.parametrize(
    "front, reason",
    [
        ("x: " + "y" * 70_000, "bytes"),
        ("\n".join(f"k{n}: {n}" for n in range(2_100)), "keys"),
        ("x: " + "[" * 40 + "]" * 40, "deep"),
        ("x: !!python/object:os.system {}", "not valid YAML"),
    ],
    ids=["size", "keys", "depth", "tag"],
)
def test_front_matter_beyond_the_caps_is_kept_as_text(front, reason, parse):
    issue, report = parse(f"---\n{front}\n---\n\nQ: 后面的问题\n", "big.md")
    assert issue.meta == {}
    warnings = [str(w) for w in report]
    assert any("big.md:" in w and reason in w and "kept as text" in w for w in warnings), warnings


def test_written_front_matter_is_a_small_multiple_of_what_was_read(parse, app):
    from composer.pipeline.parse import serialize_issue

    front = "title: " + "长" * 3000 + "\ntags: [" + ", ".join(f"t{n}" for n in range(500)) + "]\n"
    text = f"---\n{front}---\n\nQ: 问题\n"
    issue, _ = parse(text)
    assert issue.meta["title"] == "长" * 3000
    written = serialize_issue(issue, app.sections)
    assert len(written.split("\n---", 1)[0]) <= 2 * len(front)
