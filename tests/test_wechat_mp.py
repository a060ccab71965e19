"""The wechat_mp plugin: wechat.html, its preview's copy button, and `[delivery.wechat]`
against a local stand-in of the 公众号 API (pytest-httpserver on 127.0.0.1) that follows
the documented contract: stable_token, media/uploadimg, material/add_material,
draft/add, draft/get, draft/update, errors as {"errcode", "errmsg"} with HTTP 200.
Every composer run that may touch the network runs under tests/netguard.py, so
nothing leaves loopback even if the code under test is wrong."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import SAMPLES, make_sendable
from werkzeug import Request, Response

TESTS = Path(__file__).resolve().parent
ISSUE = "2023-W47"
SECRET = "s3cret-AppSecret-0f9e8d7c6b5a4321"
APP_ID = "wx0123456789abcdef"

RICH = """长上下文怎么评测？

Q: 大家平时怎么评测长上下文模型？有没有推荐的 benchmark？

研究员1：我们用 [RULER](https://github.com/hsiehjackson/RULER) 和 needle-in-a-haystack，另外参考 [这篇公众号文章](https://mp.weixin.qq.com/s/qSJCNCH433EbF7Khr0FYrg) 的做法。

研究员2：跑起来很简单：

```bash
git clone https://github.com/hsiehjackson/RULER
cd RULER && pip install -r requirements.txt
python run.py --model llama-3-8b    --length 131072
```

注意 `--length` 要和模型窗口一致。

## 论文分享

### 1.《Ring Attention with Blockwise Transformers》https://arxiv.org/abs/2310.01889

要点：

- 把序列切块，分布到多卡上
  - 每张卡只存一块 KV
    - 第三层的细节：通信与计算重叠
- 理论上上下文长度随卡数线性增长

![Ring Attention 示意图](IMAGE_URL)

再次引用 [RULER](https://github.com/hsiehjackson/RULER) 做对比，另见 <b>不是标签</b>。

## 简短问答

Q: 8k 的 embedding 模型效果怎么样？

A: 试过 Jina，效果一般，详见 https://jina.ai/news/jina-ai-launches-worlds-first-open-source-8k-text-embedding/ 的说明。

A1: 还可以看看 BGE-M3。
"""


def png(width: int = 1, height: int = 1, seed: int = 0) -> bytes:
    """A real PNG (grey pixels), different for each ``seed``."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + bytes([seed % 256]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


# -- the stand-in API ----------------------------------------------------------------
class StandIn:
    """The 公众号 API as documented, in memory; ``log`` is every request it got."""

    def __init__(self) -> None:
        self.log: list[dict] = []
        self.tokens: dict[str, bool] = {}  # token -> still valid
        self.issued: list[str] = []
        self.expires_in = 7200
        self.fail: dict[str, tuple[int, str]] = {}  # path -> errcode answer (until removed)
        self.once: dict[str, tuple[int, str]] = {}  # path -> errcode answer, once
        self.materials: dict[str, bytes] = {}
        self.drafts: dict[str, dict] = {}
        self.images: dict[str, bytes] = {}  # served at /img/<name>
        self.uploaded: list[bytes] = []
        self.image_urls: list[str] = []
        self.counter = 0
        self.redirect: tuple[int, str] | None = None  # (status, Location) for every call
        self.lose_answer = ""  # a path whose work is done but whose answer is garbled
        self.raw: dict[str, bytes] = {}  # path -> a body answered as it is

    def next(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter:04d}"

    def calls(self, path: str) -> list[dict]:
        return [r for r in self.log if r["path"] == path]

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/img/"):
            data = self.images.get(request.path[5:])
            return Response(data or b"", 200 if data else 404, content_type="image/png")
        record = {
            "path": request.path,
            "args": dict(request.args),
            "body": request.get_data(),
            "type": request.headers.get("Content-Type", ""),
            "files": {k: (f.filename, f.read()) for k, f in request.files.items()},
            "form": dict(request.form),
        }
        self.log.append(record)
        if self.redirect:
            status, location = self.redirect
            return Response("", status, headers={"Location": location})
        if request.path in self.raw:
            return Response(self.raw[request.path], 200, content_type="application/json")
        answer = self.answer(request.path, record)
        if request.path == self.lose_answer:
            self.lose_answer = ""
            return Response(b"\x00 the connection broke", 200, content_type="application/json")
        return Response(
            json.dumps(answer, ensure_ascii=False), 200, content_type="application/json"
        )

    def answer(self, path: str, record: dict) -> dict:
        if path in self.once:
            code, message = self.once.pop(path)
            return {"errcode": code, "errmsg": message}
        if path in self.fail:
            code, message = self.fail[path]
            return {"errcode": code, "errmsg": message}
        if path == "/cgi-bin/stable_token":
            body = json.loads(record["body"])
            if body.get("grant_type") != "client_credential" or body.get("appid") != APP_ID:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            if body.get("secret") != SECRET:
                return {"errcode": 40125, "errmsg": "invalid appsecret rid: 1"}
            token = self.next("TOKEN-") + "-Zx81Qw"
            self.tokens[token] = True
            self.issued.append(token)
            return {"access_token": token, "expires_in": self.expires_in}
        token = record["args"].get("access_token")
        if not token:
            return {"errcode": 41001, "errmsg": "access_token missing"}
        if not self.tokens.get(token):
            return {"errcode": 42001, "errmsg": "access_token expired rid: 2"}
        handler = getattr(self, path.replace("/cgi-bin/", "").replace("/", "_"), None)
        return handler(record) if handler else {"errcode": 43001, "errmsg": "no such api"}

    def media_uploadimg(self, record: dict) -> dict:
        _, data = record["files"].get("media", ("", b""))
        if not data.startswith((b"\x89PNG", b"\xff\xd8\xff")):
            return {"errcode": 40005, "errmsg": "invalid file type"}
        self.uploaded.append(data)
        self.image_urls.append(f"http://mmbiz.qpic.cn/mmbiz_png/{self.next('IMG')}/0?wx_fmt=png")
        return {"url": self.image_urls[-1]}

    def material_add_material(self, record: dict) -> dict:
        if record["args"].get("type") != "image" or "media" not in record["files"]:
            return {"errcode": 40004, "errmsg": "invalid media type"}
        media_id = self.next("COVER-")
        self.materials[media_id] = record["files"]["media"][1]
        return {"media_id": media_id, "url": "http://mmbiz.qpic.cn/cover/0"}

    def check_article(self, article: dict) -> dict | None:
        if article.get("thumb_media_id") not in self.materials:
            return {"errcode": 40007, "errmsg": "invalid media_id rid: 3"}
        if len(article.get("content", "")) >= 20000:
            return {"errcode": 45002, "errmsg": "content size out of limit"}
        if len(article.get("title", "")) > 32:
            return {"errcode": 45003, "errmsg": "title size out of limit"}
        return None

    def draft_add(self, record: dict) -> dict:
        [article] = json.loads(record["body"])["articles"]
        problem = self.check_article(article)
        if problem:
            return problem
        media_id = self.next("DRAFT-")
        self.drafts[media_id] = article
        return {"media_id": media_id}

    def draft_get(self, record: dict) -> dict:
        media_id = json.loads(record["body"]).get("media_id")
        if media_id not in self.drafts:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        return {"news_item": [self.drafts[media_id]]}

    def draft_batchget(self, record: dict) -> dict:
        import time

        items = [
            {"media_id": m, "content": {"news_item": [a]}, "update_time": int(time.time())}
            for m, a in reversed(self.drafts.items())
        ]
        return {"total_count": len(items), "item_count": len(items), "item": items}

    def draft_update(self, record: dict) -> dict:
        body = json.loads(record["body"])
        if body.get("media_id") not in self.drafts or body.get("index") != 0:
            return {"errcode": 40007, "errmsg": "invalid media_id"}
        problem = self.check_article(body["articles"])
        if problem:
            return problem
        self.drafts[body["media_id"]] = body["articles"]
        return {"errcode": 0, "errmsg": "ok"}


@pytest.fixture
def standin(httpserver):
    api = StandIn()
    httpserver.expect_request(re.compile(r"^/")).respond_with_handler(api.handle)
    api.url = f"http://127.0.0.1:{httpserver.port}"
    return api


# -- running composer ----------------------------------------------------------------
def guarded(*args, cwd: Path, env: dict | None = None, prelude: str = ""):
    """``composer ARGS`` under tests/netguard.py: connections to loopback only."""
    full_env = dict(
        os.environ,
        COMPOSER_PLUGINS="builtins",
        NO_COLOR="1",
        TEST_DNS="{}",
        TEST_PUBLIC="[]",
        PYTHONPATH=os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
    )
    full_env.pop("COMPOSER_WECHAT_SECRET", None)
    full_env.update(env or {})
    code = f"{prelude}import netguard; netguard.main()"
    return subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def wechat_table(standin: StandIn, **extra) -> str:
    lines = [
        "\n[delivery.wechat]",
        f'app_id = "{APP_ID}"',
        f'api_url = "{standin.url}"',
        'cover = "cover.png"',
        'author = "AI 周报编辑部"',
        *(f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in extra.items()),
    ]
    return "\n".join(lines) + "\n"


@pytest.fixture
def pushed_ws(run, workspace, standin):
    """The example workspace, sendable, with an image note and [delivery.wechat]."""
    make_sendable(workspace)
    standin.images["ring.png"] = png(4, 3, seed=7)
    note = RICH.replace("IMAGE_URL", f"{standin.url}/img/ring.png")
    (workspace / ISSUE / "notes" / "06-rich.md").write_text(note, encoding="utf-8")
    (workspace / "cover.png").write_bytes(png(8, 8, seed=1))
    config = workspace / "composer.toml"
    config.write_text(config.read_text("utf-8") + wechat_table(standin), encoding="utf-8")
    result = run("draft", "-w", workspace, "--issue", ISSUE, "--offline")
    assert result.returncode == 0, result.stderr
    return workspace


def send(ws: Path, *extra, env=None, prelude=""):
    return guarded(
        "send",
        ISSUE,
        "-w",
        ws,
        *extra,
        cwd=ws,
        env={"COMPOSER_WECHAT_SECRET": SECRET, **(env or {})},
        prelude=prelude,
    )


def state_rows(ws: Path, prefix: str) -> dict[str, object]:
    db = sqlite3.connect(ws / ".composer" / "state.db")
    try:
        rows = db.execute("SELECT key, value FROM plugin_wechat_mp").fetchall()
    finally:
        db.close()
    return {k: json.loads(v) for k, v in rows if k.startswith(prefix)}


def set_state(ws: Path, key: str, value) -> None:
    db = sqlite3.connect(ws / ".composer" / "state.db")
    with db:
        db.execute("UPDATE plugin_wechat_mp SET value = ? WHERE key = ?", (json.dumps(value), key))
    db.close()


# -- [delivery.wechat] ----------------------------------------------------------------
def test_send_fills_the_draft_box(pushed_ws, standin):
    result = send(pushed_ws)
    assert result.returncode == 0, result.stderr
    [(media_id, draft)] = standin.drafts.items()
    assert f"wechat: sent {ISSUE} to 公众号草稿箱 {APP_ID}: draft {media_id} (new)" in result.stdout
    # the token: POST JSON with the secret in the body, never in a URL
    [token_call] = standin.calls("/cgi-bin/stable_token")
    assert json.loads(token_call["body"])["secret"] == SECRET and token_call["args"] == {}
    # the image: downloaded, uploaded as the multipart field "media", its src replaced
    [upload] = standin.calls("/cgi-bin/media/uploadimg")
    assert upload["files"]["media"][1] == standin.images["ring.png"]
    assert "multipart/form-data" in upload["type"]
    # the cover: permanent material, its media_id the draft's thumb
    [cover] = standin.calls("/cgi-bin/material/add_material")
    assert cover["args"]["type"] == "image"
    assert cover["files"]["media"] == ("cover.png", (pushed_ws / "cover.png").read_bytes())
    assert draft["thumb_media_id"] == next(iter(standin.materials))
    # the draft: UTF-8 JSON with Chinese as is, the fields the API documents
    [add] = standin.calls("/cgi-bin/draft/add")
    assert add["type"].startswith("application/json")
    assert b"\\u" not in add["body"] and "长上下文怎么评测".encode() in add["body"]
    assert draft["title"] == "AI 研究周报 2023-W47" and draft["author"] == "AI 周报编辑部"
    assert draft["content_source_url"] == f"https://weekly.test/weekly/{ISSUE}/"
    assert draft["need_open_comment"] == 0 and draft["only_fans_can_comment"] == 0
    assert 0 < len(draft["digest"]) <= 128
    page = (pushed_ws / ISSUE / "out" / "wechat.html").read_text("utf-8")
    body = re.search(r"<body>(.*)</body>", page, re.S).group(1).strip()
    [wx_url] = standin.image_urls
    original = f'src="{standin.url}/img/ring.png"'
    assert body.count(original) == 1  # the 引用链接 list keeps the original URL as text
    assert draft["content"] == body.replace(original, f'src="{wx_url.replace("&", "&amp;")}"')
    assert state_rows(pushed_ws, "draft:") == {
        f"draft:{APP_ID}:{ISSUE}": {"media_id": media_id, "host": standin.url[7:]}
    }


def test_a_second_send_pushes_nothing_and_resend_updates_the_same_draft(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    [media_id] = standin.drafts
    before = len(standin.log)
    again = send(pushed_ws)
    assert again.returncode == 1 and "already sent" in again.stderr
    assert len(standin.log) == before  # not one request
    note = pushed_ws / ISSUE / "issue.md"
    note.write_text(note.read_text("utf-8") + "\n## 补充\n\n周五加的一句。\n", encoding="utf-8")
    result = send(pushed_ws, "--resend")
    assert result.returncode == 0, result.stderr
    assert f"draft {media_id} (updated)" in result.stdout
    assert (
        list(standin.drafts) == [media_id] and "周五加的一句" in standin.drafts[media_id]["content"]
    )
    assert [json.loads(c["body"])["media_id"] for c in standin.calls("/cgi-bin/draft/get")] == [
        media_id
    ]
    assert len(standin.calls("/cgi-bin/draft/add")) == 1
    # the token, the image and the cover were remembered: nothing fetched or uploaded again
    assert len(standin.calls("/cgi-bin/stable_token")) == 1
    assert len(standin.calls("/cgi-bin/media/uploadimg")) == 1
    assert len(standin.calls("/cgi-bin/material/add_material")) == 1


def test_resend_makes_a_new_draft_when_the_old_one_was_published(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    [first] = standin.drafts
    del standin.drafts[first]  # published (or deleted): WeChat takes it out of the draft box
    result = send(pushed_ws, "--resend")
    assert result.returncode == 0, result.stderr
    [second] = standin.drafts
    assert second != first and f"draft {second} (new)" in result.stdout
    assert state_rows(pushed_ws, "draft:")[f"draft:{APP_ID}:{ISSUE}"]["media_id"] == second
    assert send(pushed_ws, "--resend").returncode == 0
    assert list(standin.drafts) == [second] and len(standin.calls("/cgi-bin/draft/update")) == 1


def test_a_changed_cover_is_uploaded_again(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    (pushed_ws / "cover.png").write_bytes(png(8, 8, seed=99))
    assert send(pushed_ws, "--resend").returncode == 0
    covers = standin.calls("/cgi-bin/material/add_material")
    assert [c["files"]["media"][1] for c in covers] == [png(8, 8, seed=1), png(8, 8, seed=99)]
    [draft] = standin.drafts.values()
    assert draft["thumb_media_id"] == list(standin.materials)[-1]


def test_a_deleted_cover_material_is_uploaded_again_once(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    standin.materials.clear()  # the editor deleted the cover from the material library
    result = send(pushed_ws, "--resend")
    assert result.returncode == 0, result.stderr
    assert len(standin.calls("/cgi-bin/material/add_material")) == 2


def test_an_expired_token_is_fetched_again(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    [record] = state_rows(pushed_ws, "token:").values()
    assert set(record) == {"sealed", "expires_at", "api_url"}
    set_state(pushed_ws, f"token:{APP_ID}", {**record, "expires_at": 1000.0})  # long past
    assert send(pushed_ws, "--resend").returncode == 0
    assert len(standin.calls("/cgi-bin/stable_token")) == 2
    tokens = [c["args"]["access_token"] for c in standin.calls("/cgi-bin/draft/update")]
    assert tokens == [standin.issued[1]]


def test_a_refused_token_is_refreshed_once_and_the_call_repeated(pushed_ws, standin):
    assert send(pushed_ws).returncode == 0
    standin.tokens[standin.issued[0]] = False  # invalidated elsewhere before it expired
    result = send(pushed_ws, "--resend")
    assert result.returncode == 0, result.stderr
    assert len(standin.calls("/cgi-bin/stable_token")) == 2
    gets = standin.calls("/cgi-bin/draft/get")
    assert [c["args"]["access_token"] for c in gets] == standin.issued[:2]
    # refused again after one refresh: one line, not a loop
    standin.fail["/cgi-bin/draft/get"] = (42001, "access_token expired")
    result = send(pushed_ws, "--resend")
    assert result.returncode == 1 and "errcode 42001" in result.stderr
    assert len(standin.calls("/cgi-bin/stable_token")) == 3
    assert len(standin.calls("/cgi-bin/draft/get")) == 4


def test_dry_run_shows_the_push_and_makes_no_request(pushed_ws, standin):
    result = send(pushed_ws, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert standin.log == [] and standin.calls("/img/ring.png") == []
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("wechat:"))
    assert "a new draft" in line and "title 'AI 研究周报 2023-W47'" in line
    assert f"1 image(s) to upload: {standin.url}/img/ring.png" in line
    assert "cover cover.png (to upload)" in line and "characters" in line and "KB" in line
    assert "$COMPOSER_WECHAT_SECRET set" in line
    assert send(pushed_ws).returncode == 0
    [media_id] = standin.drafts
    before = len(standin.log)
    result = send(pushed_ws, "--resend", "--dry-run")
    assert result.returncode == 0 and len(standin.log) == before
    assert f"update draft {media_id} (a new one if it was published or deleted)" in result.stdout
    assert "cover cover.png (uploaded before)" in result.stdout


ERRORS = [
    (
        "/cgi-bin/stable_token",
        40164,
        "invalid ip 203.0.113.7 ipv6 ::ffff:203.0.113.7, not in whitelist rid: 6",
        "add 203.0.113.7 to the account's IP whitelist",
    ),
    (
        "/cgi-bin/stable_token",
        40125,
        "invalid appsecret rid: 7",
        "$COMPOSER_WECHAT_SECRET is not the account's AppSecret",
    ),
    (
        "/cgi-bin/media/uploadimg",
        45009,
        "reach max api daily quota limit",
        "daily API quota is used up",
    ),
    (
        "/cgi-bin/draft/add",
        45002,
        "content size out of limit",
        "`composer check` names the largest sections",
    ),
    ("/cgi-bin/draft/add", -1, "system error", "WeChat is busy"),
    ("/cgi-bin/media/uploadimg", 40005, "invalid file type", "not a jpg or png"),
]


@pytest.mark.parametrize(("path", "code", "errmsg", "hint"), ERRORS)
def test_every_errcode_is_one_line_with_what_to_do(pushed_ws, standin, path, code, errmsg, hint):
    standin.fail[path] = (code, errmsg)
    result = send(pushed_ws)
    assert result.returncode == 1
    errors = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert len(errors) == 1 and "Traceback" not in result.stderr
    assert f"errcode {code} ({errmsg})" in errors[0] and hint in errors[0]
    assert path in errors[0]
    assert standin.drafts == {}
    del standin.fail[path]  # the issue stayed unsent: the next send delivers it
    assert send(pushed_ws).returncode == 0 and len(standin.drafts) == 1


def test_an_image_that_is_not_jpg_or_png_is_refused_before_any_upload(pushed_ws, standin):
    standin.images["ring.png"] = b"GIF89a" + b"\x00" * 20
    result = send(pushed_ws)
    assert result.returncode == 1
    assert f"{standin.url}/img/ring.png is not a jpg or png" in result.stderr
    assert standin.calls("/cgi-bin/media/uploadimg") == []


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (b"[" * 100_000, "the answer is not JSON we can read"),
        (b'{"errcode": ' + b"9" * 5000 + b"}", "the answer is not JSON we can read"),
        (b'{"errcode": "-' + b"9" * 5000 + b'", "errmsg": "x"}', "an unexpected answer"),
    ],
    ids=["deep", "huge-number", "huge-code"],
)
def test_an_unreadable_api_answer_is_one_line(pushed_ws, standin, body, said):
    standin.raw["/cgi-bin/stable_token"] = body
    result = send(pushed_ws)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    (line,) = [ln for ln in result.stderr.splitlines() if ln.startswith("Error:")]
    assert said in line and len(line) < 300


def test_a_missing_secret_is_one_line(pushed_ws, standin):
    result = guarded("send", ISSUE, "-w", pushed_ws, cwd=pushed_ws)
    assert result.returncode == 1
    assert "[secret-unset] [delivery.wechat] needs $COMPOSER_WECHAT_SECRET" in result.stderr
    assert standin.log == []


def test_the_secret_and_tokens_appear_in_no_file_message_or_log(pushed_ws, standin):
    logging_on = "import logging; logging.basicConfig(level=logging.DEBUG); "
    runs = [send(pushed_ws, prelude=logging_on)]
    standin.tokens[standin.issued[0]] = False  # a refresh, and a second token
    runs.append(send(pushed_ws, "--resend", prelude=logging_on))
    standin.fail["/cgi-bin/draft/get"] = (40001, f"invalid credential {standin.issued[-1]}")
    runs.append(send(pushed_ws, "--resend", "--dry-run"))
    runs.append(send(pushed_ws, "--resend"))  # fails, echoing a token in errmsg
    assert [r.returncode for r in runs] == [0, 0, 0, 1]
    assert len(standin.issued) >= 2
    assert any("HTTP Request: POST" in r.stderr for r in runs)  # httpx did log, masked
    secrets = [SECRET, *standin.issued]
    for r in runs:
        for value in secrets:
            assert value not in r.stdout and value not in r.stderr
    written = [p for p in pushed_ws.rglob("*") if p.is_file()]
    assert any(p.name == "state.db" for p in written)
    for path in written:
        data = path.read_bytes()
        for value in secrets:
            assert value.encode() not in data, f"{value[:6]}… in {path}"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"api_url": "http://api.weixin.example.com"}, "api_url: https only"),
        ({"author": "一二三四五六七八九十一二三四五六七"}, "author: at most 16 characters"),
        ({"colour": "red"}, "unknown key 'colour'"),
    ],
)
def test_bad_wechat_settings_name_the_key(run, workspace, standin, extra, message):
    config = workspace / "composer.toml"
    table = wechat_table(standin)
    for key in extra:
        table = re.sub(rf"(?m)^{key} = .*\n", "", table)
    table += "".join(f"{k} = {json.dumps(v, ensure_ascii=False)}\n" for k, v in extra.items())
    config.write_text(config.read_text("utf-8") + table, encoding="utf-8")
    result = run("check", "-w", workspace)
    assert (
        result.returncode == 2 and message in result.stderr and "delivery.wechat" in result.stderr
    )


def big_issue(ws: Path) -> None:
    """A week whose article is past the draft API's 20,000 characters."""
    turns = "\n\n".join(
        f"研究员{n}：长上下文评测的第 {n} 条意见，" + "细节很多，值得展开讨论。" * 30
        for n in range(1, 40)
    )
    notes = ws / ISSUE / "notes"
    (notes / "07-long.md").write_text(f"一个很长的讨论\n\nQ: 怎么看？\n\n{turns}\n", "utf-8")


def test_check_warns_past_the_size_limit_and_blocks_when_the_draft_box_is_configured(
    run, workspace, standin
):
    make_sendable(workspace)
    big_issue(workspace)
    assert run("draft", "-w", workspace, "--issue", ISSUE, "--offline").returncode == 0
    result = run("check", ISSUE, "-w", workspace)
    assert result.returncode == 0, result.stderr
    [line] = [ln for ln in result.stderr.splitlines() if "[size]" in ln]
    assert line.startswith("warning: wechat.html: [size] the article is ")
    assert "the draft API takes under 20,000 characters and 1 MB" in line
    assert "(largest sections: 话题讨论 " in line  # the long discussion comes first
    (workspace / "cover.png").write_bytes(png())
    config = workspace / "composer.toml"
    config.write_text(config.read_text("utf-8") + wechat_table(standin), encoding="utf-8")
    result = run("check", ISSUE, "-w", workspace)
    assert result.returncode == 1
    [blocking] = [ln for ln in result.stderr.splitlines() if "[size]" in ln]
    assert blocking == line.replace("warning: ", "error: ")
    refused = send(workspace)
    assert refused.returncode == 1 and "[size]" in refused.stderr and standin.log == []


def test_check_blocks_a_title_the_draft_api_refuses_and_a_missing_cover(run, workspace, standin):
    make_sendable(workspace)
    config = workspace / "composer.toml"
    config.write_text(config.read_text("utf-8") + wechat_table(standin), encoding="utf-8")
    assert run("draft", "-w", workspace, "--issue", ISSUE, "--offline").returncode == 0
    issue = workspace / ISSUE / "issue.md"
    long_title = "一份标题非常非常长的人工智能研究周报第二零二三年第四十七期特别加长版"
    text = re.sub(r"(?m)^title: .*$", f"title: {long_title}", issue.read_text("utf-8"), count=1)
    issue.write_text(text, encoding="utf-8")
    assert run("render", ISSUE, "-w", workspace).returncode == 0
    result = run("check", ISSUE, "-w", workspace)
    assert result.returncode == 1
    assert f"[wechat-title] the title is {len(long_title)} characters" in result.stderr
    assert "[wechat-cover] [delivery.wechat] cover: no file" in result.stderr


# -- wechat.html ----------------------------------------------------------------------
class Tags(HTMLParser):
    """Tags with their attributes and list depth, and every href."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict, int]] = []
        self.depth = self.max_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("ul", "ol"):
            self.depth += 1
            self.max_depth = max(self.max_depth, self.depth)
        self.tags.append((tag, dict(attrs), self.depth))

    def handle_endtag(self, tag):
        if tag in ("ul", "ol"):
            self.depth -= 1


def tags_of(page: str) -> Tags:
    parser = Tags()
    parser.feed(page)
    return parser


def article(page: str) -> str:
    return re.search(r"<body>(.*)</body>", page, re.S).group(1)


def md_citations(md: str) -> tuple[list[str], list[str]]:
    """(the numbers in the text in order, the 引用链接 lines) of wechat.md."""
    text, _, refs = md.partition("### 引用链接")
    return re.findall(r"<sup>\[(\d+)\]</sup>", text), re.findall(r"(?m)^\[\d+\] .*$", refs)


def html_citations(page: str) -> tuple[list[str], list[str]]:
    import html as htmllib

    text, _, refs = article(page).partition("引用链接")
    entries = [htmllib.unescape(e) for e in re.findall(r"<p [^>]*>(\[\d+\] [^<]*)</p>", refs)]
    return re.findall(r"<sup[^>]*>\[(\d+)\]</sup>", text), entries


@pytest.fixture(scope="module")
def rich(tmp_path_factory):
    from composer.testing import render

    out = tmp_path_factory.mktemp("rich")
    return render(RICH.replace("IMAGE_URL", "https://example.com/ring.png"), out)


def test_wechat_html_numbers_links_as_wechat_md_does(rendered, rich):
    outputs = [rich] + [
        {n: (folder / n).read_text("utf-8") for n in ("wechat.md", "wechat.html")}
        for folder in rendered.values()
    ]
    for files in outputs:
        assert html_citations(files["wechat.html"]) == md_citations(files["wechat.md"])
    numbers, entries = html_citations(rich["wechat.html"])
    assert numbers == ["1", "2", "1"]  # RULER again keeps its number
    assert entries == [
        "[1] RULER: https://github.com/hsiehjackson/RULER",
        "[2] 《Ring Attention with Blockwise Transformers》: https://arxiv.org/abs/2310.01889",
        "[3] Ring Attention 示意图: https://example.com/ring.png",  # images count, as in wechat.md
    ]


def test_wechat_html_is_styled_inline_only_and_passes_its_rules(rendered, rich):
    from composer.plugins.wechat_mp.rules import html_rules

    pages = [rich["wechat.html"]] + [
        (f / "wechat.html").read_text("utf-8") for f in rendered.values()
    ]
    for page in pages:
        assert not re.search(r"<style|<script|\sclass=|\sid=", page, re.I)
        body = tags_of(article(page))
        unstyled = {t for t, a, _ in body.tags if "style" not in a} - {"strong", "em", "br"}
        assert unstyled == set()
        assert html_rules(page) == []
        assert body.max_depth <= 2


def test_wechat_html_keeps_code_lists_images_and_only_weixin_links(rich):
    page = rich["wechat.html"]
    body = tags_of(article(page))
    assert "llama-3-8b&nbsp;&nbsp;&nbsp;&nbsp;--length&nbsp;131072" in page
    assert "requirements.txt<br>python&nbsp;run.py" in page
    assert [a["href"] for t, a, _ in body.tags if t == "a"] == [
        "https://mp.weixin.qq.com/s/qSJCNCH433EbF7Khr0FYrg"
    ]
    [img] = [a for t, a, _ in body.tags if t == "img"]
    assert img["src"] == "https://example.com/ring.png" and img["alt"] == "Ring Attention 示意图"
    assert body.max_depth == 2 and "◦</span>每张卡只存一块 KV<br>· 第三层的细节" in page
    assert "另见 &lt;b&gt;不是标签&lt;/b&gt;。" in page  # raw HTML in notes is text
    assert "jina-ai-launches-worlds-first-open-source-8k-text-embedding/ 的说明" in page
    follow = re.search(r"<section style=\"[^\"]*\"><p [^>]*><strong [^>]*>A</strong>", page)
    assert follow, "the follow-ups of a Q&A thread are set off in their own box"


def test_wechat_html_keeps_every_url_and_sentence(rendered, rich):
    from composer.pipeline.fidelity import lost

    source = RICH.replace("IMAGE_URL", "https://example.com/ring.png")
    assert lost(source, "wechat.html", rich["wechat.html"]) == []
    for sample in SAMPLES:
        page = (rendered[sample.name] / "wechat.html").read_text("utf-8")
        assert lost(sample.read_text("utf-8"), "wechat.html", page) == []


def test_disabling_the_plugin_changes_no_other_output(run, workspace, tmp_path):
    make_sendable(workspace)
    other = tmp_path / "other"
    shutil.copytree(workspace, other)
    config = other / "composer.toml"
    config.write_text(
        config.read_text("utf-8").replace("disable = []", 'disable = ["wechat_mp"]'), "utf-8"
    )
    for ws in (workspace, other):
        directory = f'\n[delivery.directory]\npath = "{ws / "site"}"\n'
        (ws / "composer.toml").write_text((ws / "composer.toml").read_text("utf-8") + directory)
        assert run("draft", "-w", ws, "--issue", ISSUE, "--offline").returncode == 0
    with_it, without = workspace / ISSUE / "out", other / ISSUE / "out"
    assert sorted(p.name for p in with_it.iterdir()) == sorted(
        [p.name for p in without.iterdir()] + ["wechat.html"]
    )
    for path in without.iterdir():
        if path.name != "email.eml":  # its Date and Message-ID differ by run
            assert path.read_bytes() == (with_it / path.name).read_bytes(), path.name
    [row] = [ln for ln in run("plugins", cwd=other).stdout.splitlines() if "wechat_mp" in ln]
    assert row.split()[-1] == "disabled"
    [row] = [ln for ln in run("plugins", cwd=workspace).stdout.splitlines() if "wechat_mp" in ln]
    assert "register_deliverers" in row and "register_renderers" in row and row.endswith("ok")
    assert run("check", ISSUE, "-w", other).returncode == 0
    sent = run("send", ISSUE, "-w", other)
    assert sent.returncode == 0 and "directory: sent" in sent.stdout


# -- composer preview: one paste --------------------------------------------------------
CHROMIUM = Path("/usr/bin/chromium")
READ_CLIPBOARD = """async () => {
  const items = await navigator.clipboard.read();
  for (const item of items) {
    if (item.types.includes("text/html")) return await (await item.getType("text/html")).text();
  }
  return "";
}"""


@pytest.fixture
def previewing(tmp_path):
    """`composer preview` of a rich issue; yields its URL."""
    from composer import testing

    source = tmp_path / "issue.txt"
    source.write_text(RICH.replace("IMAGE_URL", "https://example.com/ring.png"), "utf-8")
    with testing.preview(source, tmp_path) as url:
        yield url


def copied_html(url: str, without_clipboard_item: bool) -> tuple[str, str]:
    """Click 复制到公众号 in the preview's frame; (the status shown, the clipboard's text/html)."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install '.[test]')"
    )
    if not CHROMIUM.exists():
        pytest.skip("no /usr/bin/chromium (apt-get install chromium)")
    origin = url.rstrip("/")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=origin)
        # loopback only: the article's remote image is never fetched
        context.route(
            "**/*",
            lambda route: (
                route.continue_() if route.request.url.startswith(origin) else route.abort()
            ),
        )
        if without_clipboard_item:
            context.add_init_script("delete window.ClipboardItem;")
        page = context.new_page()
        page.goto(url)
        frame = page.frame_locator('iframe[title="公众号 · 复制到公众号"]')
        frame.get_by_role("button", name="复制到公众号").click()
        status = frame.locator("#status")
        sync_api.expect(status).to_contain_text("已复制")
        shown = status.inner_text()
        page.bring_to_front()
        html = page.evaluate(READ_CLIPBOARD)
        browser.close()
    return shown, html


