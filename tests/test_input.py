"""What the editor gives composer: every note is read or named, `composer add` checks
its input before writing anything, and operating-system errors are one line."""

from __future__ import annotations

import errno
import os
import resource
import signal

import pytest
from oserrors import composer as unprivileged
from oserrors import tiny_filesystem

from composer.commands.common import describe_os_error
from composer.support.workspace import atomic_write

ISSUE = "2026-W48"
LINKS = "## 链接\n\n- https://{0}.test/a 说明{0}\n"
CONFIG = '[newsletter]\ntitle = "周报"\ntimezone = "Asia/Shanghai"\n'


def one_error_line(result) -> str:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    lines = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def ws(tmp_path):
    """A workspace with one issue folder; ``ws.note(name, text or bytes)`` adds a file."""
    (tmp_path / "composer.toml").write_text(CONFIG, encoding="utf-8")
    (tmp_path / ISSUE / "notes").mkdir(parents=True)
    return tmp_path


def put(ws, rel: str, data: str | bytes):
    path = ws / ISSUE / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    path.write_bytes(data)
    return path


def issue_md(ws) -> str:
    return (ws / ISSUE / "issue.md").read_text(encoding="utf-8")


def warnings(result) -> list[str]:
    return [ln for ln in result.stderr.splitlines() if ln.startswith("warning:")]


# -- every note is read or named ---------------------------------------------------


def test_notes_with_any_note_extension_in_any_case_are_read_in_name_order(run, ws):
    for name in ("d.md", "a.MD", "b.markdown", "c.TXT", "e.Markdown"):
        put(ws, f"notes/{name}", LINKS.format(name.split(".")[0]))
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    text = issue_md(ws)
    found = [text.index(f"https://{x}.test/a") for x in "abcde"]
    assert found == sorted(found)
    assert warnings(result) == []


def test_files_that_look_like_notes_but_are_not_read_are_named(run, ws):
    put(ws, "notes/a.md", LINKS.format("a"))
    put(ws, "papers.md", LINKS.format("outside"))  # in the issue folder, not in notes/
    put(ws, "note/x.txt", LINKS.format("typo"))  # a misspelt folder
    put(ws, "notes/sub/y.md", LINKS.format("nested"))
    put(ws, "notes/README", LINKS.format("noext"))  # text without an extension
    put(ws, "notes/b.mdown", LINKS.format("mdown"))  # text with another extension
    put(ws, "notes/photo", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 20)  # not text: not a note
    put(ws, "notes/.a.md.swp", b"\x00" * 10)  # hidden: an editor's file
    put(ws, "notes/a.md~", LINKS.format("backup"))
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    named = "\n".join(warnings(result))
    for rel in ("papers.md", "note/x.txt", "notes/sub/y.md", "notes/README", "notes/b.mdown"):
        assert f"warning: {ISSUE}/{rel}: not read" in named
    assert f"notes are read only from {ISSUE}/notes/: move it there" in named
    assert "rename it README.md" in named and "rename it b.md" in named
    assert "photo" not in named and ".swp" not in named and "a.md~" not in named
    assert len(warnings(result)) == 5
    assert "https://a.test/a" in issue_md(ws) and "outside" not in issue_md(ws)


def test_a_notes_front_matter_reaches_the_issue_and_a_contradiction_is_named(run, ws):
    front = "---\ntitle: 编辑自己的标题\nauthor: 张三\nsummary: 重要的说明文字在这里\n---\n"
    put(ws, "notes/a.md", front + LINKS.format("a"))
    put(ws, "notes/b.md", "---\ntitle: 另一个标题\nissue: 2026-W01\n---\n" + LINKS.format("b"))
    result = run("draft", "--issue", ISSUE, "-w", ws, "--offline")
    assert result.returncode == 0, result.stderr
    head = issue_md(ws).split("\n---\n", 1)[0]
    for said in ('title: "编辑自己的标题"', 'author: "张三"', 'summary: "重要的说明文字在这里"'):
        assert said in head
    assert f'issue: "{ISSUE}"' in head and "另一个标题" not in head
    post = (ws / ISSUE / "out" / "post.md").read_text(encoding="utf-8")
    assert "编辑自己的标题" in post and "重要的说明文字在这里" in post
    named = "\n".join(warnings(result))
    assert f"{ISSUE}/notes/b.md: says title: 另一个标题, but {ISSUE}/notes/a.md said" in named
    assert f"{ISSUE}/notes/b.md: says issue: 2026-W01, but it is a note of {ISSUE}" in named


