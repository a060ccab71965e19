"""``composer preview``: the email at 600 and 375 px and the WeChat text side by side.

A standard-library HTTP server on 127.0.0.1 serves the rendered outputs from a
temporary folder; a watcher thread re-renders when the source file or a template
changes, and the page reloads itself when the build number moves.
"""

from __future__ import annotations

import html
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} · preview</title>
<style>
body {{ margin: 0; font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
        background: #e9ebee; }}
header {{ padding: 10px 16px; background: #20232a; color: #fff; font-size: 14px; }}
main {{ display: flex; gap: 16px; padding: 16px; align-items: flex-start; overflow-x: auto; }}
figure {{ margin: 0; }}
figcaption {{ font-size: 12px; color: #555; margin-bottom: 6px; }}
iframe {{ border: 1px solid #ccd; background: #fff; height: 85vh; }}
.problems {{ color: #b00020; }}
</style></head><body>
<header><strong>{title}</strong> · build <span id="build">{build}</span>
<span class="problems">{problems}</span></header>
<main>
<figure><figcaption>Email · 600 px</figcaption>
<iframe src="/out/email.html" width="640" title="email 600"></iframe></figure>
<figure><figcaption>Email · 375 px</figcaption>
<iframe src="/out/email.html" width="375" title="email 375"></iframe></figure>
<figure><figcaption>WeChat</figcaption>
<iframe src="/wechat.html" width="375" title="wechat"></iframe></figure>
</main>
<script>
setInterval(async () => {{
  try {{
    const r = await fetch("/build");
    const b = await r.json();
    if (String(b.build) !== document.getElementById("build").textContent) location.reload();
  }} catch (e) {{}}
}}, 1500);
</script>
</body></html>
"""

WECHAT_PAGE = """<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">
<style>body {{ margin: 0; padding: 16px; font-size: 15px; line-height: 1.75; color: #333;
font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
word-break: break-word; }}
a {{ color: #576b95; }} blockquote {{ margin: 0; padding-left: 10px; border-left: 3px solid #ddd;
color: #666; }} pre {{ white-space: pre-wrap; background: #f6f8fa; padding: 8px; }}
img {{ max-width: 100%; }}</style></head><body>{body}</body></html>"""


class Preview:
    """Renders a source into a temporary folder and re-renders it when it changes."""

    def __init__(self, build_fn, watched: list[Path]) -> None:
        self.build_fn = build_fn
        self.watched = watched
        self.out = Path(tempfile.mkdtemp(prefix="composer-preview-"))
        self.build = 0
        self.title = ""
        self.problems = ""
        self.lock = threading.Lock()
        self._stamp = None

    def stamp(self):
        stamps = []
        for path in self.watched:
            files = [path] if path.is_file() else sorted(path.rglob("*")) if path.is_dir() else []
            stamps += [(str(f), f.stat().st_mtime_ns) for f in files if f.is_file()]
        return tuple(stamps)

    def rebuild_if_changed(self) -> bool:
        stamp = self.stamp()
        if stamp == self._stamp:
            return False
        self._stamp = stamp
        with self.lock:
            try:
                self.title, warnings = self.build_fn(self.out)
                self.problems = f" · {len(warnings)} warning(s)" if warnings else ""
            except Exception as exc:  # shown on the page; the server keeps running
                self.problems = f" · build failed: {exc}"
            self.build += 1
        return True

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.wait(interval):
            self.rebuild_if_changed()


def make_handler(preview: Preview, language: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows our own lines
            pass

        def send(self, body: bytes, kind: str, status: int = 200) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            path = self.path.split("?", 1)[0]
            if path == "/":
                page = PAGE.format(
                    lang=language,
                    title=html.escape(preview.title),
                    build=preview.build,
                    problems=html.escape(preview.problems),
                )
                self.send(page.encode(), "text/html; charset=utf-8")
            elif path == "/build":
                self.send(json.dumps({"build": preview.build}).encode(), "application/json")
            elif path == "/favicon.ico":
                self.send(b"", "image/x-icon", 204)
            elif path == "/wechat.html":
                self.send(self.wechat(), "text/html; charset=utf-8")
            elif path.startswith("/out/") and "/" not in path[5:] and path[5:]:
                file = preview.out / path[5:]
                if file.is_file():
                    kinds = {".html": "text/html", ".md": "text/markdown", ".txt": "text/plain"}
                    kind = kinds.get(file.suffix, "application/octet-stream")
                    self.send(file.read_bytes(), f"{kind}; charset=utf-8")
                else:
                    self.send(b"not rendered", "text/plain", 404)
            else:
                self.send(b"not found", "text/plain", 404)

        def wechat(self) -> bytes:
            """wechat.md as the editor shows it: raw <sup> kept, every newline a break."""
            from markdown_it import MarkdownIt

            source = preview.out / "wechat.md"
            text = source.read_text(encoding="utf-8") if source.exists() else ""
            body = MarkdownIt("commonmark", {"html": True, "breaks": True}).render(text)
            return WECHAT_PAGE.format(body=body).encode()

    return Handler


def serve(preview: Preview, port: int, language: str, ready=None, stop=None) -> None:
    """Serve until interrupted (or ``stop`` is set); ``ready(url)`` is called once up."""
    preview.rebuild_if_changed()
    server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(preview, language))
    stop = stop or threading.Event()
    watcher = threading.Thread(target=preview.watch, args=(stop,), daemon=True)
    watcher.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    if ready:
        ready(url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        while not stop.wait(0.2):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.shutdown()
        server.server_close()
        time.sleep(0)


def preview_builder(source: str | None, workspace):
    """(build function, watched paths, language) for ``composer preview``."""
    from composer.commands.common import locate, open_app
    from composer.pipeline.assemble import read_issue
    from composer.pipeline.render import render_issue

    app, path, _, label = locate(source, Path("."), workspace)
    watched = [path]
    if app.workspace:
        watched.append(app.workspace / "templates")

    def build(out: Path):
        fresh = open_app(workspace, required=False) if app.workspace is None else None
        run_app = fresh or _reopen(app)
        issue = read_issue(run_app, path, label)
        issue.title = issue.title or run_app.settings.newsletter.title
        render_issue(run_app, issue, out)
        return issue.title, [str(w) for w in run_app.report.warnings]

    return build, watched, app.settings.newsletter.language


def _reopen(app):
    from composer.app import open_app

    return open_app(app.workspace)
