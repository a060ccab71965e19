"""`composer draft` with 60 feeds at 200 ms latency each, against a sequential
fetch-and-parse loop over the same feeds (the way rss2email works), in one run.

Also prints the second (all-304) draft and the draft's peak memory.
Target: >= 15x faster than the sequential loop (issue 5).
Usage: python bench/feeds.py [FEEDS] [LATENCY_SECONDS]
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ISSUE = "2026-W48"
REPEAT = 5


def feed(n: int) -> bytes:
    items = "".join(
        f"<item><title>Post {n}.{k}</title><link>https://feed{n}.example/{k}</link>"
        f"<guid>https://feed{n}.example/{k}</guid><pubDate>Wed, 25 Nov 2026 1{k}:00:00 GMT"
        f"</pubDate><description>Summary of post {k} of feed {n}.</description></item>"
        for k in range(5)
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {n}</title>'
        f"{items}</channel></rss>"
    ).encode()


def serve(latency: float) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            time.sleep(latency)
            n = int(self.path.rsplit("/", 1)[1])
            etag = f'"feed-{n}"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            body = feed(n)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 256  # the default backlog (5) drops concurrent connections
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def sequential(urls: list[str]) -> tuple[float, int]:
    import feedparser
    import httpx

    start = time.perf_counter()
    entries = 0
    with httpx.Client() as client:
        for url in urls:
            entries += len(feedparser.parse(client.get(url).content).entries)
    return time.perf_counter() - start, entries


def draft_twice(urls: list[str]) -> tuple[float, float, int, int]:
    """Seconds of a first draft and an all-304 second draft in a new workspace."""
    with tempfile.TemporaryDirectory() as tmp:
        ws = Path(tmp)
        listed = ",\n  ".join(f'"{u}"' for u in urls)
        (ws / "composer.toml").write_text(
            f'[newsletter]\ntimezone = "Asia/Shanghai"\n\n[feeds]\nurls = [\n  {listed}\n]\n'
            "concurrency = 64\n",
            encoding="utf-8",
        )
        env = dict(os.environ, COMPOSER_PLUGINS="builtins")
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        cmd = [sys.executable, "-m", "composer", "draft", "-w", str(ws), "--issue", ISSUE]
        start = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, capture_output=True)
        first = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([*cmd, "--force"], check=True, env=env, capture_output=True)
        second = time.perf_counter() - start
        kept = (ws / ISSUE / "issue.md").read_text(encoding="utf-8").count("来源：")
        return first, second, kept, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    server = serve(latency)
    base = f"http://127.0.0.1:{server.server_address[1]}/feed"
    urls = [f"{base}/{n}" for n in range(count)]
    runs = [draft_twice(urls) for _ in range(REPEAT)]
    first, second = min(r[0] for r in runs), min(r[1] for r in runs)
    kept, peak_kb = runs[-1][2], max(r[3] for r in runs)
    seq, entries = sequential(urls)
    server.shutdown()
    print(
        f"{count} feeds, {latency * 1000:.0f} ms latency each, {entries} entries "
        f"(drafts: best of {REPEAT})"
    )
    print(f"sequential fetch + parse loop : {seq:6.2f} s")
    print(
        f"composer draft (first run)    : {first:6.2f} s   {seq / first:5.1f}x faster "
        f"(target >= 15x); {kept} entries kept"
    )
    print(f"composer draft (all 304)      : {second:6.2f} s   {seq / second:5.1f}x faster")
    print(f"composer draft peak memory    : {peak_kb / 1024:6.1f} MiB")


if __name__ == "__main__":
    main()