def test_a_date_outside_the_week_is_named_by_check(run, ws):
    put(ws, "notes/a.md", "---\ndate: 2023-02-28\n---\n" + LINKS.format("a"))
    assert run("draft", "--issue", ISSUE, "--offline", "-w", ws).returncode == 0
    check = run("check", ISSUE, "-w", ws)
    assert f"[date-outside-week] its date 2023-02-28 is not a day of {ISSUE}" in check.stderr


def test_a_notes_file_in_place_of_the_folder_is_named(run, ws):
    (ws / ISSUE / "notes").rmdir()
    put(ws, "notes", LINKS.format("a"))
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    (warning,) = warnings(result)
    assert f"{ISSUE}/notes: a file, not a folder" in warning


def test_a_note_that_is_a_pipe_or_a_device_is_named_and_skipped(run, ws):
    put(ws, "notes/a.md", LINKS.format("a"))
    os.mkfifo(ws / ISSUE / "notes" / "fifo.md")  # nobody writes: reading it would hang
    (ws / ISSUE / "notes" / "zero.md").symlink_to("/dev/zero")  # would never end
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    for name in ("fifo.md", "zero.md"):
        (warning,) = [w for w in warnings(result) if name in w]
        assert "not a regular file" in warning and "skipped" in warning
    assert "https://a.test/a" in issue_md(ws)


def test_a_note_too_large_to_be_a_digest_is_named_and_skipped(run, ws):
    from composer.pipeline.parse import MAX_SOURCE_BYTES

    put(ws, "notes/a.md", LINKS.format("a"))
    put(ws, "notes/huge.md", b"- https://x.test/ " + b"x" * MAX_SOURCE_BYTES)
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    (warning,) = [w for w in warnings(result) if "huge.md" in w]
    assert "larger than 8 MB" in warning and "skipped" in warning


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.md", b"", "the file is empty"),
        ("blank.md", b"  \n\n", "the file is empty"),
        ("bom.md", b"\xef\xbb\xbf\n", "the file is empty"),
        (
            "mixed.md",
            "## 链接\n\n- https://m.test/ 说明\n".encode() + "第二行".encode("gb18030"),
            "UTF-8 until this line, then another encoding",
        ),
        ("binary.txt", b"\x00\x01\x02binary" * 100, "binary"),
        (
            "latin.md",
            b"## links\n\n- https://x.test/ caf\xe9 \x80\xff\x80\xff",
            "not UTF-8",
        ),
    ],
)
def test_an_empty_or_binary_note_is_named_and_skipped(run, ws, name, data, reason):
    put(ws, "notes/a.md", LINKS.format("a"))
    put(ws, f"notes/{name}", data)
    put(ws, "notes/z.md", LINKS.format("z"))
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    (warning,) = [w for w in warnings(result) if name in w]
    assert f"{ISSUE}/notes/{name}" in warning and reason in warning and "skipped" in warning
    assert "https://a.test/a" in issue_md(ws) and "https://z.test/a" in issue_md(ws)
    assert run("draft", "--issue", ISSUE, "--offline", "-w", ws, "--strict").returncode == 1


# -- composer add checks before it writes --------------------------------------------


def inbox(ws):
    path = ws / ISSUE / "notes" / "inbox.md"
    return path.read_bytes() if path.exists() else None


