"""`composer draft` with 60 feeds at 200 ms latency each, against a sequential
fetch-and-parse loop over the same feeds (the way rss2email works), in one run.

Prints the ratio of the best and of the median draft (REPEAT drafts, each measured
with wait4: wall and CPU seconds), the second (all-304) draft and the draft's peak
memory. The CPU seconds are what a slower machine pays on top of the network wait.
Target: >= 15x faster than the sequential loop (issue 5).
Usage: python bench/feeds.py [FEEDS] [LATENCY_SECONDS] [REPEAT]
"""

from __future__ import annotations

import os
import statistics
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


def timed(cmd: list, env: dict) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS KiB) of one process, measured with wait4."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(map(str, cmd))} failed:\n{child.stderr.read().decode()}")
    child.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def draft_twice(urls: list[str]) -> tuple[tuple, tuple, int]:
    """(wall, CPU, peak) of a first draft and of an all-304 second draft in a new
    workspace, and the entries kept."""
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
        first = timed(cmd, env)
        second = timed([*cmd, "--force"], env)
        kept = (ws / ISSUE / "issue.md").read_text(encoding="utf-8").count("来源：")
        return first, second, kept


def main() -> None:
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    latency = float(sys.argv[2]) if len(sys.argv) > 2 else 0.2
    repeat = int(sys.argv[3]) if len(sys.argv) > 3 else REPEAT
    server = serve(latency)
    base = f"http://127.0.0.1:{server.server_address[1]}/feed"
    urls = [f"{base}/{n}" for n in range(count)]
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    runs = [draft_twice(urls) for _ in range(repeat)]
    seq, entries = sequential(urls)
    server.shutdown()
    print(f"{count} feeds, {latency * 1000:.0f} ms latency, {entries} entries; {repeat} drafts")
    print(f"sequential fetch + parse loop : {seq:6.2f} s")
    for label, n in (("first run", 0), ("all 304", 1)):
        walls = sorted(r[n][0] for r in runs)
        cpus = sorted(r[n][1] for r in runs)
        best, median = walls[0], statistics.median(walls)
        print(
            f"composer draft ({label:9}) : best {best:5.2f} s {seq / best:5.1f}x, median "
            f"{median:5.2f} s {seq / median:5.1f}x, worst {walls[-1]:5.2f} s; CPU best "
            f"{cpus[0]:4.2f} s, median {statistics.median(cpus):4.2f} s"
            + (" (target >= 15x)" if n == 0 else "")
        )
    print(f"entries kept                  : {runs[-1][2]}")
    print(f"composer draft peak memory    : {max(r[0][2] for r in runs) / 1024:6.1f} MiB")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
