"""`composer render` and `composer draft --offline` at 1k, 5k, 20k and 50k items.

A realistic mix, generated in the dialect: half link items in three link sections
(some with a note and a 来源 line), a tenth papers with summaries (in sections
of under 1,000), Q&A turns
(Q, A, A1 per question) and discussion replies (five 研究员N per topic). `render` reads
one file; `draft` reads the same text cut into four note files (so sections merge),
writes issue.md and renders it. Each run is a process measured with wait4: wall
seconds, CPU seconds and peak RSS, and per 1,000 items. Target: 50k within 12x of 5k
(near-linear; 10x is linear).

Usage: python bench/scale.py [SIZES ...] [--runs N] [--python PYTHON]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ISSUE = "2026-W48"
NOTES = 4
LINK_SECTIONS = ("链接", "延伸阅读", "推荐阅读")
# a paper numbered 1000 or more is an <ol start=1000> in email.html, whose number the
# fidelity checks do not count as text: papers go to several sections of < 1000 each
PAPER_SECTIONS = ("论文分享", "论文推荐", "论文分析", "Papers", "Reading", "论文")
PAPERS_PER_SECTION = 900


def _links(first: int, count: int) -> list[str]:
    out = []
    for n in range(first, first + count):
        line = f"- 链接标题 {n} 关于长上下文与检索: https://news{n % 97}.example/post/{n}"
        if n % 3 == 0:
            line += f"\n    一段关于链接 {n} 的说明，提到 **要点** 与 `code_{n}`。"
        if n % 4 == 0:
            line += f"\n    来源：来源站点 {n % 13}"
        out.append(line)
    return out


def _papers(first: int, count: int) -> list[str]:
    return [
        f"{k}.《论文标题 {n}：Scaling Laws 第 {n} 篇》https://arxiv.org/abs/24{n % 12 + 1:02d}."
        f"{n:05d}\n\n这篇论文研究了长上下文外推 {n}，**要点**：`code` 与 "
        f"[代码](https://github.com/lab{n % 31}/repo{n})。结论是规模第 {n} 号实验有效。"
        for k, n in enumerate(range(first, first + count), 1)
    ]


def _qa(first: int, turns: int) -> list[str]:
    out = []
    for n in range(first, first + max(1, turns // 3)):
        out.append(
            f"Q: 问题 {n}：如何稳定地微调模型 {n} 号？\n\n"
            f"A: 回答 {n}，可以参考 https://qa.example/{n} 的做法，价格 $1。\n\n"
            f"A1: 补充 {n}，另一种看法是先做数据清洗第 {n} 轮。"
        )
    return out


def _discussions(first: int, replies: int) -> list[str]:
    out = []
    for topic in range(first, first + max(1, replies // 5)):
        out.append(f"关于话题 {topic} 的看法与讨论")
        out += [
            f"研究员{r}：第 {topic}.{r} 条回复，见 https://arxiv.org/abs/2305.{topic:05d}v{r} "
            f"的讨论，观点编号 {topic * 10 + r}。"
            for r in range(1, 6)
        ]
    return out


def digest(items: int, part: int = 0, parts: int = 1) -> str:
    """Part ``part`` of ``parts`` of a digest of about ``items`` items."""
    share = items // parts
    base = part * share
    links, papers = share // 2, share // 10
    qa = discussion = (share - links - papers) // 2
    out = ["## 话题讨论", *_discussions(base // 5 + 1, discussion)]
    sections = min(len(PAPER_SECTIONS), -(-papers * parts // PAPERS_PER_SECTION))
    for k, title in enumerate(PAPER_SECTIONS[:sections]):
        out += [f"## {title}", *_papers(base + 1 + k * papers // sections, papers // sections)]
    out += ["## 简短问答", *_qa(base // 3 + 1, qa)]
    per = links // len(LINK_SECTIONS)
    for k, title in enumerate(LINK_SECTIONS):
        out += [f"## {title}", "\n".join(_links(base + k * per + 1, per))]
    return "\n\n".join(out) + "\n"


def measure(cmd: list, cwd: Path) -> tuple[int, float, float, int, str]:
    """(exit code, wall s, CPU s, peak RSS KiB, stderr) of one process, via wait4."""
    env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    with open(cwd / "stderr.txt", "w+") as err:
        start = time.perf_counter()
        child = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        code = os.waitstatus_to_exitcode(status)
        return code, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss, err.read()


def workspace(root: Path, items: int) -> Path:
    ws = root / f"ws{items}"
    notes = ws / ISSUE / "notes"
    notes.mkdir(parents=True)
    (ws / "composer.toml").write_text(
        '[newsletter]\ntitle = "Scale"\ntimezone = "Asia/Shanghai"\n', encoding="utf-8"
    )
    for part in range(NOTES):
        (notes / f"{part}.md").write_text(digest(items, part, NOTES), encoding="utf-8")
    return ws


def run(python: str, root: Path, kind: str, items: int) -> tuple[int, float, float, int, str]:
    if kind == "render":
        source = root / f"digest{items}.txt"
        if not source.exists():
            source.write_text(digest(items), encoding="utf-8")
        out = root / f"out{items}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [python, "-m", "composer", "render", source, "--out", out]
    else:
        ws = root / f"ws{items}"
        if not ws.exists():
            workspace(root, items)
        cmd = [python, "-m", "composer", "draft", "-w", ws, "--issue", ISSUE, "--offline"]
        cmd.append("--force")
    return measure(cmd, root)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000, 20000, 50000])
    parser.add_argument("--runs", type=int, default=1, help="runs per size (median shown)")
    parser.add_argument("--python", default=sys.executable)
    parser.add_argument("--only", choices=["render", "draft"])
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for kind in [args.only] if args.only else ["render", "draft"]:
            per_item: dict[int, float] = {}
            for items in args.sizes:
                runs = [run(args.python, root, kind, items) for _ in range(args.runs)]
                code, _, _, _, stderr = runs[-1]
                wall = statistics.median(r[1] for r in runs)
                cpu = statistics.median(r[2] for r in runs)
                peak = max(r[3] for r in runs) / 1024
                per_item[items] = wall
                spread = f" (runs {min(r[1] for r in runs):.2f}-{max(r[1] for r in runs):.2f})"
                print(
                    f"{kind:6} {items:6d} items: {wall:7.2f} s wall, {cpu:7.2f} s CPU, "
                    f"{peak:6.0f} MB peak; {wall / items * 1000:5.2f} s per 1,000"
                    f"{spread if args.runs > 1 else ''}; exit {code}"
                )
                if code:
                    print("   " + "\n   ".join(stderr.strip().splitlines()[-5:]))
            if 5000 in per_item and 50000 in per_item:
                ratio = per_item[50000] / per_item[5000]
                print(f"{kind:6} 50k / 5k: {ratio:5.1f}x (target <= 12x; linear is 10x)")
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