def test_add_takes_a_scheme_in_capitals(run, ws):
    result = run("add", "HTTPS://a.test/UP", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    assert b"https://a.test/UP" in inbox(ws)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://a.test/x\n## 新标题", "it contains a line break"),
        ("https://a.test/x\r\nQ: 问题", "it contains a line break"),
        ("https://a.test/x https://b.test/y", "it contains a space"),
        ("https://a.test/x\x07", "it contains the character U+0007"),
        ("https://a.test/\u2028x", "it contains a line break"),
        ("file:///etc/passwd", "is not an http(s) URL"),
        ("javascript://alert(1)", "is not an http(s) URL"),
        ("https:///nohost", "has no host name"),
        ("https://a.test:99999999/", "is not a URL"),
        ("no-such-file.md", "no such file, and not a URL"),
        ("https://a.test/\u202egpj.exe", "holds the invisible character U+202E"),
        ("https://user:pw@a.test/x", "holds a user name or password"),
        ("x\u200bhttps://evil.test/zw", "holds the invisible character U+200B"),
    ],
)
def test_add_refuses_anything_but_one_http_url_and_writes_nothing(run, ws, url, expected):
    put(ws, "notes/inbox.md", "## 链接\n\n- https://before.test/ 之前\n")
    before = inbox(ws)
    result = run("add", url, "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert inbox(ws) == before


@pytest.mark.parametrize(
    "note",
    [
        "第一句\n\n## 新标题\n\nQ: 问题\nA: 回答",
        "第一句\r研究员1：插话\u2028- 列表\u2029> 引用",
        "第一句\x1b[31m\x07\x7f\n```\n代码",
    ],
)
def test_add_folds_the_note_into_one_paragraph(run, ws, note):
    for section, url in (
        ("links", "https://a.test/x"),
        ("papers", "https://arxiv.org/abs/2401.00001"),
    ):
        result = run(
            "add",
            url,
            "--section",
            section,
            "--note",
            note,
            "--issue",
            ISSUE,
            "--offline",
            "-w",
            ws,
        )
        assert result.returncode == 0, result.stderr
    text = inbox(ws).decode("utf-8")
    assert text.count("\n## ") + text.startswith("## ") == 2  # the two section headings only
    assert "第一句" in text and not any(ord(c) < 32 and c != "\n" for c in text)
    assert "\u2028" not in text and "\u2029" not in text
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    assert [w for w in warnings(result) if "inbox" in w] == []


def test_add_note_is_literal_text(run, ws):
    """A note is text from outside the notes: shown as typed, nothing of it live."""
    note = "**重点**：见 [附录](https://a.test/appendix)"
    result = run("add", "https://a.test/x", "--note", note, "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    html = (ws / ISSUE / "out" / "email.html").read_text("utf-8")
    assert "**重点**" in html and 'href="https://a.test/appendix"' not in html
    assert 'href="https://a.test/x"' in html


@pytest.mark.parametrize("note", ["## 新标题", "论文分享", "# 一级"])
def test_add_note_never_starts_a_section(run, ws, note):
    url = "https://arxiv.org/abs/2401.00001"
    result = run("add", url, "--note", note, "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    assert inbox(ws).decode("utf-8").count("\n## ") + inbox(ws).decode().startswith("## ") == 1
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 0, result.stderr
    text = (ws / ISSUE / "out" / "email.txt").read_text("utf-8")
    assert note in text


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.write_bytes(b""), "the file is empty"),
        (lambda p: p.write_bytes(b"\x00\x01PK\x03\x04" * 200), "binary"),
        (lambda p: p.write_bytes(bytes(range(128, 256)) * 8), "not UTF-8"),
        (lambda p: p.mkdir(), "a folder, not a file"),
        (lambda p: p.symlink_to(p.name), "Too many levels of symbolic links"),
        (
            lambda p: p.symlink_to("missing.md"),
            "a symbolic link to missing.md, which does not exist",
        ),
    ],
)
def test_add_checks_a_file_before_copying_it(run, ws, tmp_path, make, expected):
    source = tmp_path / "given.md"
    make(source)
    result = run("add", source, "--issue", ISSUE, "-w", ws)
    assert result.returncode == 2
    line = one_error_line(result)
    assert "given.md" in line and expected in line
    assert list((ws / ISSUE / "notes").iterdir()) == []
    assert run("draft", "--issue", ISSUE, "--offline", "-w", ws).returncode == 0


def test_add_copies_a_text_file_as_a_note(run, ws, tmp_path):
    (tmp_path / "gbk.txt").write_bytes(LINKS.format("gbk").encode("gb18030"))
    (tmp_path / "plain").write_text(LINKS.format("plain"), encoding="utf-8")
    (tmp_path / ".hidden.md").write_text(LINKS.format("hidden"), encoding="utf-8")
    for name in ("gbk.txt", "plain", "gbk.txt", ".hidden.md"):
        result = run("add", tmp_path / name, "--issue", ISSUE, "-w", ws)
        assert result.returncode == 0, result.stderr
    notes = ws / ISSUE / "notes"
    names = sorted(p.name for p in notes.iterdir())
    assert names == ["gbk-2.txt", "gbk.txt", "hidden.md", "plain.md"]  # each one read
    assert (notes / "gbk.txt").read_bytes() == (tmp_path / "gbk.txt").read_bytes()
    again = run("add", notes / "plain.md", "--issue", ISSUE, "-w", ws)
    assert again.returncode == 2 and "already a note" in one_error_line(again)


