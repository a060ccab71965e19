"""`composer draft` against compression bombs served on 127.0.0.1: peak RSS and CPU.

Four bomb feeds (gzip and deflate of 1 GiB of zeros, ~1 MB each; "gzip, gzip" and
"gzip, identity, deflate" around 8 GiB of zeros, ~19 KB each) and one good feed, with
the default `max_bytes` (5 MB). Prints the draft's peak RSS and CPU seconds (from
wait4), wall time, and its warnings. Target: under 250 MB peak RSS (issue 12).

Usage: python bench/bombs.py [--python PYTHON] [--double-gib N] [--limit-as-gib N]
  --python        the interpreter whose `composer` to measure (another checkout's venv)
  --limit-as-gib  cap the draft's address space, so a version without bounded
                  decoding fails with MemoryError instead of taking the machine down
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from bombs import GIB, bombs, serve  # noqa: E402

ISSUE = "2026-W48"
GOOD = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Good</title><item>'
    b"<title>Good post</title><link>https://good.example/1</link>"
    b"<pubDate>Wed, 25 Nov 2026 10:00:00 GMT</pubDate></item></channel></rss>"
)

# ru_maxrss of a forked child counts its parent's RSS at the fork: the draft reports
# its own peak (VmHWM) as it exits
LIMIT = """
import atexit, resource, runpy, sys
cap = int(sys.argv.pop(1))
if cap:
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
def peak():
    with open("/proc/self/status") as status:
        hwm = [ln.split()[1] for ln in status if ln.startswith("VmHWM:")]
    print("VmHWM", *hwm, file=sys.stderr)
atexit.register(peak)
sys.argv[0] = "composer"
runpy.run_module("composer", run_name="__main__", alter_sys=True)
"""


def draft(python: str, root: Path, limit: int) -> tuple[int, resource.struct_rusage, float, str]:
    """(exit code, rusage, wall seconds, stderr) of one draft, measured with wait4."""
    command = [python, "-c", LIMIT, str(limit), "draft", "-w", root, "--issue", ISSUE, "--force"]
    env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1")
    with open(root / "stderr.txt", "w+") as err:
        started = time.monotonic()
        child = subprocess.Popen(command, cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        err.seek(0)
        return child.returncode, usage, wall, err.read()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--double-gib", type=int, default=8)
    parser.add_argument("--limit-as-gib", type=float, default=0)
    args = parser.parse_args()
    routes = bombs(GIB, args.double_gib * GIB)
    server = serve(routes, extra={"/good": ("application/rss+xml", GOOD)})
    base = f"http://127.0.0.1:{server.server_address[1]}"
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        urls = ", ".join(f'"{base}{path}"' for path in [*routes, "/good"])
        (root / "composer.toml").write_text(
            f'[newsletter]\ntimezone = "Asia/Shanghai"\n\n[feeds]\nurls = [{urls}]\ntimeout = 60\n',
            encoding="utf-8",
        )
        code, usage, wall, stderr = draft(args.python, root, int(args.limit_as_gib * GIB))
        published = (root / ISSUE / "issue.md").exists() and "Good post" in (
            root / ISSUE / "issue.md"
        ).read_text(encoding="utf-8")
    server.shutdown()
    for path, (encoding, body) in routes.items():
        print(f"bomb {path:24} Content-Encoding: {encoding:24} {len(body):>9,} bytes")
    print(f"exit code {code}; good feed published: {published}")
    hwm = [ln.split()[1] for ln in stderr.splitlines() if ln.startswith("VmHWM ")]
    stderr = "\n".join(ln for ln in stderr.splitlines() if not ln.startswith("VmHWM "))
    print(f"peak RSS {int(hwm[0]) / 1024 if hwm else usage.ru_maxrss / 1024:.0f} MB")
    print(
        f"CPU {usage.ru_utime + usage.ru_stime:.2f} s (user {usage.ru_utime:.2f}, "
        f"system {usage.ru_stime:.2f}); wall {wall:.2f} s"
    )
    print(stderr.strip())


if __name__ == "__main__":
    main()