@pytest.mark.slow
@pytest.mark.parametrize(
    "without_clipboard_item", [False, True], ids=["ClipboardItem", "execCommand"]
)
def test_the_copy_button_puts_the_styled_article_on_the_clipboard(
    previewing, without_clipboard_item
):
    page = urllib_get(previewing)
    assert 'title="公众号 · 复制到公众号"' in page and 'allow="clipboard-write"' in page
    shown, html = copied_html(previewing, without_clipboard_item)
    assert shown.startswith("已复制")
    assert "长上下文怎么评测" in html and "<sup" in html and "[1]" in html
    assert 'style="' in html and "<script" not in html.lower()
    assert "llama-3-8b" in html and "mp.weixin.qq.com/s/qSJCNCH433EbF7Khr0FYrg" in html


def urllib_get(url: str) -> str:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def test_the_scheduled_run_fills_the_draft_box(pushed_ws, standin):
    config = pushed_ws / "composer.toml"
    schedule = '\n[schedule]\ncron = "0 9 * * fri"\naction = "draft+send"\n'
    config.write_text(config.read_text("utf-8") + schedule, encoding="utf-8")
    shutil.copytree(pushed_ws / ISSUE / "notes", pushed_ws / "2026-W49" / "notes")
    env = {"COMPOSER_WECHAT_SECRET": SECRET}
    first = guarded(
        "schedule", "-w", pushed_ws, "--once", "--at", "2026-11-27T10:00", cwd=pushed_ws, env=env
    )
    assert first.returncode == 0 and standin.log == []  # a fresh workspace sends nothing
    due = guarded(
        "schedule", "-w", pushed_ws, "--once", "--at", "2026-12-04T09:00:30", cwd=pushed_ws, env=env
    )
    assert due.returncode == 0, due.stderr
    [draft] = standin.drafts.values()
    assert "2026-W49" in draft["title"] and "长上下文怎么评测" in draft["content"]
    assert draft["content_source_url"] == "https://weekly.test/weekly/2026-W49/"