# -- operating-system errors: one line naming the path, never an internal error ----


def drafted(ws):
    put(ws, "notes/a.md", LINKS.format("a"))
    result = unprivileged("draft", "--issue", ISSUE, "--offline", "-w", ws, cwd=ws)
    assert result.returncode == 0, result.stderr
    return ws / ISSUE


def test_an_unreadable_note_stops_the_draft_naming_it(ws):
    note = put(ws, "notes/secret.md", LINKS.format("s"))
    note.chmod(0)
    result = unprivileged("draft", "--issue", ISSUE, "--offline", "-w", ws, cwd=ws)
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"{note}: Permission denied" in line
    assert "check the permissions" in result.stderr


def test_a_note_that_is_a_symlink_loop_is_named(run, ws):
    (ws / ISSUE / "notes" / "loop.md").symlink_to("loop.md")
    result = run("draft", "--issue", ISSUE, "--offline", "-w", ws)
    assert result.returncode == 1
    assert "loop.md: Too many levels of symbolic links" in one_error_line(result)


def test_an_unreadable_issue_md_is_one_line(ws):
    folder = drafted(ws)
    (folder / "issue.md").chmod(0)
    for args in (("render", ISSUE), ("check", ISSUE)):
        result = unprivileged(*args, "-w", ws, cwd=ws)
        assert result.returncode == 1, result.stderr
        assert f"{folder / 'issue.md'}: Permission denied" in one_error_line(result)


def test_a_read_only_issue_folder_keeps_the_old_issue_md(ws):
    folder = drafted(ws)
    before = (folder / "issue.md").read_bytes()
    put(ws, "notes/b.md", LINKS.format("b"))
    folder.chmod(0o555)
    try:
        result = unprivileged("draft", "--issue", ISSUE, "--offline", "-w", ws, cwd=ws)
    finally:
        folder.chmod(0o755)
    assert result.returncode == 1
    assert f"{folder / 'issue.md'}: Permission denied" in one_error_line(result)
    assert (folder / "issue.md").read_bytes() == before
    assert sorted(p.name for p in folder.iterdir()) == ["issue.md", "notes", "out"]


def test_a_read_only_output_folder_keeps_the_old_outputs(ws):
    folder = drafted(ws)
    out = folder / "out"
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    out.chmod(0o555)
    try:
        result = unprivileged("render", ISSUE, "-w", ws, cwd=ws)
    finally:
        out.chmod(0o755)
    assert result.returncode == 1
    line = one_error_line(result)
    assert f"{out}/" in line and "Permission denied" in line and "/." not in line
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_read_only_notes_folder_leaves_the_inbox_as_it_was(ws):
    inbox_md = put(ws, "notes/inbox.md", "## 链接\n\n- https://before.test/ 之前\n")
    notes = inbox_md.parent
    notes.chmod(0o555)
    try:
        result = unprivileged(
            "add", "https://a.test/x", "--offline", "--issue", ISSUE, "-w", ws, cwd=ws
        )
    finally:
        notes.chmod(0o755)
    assert result.returncode == 1
    assert f"{inbox_md}: Permission denied" in one_error_line(result)
    assert inbox_md.read_text(encoding="utf-8") == "## 链接\n\n- https://before.test/ 之前\n"
    assert [p.name for p in notes.iterdir()] == ["inbox.md"]


