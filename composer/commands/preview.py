"""``composer preview``: what every loaded renderer offers to look at, side by side.

A renderer with a ``preview(files)`` method returns frames (caption, HTML page,
width); each is served from its own URL in an iframe that may write to the
clipboard. A standard-library HTTP server on 127.0.0.1 serves the frames and the
rendered files from a temporary folder, only to requests whose ``Host`` is its own
address (127.0.0.1 or localhost with its port); a watcher thread re-renders when the
source file or a template changes, and the page reloads itself when the build number
moves.
"""

from __future__ import annotations

import html
import json
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from composer.contract.protocols import Preview as Frame

PAGE = """<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><title>{title} · preview</title>
<style>
body {{ margin: 0; font-family: -apple-system, "PingFang SC", "Noto Sans CJK SC", sans-serif;
        background: #e9ebee; }}
header {{ padding: 10px 16px; background: #20232a; color: #fff; font-size: 14px; }}
header a {{ color: #cfe3ff; margin-left: 8px; }}
main {{ display: flex; flex-wrap: wrap; gap: 16px; padding: 16px; align-items: flex-start; }}
figure {{ margin: 0; max-width: 100%; }}
figcaption {{ font-size: 12px; color: #555; margin-bottom: 6px; }}
iframe {{ border: 1px solid #ccd; background: #fff; height: 85vh; max-width: 100%; }}
.problems {{ color: #ffb4b4; }}
</style></head><body>
<header><strong>{title}</strong> · build <span id="build">{build}</span>
<span class="problems">{problems}</span> · files:{files}</header>
<main>
{frames}
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

FRAME = """<figure><figcaption>{caption}</figcaption>
<iframe src="/frame/{index}" width="{width}" title="{caption}"
 allow="clipboard-write"></iframe></figure>"""

KINDS = {".html": "text/html", ".md": "text/markdown", ".txt": "text/plain"}


class Preview:
    """Renders a source into a temporary folder and re-renders it when it changes."""

    def __init__(self, build_fn, watched: list[Path]) -> None:
        self.build_fn = build_fn
        self.watched = watched
        self.out = Path(tempfile.mkdtemp(prefix="composer-preview-"))
        self.build = 0
        self.title = ""
        self.problems = ""
        self.frames: list[Frame] = []
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
                self.title, warnings, self.frames = self.build_fn(self.out)
                self.problems = f" · {len(warnings)} warning(s)" if warnings else ""
            except Exception as exc:  # shown on the page; the server keeps running
                self.problems = f" · build failed: {exc}"
            self.build += 1
        return True

    def watch(self, stop: threading.Event, interval: float = 0.5) -> None:
        while not stop.wait(interval):
            self.rebuild_if_changed()

    def page(self, language: str) -> str:
        """The page of frames, one per preview the loaded renderers offered."""
        files = sorted(p.name for p in self.out.iterdir() if p.is_file())
        links = "".join(f' <a href="/out/{html.escape(f)}">{html.escape(f)}</a>' for f in files)
        frames = "\n".join(
            FRAME.format(index=i, caption=html.escape(f.caption), width=int(f.width))
            for i, f in enumerate(self.frames)
        )
        return PAGE.format(
            lang=html.escape(language),
            title=html.escape(self.title),
            build=self.build,
            problems=html.escape(self.problems),
            files=links or " none",
            frames=frames or "<p>No loaded renderer offers a preview.</p>",
        )


def make_handler(preview: Preview, language: str):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows our own lines
            pass

        def parse_request(self) -> bool:
            """Only requests addressed to this server by name: ``Host`` must be
            127.0.0.1:PORT or localhost:PORT (DNS rebinding: a web page whose name
            resolves to 127.0.0.1 must not read the preview). Others get 421, no body."""
            if not super().parse_request():
                return False
            if allowed_host(self.headers.get_all("Host") or [], self.server.server_address[1]):
                return True
            self.send_response(421)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return False

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
                self.send(preview.page(language).encode(), "text/html; charset=utf-8")
            elif path == "/build":
                self.send(json.dumps({"build": preview.build}).encode(), "application/json")
            elif path == "/favicon.ico":
                self.send(b"", "image/x-icon", 204)
            elif path.startswith("/frame/") and path[7:].isdigit():
                frames = preview.frames
                index = int(path[7:])
                if index < len(frames):
                    self.send(frames[index].page.encode(), "text/html; charset=utf-8")
                else:
                    self.send(b"no such frame", "text/plain", 404)
            elif path.startswith("/out/") and "/" not in path[5:] and path[5:]:
                file = preview.out / path[5:]
                if file.is_file():
                    kind = KINDS.get(file.suffix, "application/octet-stream")
                    self.send(file.read_bytes(), f"{kind}; charset=utf-8")
                else:
                    self.send(b"not rendered", "text/plain", 404)
            else:
                self.send(b"not found", "text/plain", 404)

    return Handler


def allowed_host(hosts: list[str], port: int) -> bool:
    """Is the request's one ``Host`` header this server's address (127.0.0.1 or
    localhost, with the port it bound)?"""
    return len(hosts) == 1 and hosts[0].strip().lower() in (
        f"127.0.0.1:{port}",
        f"localhost:{port}",
    )


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


def frames_of(app, out: Path) -> list[Frame]:
    """The previews every loaded renderer offers of its outputs in ``out``.

    A renderer whose ``preview`` raises gets a frame saying so, and a warning.
    """
    from composer.plugin_manager import describe

    found: list[Frame] = []
    for name, (owner, renderer) in app.renderers.items():
        offer = getattr(renderer, "preview", None)
        files = {
            f: (out / f).read_text(encoding="utf-8", errors="replace")
            for f in renderer.outputs
            if (out / f).is_file()
        }
        if offer is None or not files:
            continue
        try:
            with app.manager.trace(owner, f"preview {name}"):
                found += [Frame(*frame) for frame in offer(files)]
        except Exception as exc:
            app.broken_plugin(owner, f"preview: {describe(exc)}")
            app.report.warn(f"plugin {owner}", f"preview of {name} failed ({describe(exc)})")
            message = html.escape(f"plugin {owner}: preview of {name} failed ({describe(exc)})")
            found.append(Frame(name, f"<!DOCTYPE html><p>{message}</p>", 375))
    return found


def preview_builder(source: str | None, workspace):
    """(build function, watched paths, language) for ``composer preview``.

    The build function renders into a folder and returns (title, warnings, frames).
    """
    from composer.commands.common import locate, open_app
    from composer.errors import UserError
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
        warnings = []
        try:
            render_issue(run_app, issue, out)
        except UserError as exc:  # a renderer failed: show the others
            warnings.append(str(exc))
        frames = frames_of(run_app, out)
        return issue.title, warnings + [str(w) for w in run_app.report.warnings], frames

    return build, watched, app.settings.newsletter.language


def _reopen(app):
    from composer.app import open_app

    return open_app(app.workspace)