# -- what a review found ---------------------------------------------------------------
def test_an_api_redirect_is_refused_and_the_secret_goes_nowhere_else(pushed_ws, standin):
    from pytest_httpserver import HTTPServer

    elsewhere = HTTPServer(host="127.0.0.1", port=0)
    elsewhere.expect_request(re.compile(".*")).respond_with_data("{}")
    elsewhere.start()
    try:
        target = f"http://127.0.0.1:{elsewhere.port}/cgi-bin/stable_token"
        for status in (307, 308, 302):
            standin.redirect = (status, target)
            result = send(pushed_ws)
            assert result.returncode == 1
            assert (
                f"HTTP {status}: a redirect to" in result.stderr
                and "check api_url" in result.stderr
            )
        assert elsewhere.log == [] and standin.drafts == {}
    finally:
        elsewhere.clear()
        elsewhere.stop()


def test_a_draft_add_whose_answer_was_lost_is_found_not_added_twice(pushed_ws, standin):
    standin.lose_answer = "/cgi-bin/draft/add"  # the draft is made, the answer never comes
    first = send(pushed_ws)
    assert first.returncode == 1 and len(standin.drafts) == 1
    again = send(pushed_ws)
    assert again.returncode == 0, again.stderr
    assert len(standin.drafts) == 1 and len(standin.calls("/cgi-bin/draft/add")) == 1
    assert standin.calls("/cgi-bin/draft/batchget") and standin.calls("/cgi-bin/draft/update")