@pytest.mark.parametrize("state", ["folder", "files", "database"])
def test_a_state_that_cannot_be_written_is_one_line_and_changes_nothing(ws, state):
    folder = drafted(ws)
    before = (folder / "issue.md").read_bytes()
    dot = ws / ".composer"
    for p in dot.iterdir():
        if state == "folder":
            p.unlink()
        else:
            p.chmod(0o444)
    if state != "database":  # "database": the folder stays writable, state.db is not
        dot.chmod(0o555)
    put(ws, "notes/b.md", LINKS.format("b"))
    commands = [("draft", "--issue", ISSUE, "--offline", "--force")]
    if state != "database":  # add only reads the state
        commands.append(("add", "https://a.test/y", "--offline", "--issue", ISSUE))
    try:
        for args in commands:
            result = unprivileged(*args, "-w", ws, cwd=ws)
            assert result.returncode == 1, result.stderr
            assert ".composer/state.db" in one_error_line(result)
    finally:
        dot.chmod(0o755)
    assert (folder / "issue.md").read_bytes() == before


@pytest.mark.parametrize(
    ("out", "expected"),
    [
        ("/dev/null", "--out /dev/null is not a folder"),
        ("afile", "is not a folder"),
        ("afile/sub", "is inside afile, which is not a folder"),
    ],
)
def test_an_output_path_that_is_not_a_folder_is_a_usage_error(run, tmp_path, out, expected):
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    (tmp_path / "n.md").write_text(LINKS.format("n"), encoding="utf-8")
    result = run("render", "n.md", "--out", out)
    assert result.returncode == 2
    assert expected in one_error_line(result)
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda p: p.mkdir(), "a folder, not a file"),
        (lambda p: p.symlink_to(p.name), "Too many levels of symbolic links"),
        (lambda p: p.symlink_to("gone.md"), "which does not exist"),
    ],
)
def test_a_source_that_is_not_a_file_is_named(run, tmp_path, make, expected):
    make(tmp_path / "given.md")
    for command in ("render", "check"):
        result = run(command, "given.md", "--out", tmp_path / "o")
        assert result.returncode == 2
        line = one_error_line(result)
        assert "given.md" in line and expected in line


def test_a_full_disk_is_one_line_and_keeps_the_old_outputs(run, tmp_path):
    source = tmp_path / "n.md"
    source.write_text(LINKS.format("n"), encoding="utf-8")
    with tiny_filesystem("64k") as disk:
        out = disk / "out"
        out.mkdir()
        (out / "email.html").write_text("old", encoding="utf-8")
        fill(disk / "filler")
        result = run("render", source, "--out", out)
        assert result.returncode == 1
        line = one_error_line(result)
        assert "No space left on device" in line and str(out) in line
        assert "the disk is full" in result.stderr
        assert (out / "email.html").read_text(encoding="utf-8") == "old"
        assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def fill(path) -> None:
    """Write ``path`` until its file system is full."""
    with path.open("wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"x" * 4096)
        except OSError as exc:
            assert exc.errno == errno.ENOSPC


def test_a_write_that_fails_midway_leaves_the_old_file(tmp_path):
    target = tmp_path / "issue.md"
    target.write_text("the editor's text\n", encoding="utf-8")
    old_limit = resource.getrlimit(resource.RLIMIT_FSIZE)
    old_handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (4096, old_limit[1]))
    try:
        with pytest.raises(OSError) as caught:
            atomic_write(target, "x" * 100_000)
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, old_limit)
        signal.signal(signal.SIGXFSZ, old_handler)
    assert caught.value.errno == errno.EFBIG and caught.value.filename == str(target)
    assert target.read_text(encoding="utf-8") == "the editor's text\n"
    assert os.listdir(tmp_path) == ["issue.md"]


@pytest.mark.parametrize(
    ("code", "hint"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "read-only"),
        (errno.EACCES, "permissions"),
        (errno.EISDIR, "it is a folder"),
        (errno.ENOTDIR, "not a folder"),
        (errno.ELOOP, "symbolic link"),
    ],
)
def test_each_os_error_says_what_to_do(code, hint):
    message, said, exit_code = describe_os_error(OSError(code, os.strerror(code), "/w/out/x"))
    assert message == f"/w/out/x: {os.strerror(code)}"
    assert hint in said and exit_code == 1


def test_adds_at_once_each_reach_the_inbox(ws):
    """Several `composer add` at once: one waits for the other, no link is lost."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, COMPOSER_PLUGINS="builtins")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "composer", "add", f"https://l{n}.lab.cn/x", "--offline"]
            + ["--issue", ISSUE, "-w", str(ws)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    text = inbox(ws).decode("utf-8")
    assert all(f"https://l{n}.lab.cn/x" in text for n in range(4))
