"""Time `composer render` (all outputs) against ../shared/tools/ref_render.py.

Both run as processes on the same synthetic 40-item issue, median of N runs, in one
run of this script; then in-process render time for 100..1000 items (should grow
linearly). Target ratio <= 1.2, limit 1.5 (issue 4).
Usage: python bench/render.py [N]   (REF_RENDER=path/to/ref_render.py when ../shared is elsewhere)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REF = Path(os.environ.get("REF_RENDER") or ROOT.parent / "shared" / "tools" / "ref_render.py")


def synthetic(items: int) -> str:
    """A digest of ``items`` items spread over every built-in section kind."""
    per = max(1, items // 5)
    parts = ["对模型规模的看法\n\nQ: 五年后会怎样？\n"]
    parts += [
        f"研究员{n}：回复 {n}，见 https://arxiv.org/abs/2401.{n:05d} 的讨论。"
        for n in range(1, per + 1)
    ]
    parts.append("## 论文分享")
    parts += [
        f"{n}.《论文标题 {n}》https://arxiv.org/abs/2402.{n:05d}\n\n这篇论文研究了长上下文，"
        f"**要点**：`code` 与 [链接](https://example.org/{n})。"
        for n in range(1, per + 1)
    ]
    parts.append("## 讨论&杂谈")
    parts += [f"D: 观点 {n} https://x.example/{n}\n\nF: 跟进 {n}" for n in range(1, per + 1)]
    parts.append("## 简短问答")
    parts += [f"Q: 问题 {n}？\n\nA: 回答 {n}，价格 $1。\n\nA1: 补充 {n}" for n in range(1, per + 1)]
    parts.append("## 延伸阅读")
    parts.append("\n".join(f"- 链接 {n}: https://news.example/{n}" for n in range(1, per + 1)))
    return "\n\n".join(parts) + "\n"


def median_time(cmd: list, runs: int, env: dict) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            cmd, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def in_process(items: int, out: Path) -> float:
    from composer.app import open_app
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text
    from composer.pipeline.render import render_issue

    app = open_app(None)
    start = time.perf_counter()
    issue = parse_text(synthetic(items), "bench.txt", app.sections, Report())
    render_issue(app, issue, out)
    return time.perf_counter() - start


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    env = dict(os.environ, COMPOSER_PLUGINS="builtins")
    # Measure the steady state an editor sees: bytecode cached after the warm-up run
    # (this machine sets PYTHONDONTWRITEBYTECODE, which would recompile an editable
    # install's modules on every run but not the reference's precompiled packages).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "issue.txt"
        src.write_text(synthetic(40), encoding="utf-8")
        ours = [sys.executable, "-m", "composer", "render", src, "--out", tmp / "ours"]
        median_time(ours, 1, env)
        t_ours = median_time(ours, runs, env)
        print(f"composer render (4 formats, 40 items): {t_ours * 1000:7.1f} ms")
        if REF.exists():
            ref = [sys.executable, REF, src, tmp / "ref"]
            median_time(ref, 1, env)
            t_ref = median_time(ref, runs, env)
            print(f"ref_render.py (email + copy)         : {t_ref * 1000:7.1f} ms")
            print(
                f"ratio                                : {t_ours / t_ref:7.2f}x "
                "(target <= 1.2, limit 1.5)"
            )
        else:
            print(f"{REF} not found: no reference ratio")
        in_process(20, tmp / "warm")
        base = None
        for items in (100, 250, 500, 1000):
            seconds = in_process(items, tmp / f"n{items}")
            base = base or seconds / items
            print(
                f"in-process {items:5d} items: {seconds * 1000:8.1f} ms "
                f"({seconds / items / base:4.2f}x the per-item time at 100)"
            )


if __name__ == "__main__":
    main()