def test_check_counts_the_images_wechat_addresses(pushed_ws, standin, run):
    """An article under the limit as rendered, over it once its images' addresses are
    WeChat's (~120 characters each, counted as 200): check refuses it before any call."""
    from composer.plugins.wechat_mp.article import article_of

    notes = pushed_ws / ISSUE / "notes"
    for old in notes.iterdir():
        old.unlink()
    images = "".join(f"![图{n}]({standin.url}/img/ring.png?n={n})\n\n" for n in range(20))

    def article(filler: str) -> str:
        (notes / "big.md").write_text(f"## 长文\n\n{filler}\n\n{images}", encoding="utf-8")
        assert run(
            "draft", "-w", pushed_ws, "--issue", ISSUE, "--offline", "--force"
        ).returncode in (0, 1)
        return article_of((pushed_ws / ISSUE / "out" / "wechat.html").read_text("utf-8"))

    base = len(article("开头。"))
    assert len(article("字" * (18_500 - base) + "。")) < 20_000
    checked = run("check", "-w", pushed_ws, ISSUE)
    assert checked.returncode == 1 and "[size]" in checked.stderr
    assert standin.log == []


@pytest.mark.parametrize("expires_in", ["abc", [1], "nan", 1e400, -5])
def test_an_unbelievable_token_life_is_not_cached_and_not_a_crash(pushed_ws, standin, expires_in):
    standin.expires_in = expires_in
    result = send(pushed_ws)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and len(standin.drafts) == 1


