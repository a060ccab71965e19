"""Run axe-core over HTML files in one headless Chromium start (no playwright needed).

A runner page, served with the files on 127.0.0.1, loads each file in an iframe,
evaluates axe.min.js inside it, runs ``axe.run`` and writes the violations as JSON
into its own DOM, which ``chromium --dump-dom`` prints.

    python tests/axe_check.py FILE.html ...     # prints the violations per file
"""

from __future__ import annotations

import functools
import html
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# where .ci/run installs it (npm install --prefix build/axe axe-core@4)
DEFAULT_AXE = ROOT / "build" / "axe" / "node_modules" / "axe-core" / "axe.min.js"

RUNNER = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>axe runner</title></head>
<body><pre id="results"></pre>
<script>
const pages = %s;
async function main() {
  const axeSource = await (await fetch("axe.min.js")).text();
  const results = {};
  for (const page of pages) {
    const frame = document.createElement("iframe");
    frame.style.width = "1024px";
    frame.style.height = "3000px";
    const loaded = new Promise((resolve) => (frame.onload = resolve));
    frame.src = page;
    document.body.appendChild(frame);
    await loaded;
    try {
      frame.contentWindow.eval(axeSource);
      const found = await frame.contentWindow.axe.run(frame.contentDocument, {
        resultTypes: ["violations"],
      });
      results[page] = found.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target, summary: n.failureSummary })),
      }));
    } catch (error) {
      results[page] = { error: String(error) };
    }
    frame.remove();
  }
  document.getElementById("results").textContent = JSON.stringify(results);
}
main();
</script></body></html>
"""


def axe_path() -> Path:
    return Path(os.environ.get("AXE_CORE_JS") or DEFAULT_AXE)


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


def run_axe(files: list[Path], axe_js: Path, browser: str) -> dict[Path, list | dict]:
    """{file: violations (or {"error": ...})}, every file checked in one Chromium start."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        pages = []
        for n, path in enumerate(files):
            (folder / f"page{n}.html").write_bytes(Path(path).read_bytes())
            pages.append(f"page{n}.html")
        shutil.copy(axe_js, folder / "axe.min.js")
        (folder / "runner.html").write_text(RUNNER % json.dumps(pages), encoding="utf-8")
        handler = functools.partial(_Quiet, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            dom = _dump_dom(
                browser, f"http://127.0.0.1:{server.server_address[1]}/runner.html", folder
            )
        finally:
            server.shutdown()
            server.server_close()
    m = re.search(r'<pre id="results">(.*?)</pre>', dom, re.S)
    if not m or not m.group(1):
        raise RuntimeError(f"axe wrote no results; Chromium printed: {dom[-500:]!r}")
    results = json.loads(html.unescape(m.group(1)))
    return {files[int(page[4:-5])]: found for page, found in results.items()}


def _dump_dom(browser: str, url: str, folder: Path) -> str:
    result = subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={folder / 'profile'}",
            "--virtual-time-budget=30000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    return result.stdout


if __name__ == "__main__":
    found = run_axe([Path(a) for a in sys.argv[1:]], axe_path(), chromium() or "chromium")
    for path, violations in found.items():
        print(path)
        for v in violations if isinstance(violations, list) else [violations]:
            targets = [n["target"] for n in v.get("nodes", [])][:5]
            print(f"  {v.get('impact')} {v.get('id')}: {v.get('help', v)} {targets}")
