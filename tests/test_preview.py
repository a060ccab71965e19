"""`composer preview`: serves the outputs, rebuilds on change, loads cleanly in Chromium."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request

import pytest
from conftest import SAMPLES

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def preview(tmp_path):
    from composer import testing

    source = tmp_path / "issue.txt"
    source.write_text(SAMPLES[2].read_text(encoding="utf-8"), encoding="utf-8")
    with testing.preview(source, tmp_path) as url:
        yield url, source


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def frames(page: str) -> dict[str, str]:
    """{caption: frame path} of the preview page's iframes."""
    found = re.findall(r'<figcaption>([^<]*)</figcaption>\s*<iframe src="(/frame/\d+)"', page)
    return {caption: path for caption, path in found}


def test_serves_every_renderers_previews_and_rebuilds_on_change(preview):
    url, source = preview
    page = get(url)
    shown = frames(page)
    assert "Week-AI-01：LLaMA" in page and "/out/email.html" in page
    assert {"Email · 600 px", "Email · 375 px"} <= set(shown)
    assert page.count('allow="clipboard-write"') == len(shown)
    assert "LLaMA" in get(url + shown["Email · 375 px"].lstrip("/"))
    wechat = get(url + shown["WeChat Markdown (as doocs/md shows it)"].lstrip("/"))
    assert "<h3>" in wechat or "<h2>" in wechat
    build = json.loads(get(url + "build"))["build"]
    source.write_text(
        source.read_text(encoding="utf-8") + "\n## 追加\n\n预览里新加的一句。\n", encoding="utf-8"
    )
    deadline = time.time() + 20
    while json.loads(get(url + "build"))["build"] == build and time.time() < deadline:
        time.sleep(0.2)
    assert "预览里新加的一句" in get(url + "out/wechat.md")


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (apt-get install chromium)")
def test_page_loads_in_headless_chromium_without_console_errors(preview, tmp_path):
    url, _ = preview
    result = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp_path / 'chromium'}",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=4000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert "Week-AI-01：LLaMA" in result.stdout
    assert "<iframe" in result.stdout
    console = [ln for ln in result.stderr.splitlines() if ":CONSOLE" in ln]
    assert console == []


def raw_request(url: str, head: str) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) of one request written byte for byte to the server."""
    import socket

    port = int(url.rstrip("/").rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.replace("\n", "\r\n").encode() + b"\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    top, _, body = data.partition(b"\r\n\r\n")
    status, *lines = top.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines)}
    return int(status.split()[1]), headers, body


def test_only_requests_addressed_to_the_preview_by_name_are_answered(preview):
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own name
    as Host; the server answers only Host 127.0.0.1:PORT or localhost:PORT."""
    url, _ = preview
    port = url.rstrip("/").rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LocalHost:{port}"):
        status, _, body = raw_request(url, f"GET / HTTP/1.1\nHost: {host}\nConnection: close\n")
        assert status == 200 and b"/out/email.html" in body, host
    status, _, body = raw_request(url, f"GET /out/email.html HTTP/1.0\nHost: 127.0.0.1:{port}\n")
    assert status == 200 and b"LLaMA" in body
    refused = [
        f"GET / HTTP/1.1\nHost: evil.example:{port}\n",
        f"GET /out/email.html HTTP/1.1\nHost: evil.example:{port}\n",
        "GET /frame/0 HTTP/1.1\nHost: evil.example\n",
        f"GET /build HTTP/1.1\nHost: 127.0.0.1.evil.example:{port}\n",
        "GET / HTTP/1.1\nHost: 127.0.0.1\n",  # no port: not the URL we printed
        f"GET / HTTP/1.1\nHost: 127.0.0.1:{int(port) + 1}\n",
        f"GET / HTTP/1.1\nHost: [::1]:{port}\n",
        "GET / HTTP/1.0\n",  # no Host at all
        f"GET / HTTP/1.1\nHost: localhost:{port}\nHost: evil.example:{port}\n",
        f"HEAD / HTTP/1.1\nHost: evil.example:{port}\n",
        f"POST / HTTP/1.1\nHost: evil.example:{port}\nContent-Length: 0\n",
    ]
    for head in refused:
        status, headers, body = raw_request(url, head)
        assert (status, headers.get("content-length"), body) == (421, "0", b""), head