def test_an_errmsg_is_one_short_line(pushed_ws, standin):
    standin.fail["/cgi-bin/draft/add"] = (45009, "quota\nError: wechat: sent OK" + "x" * 5000)
    result = send(pushed_ws)
    errors = [ln for ln in result.stderr.splitlines() if "sent OK" in ln]
    assert result.returncode == 1 and len(errors) == 1 and errors[0].startswith("Error:")
    assert len(result.stderr) < 2000


def test_a_cover_that_is_no_image_and_a_gif_in_the_article_are_refused_by_check(
    pushed_ws, standin, run
):
    (pushed_ws / "cover.png").write_bytes(b"not an image at all")
    note = pushed_ws / ISSUE / "notes" / "06-rich.md"
    note.write_text(
        note.read_text("utf-8") + f"\n![动图]({standin.url}/img/spin.gif)\n", encoding="utf-8"
    )
    assert run("draft", "-w", pushed_ws, "--issue", ISSUE, "--offline", "--force").returncode == 0
    checked = run("check", "-w", pushed_ws, ISSUE)
    assert checked.returncode == 1
    assert "cover: cover.png is not a jpg, png, gif or bmp image" in checked.stderr
    assert "spin.gif: uploadimg takes only jpg or png" in checked.stderr
    assert send(pushed_ws).returncode == 1 and standin.log == []


def test_disabling_the_plugin_with_its_table_left_is_a_warning(pushed_ws, standin, run):
    config = pushed_ws / "composer.toml"
    config.write_text(
        config.read_text("utf-8").replace("disable = []", 'disable = ["wechat_mp"]'), "utf-8"
    )
    result = run("draft", "-w", pushed_ws, "--issue", ISSUE, "--offline", "--force")
    assert result.returncode == 0, result.stderr
    assert "[delivery.wechat]" in result.stderr and "ignored" in result.stderr
