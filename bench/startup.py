"""`composer --help` against `python -c pass`, measured in the same run.

Prints the median wall time of each (N runs) and their ratio. Target: ratio <= 3,
limit 8 (issue 3). Usage: python bench/startup.py [N]
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time


def timed(cmd: list[str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 15
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)  # steady state: bytecode cached
    env_cmd = [sys.executable, "-c", "pass"]
    help_cmd = [sys.executable, "-m", "composer", "--help"]
    timed(help_cmd, 2)  # warm the file cache and bytecode
    base = timed(env_cmd, runs)
    help_time = timed(help_cmd, runs)
    print(f"python -c pass : {base * 1000:7.1f} ms (median of {runs})")
    print(f"composer --help: {help_time * 1000:7.1f} ms (median of {runs})")
    print(f"ratio          : {help_time / base:7.2f}x  (goal <= 3x, limit 8x)")


if __name__ == "__main__":
    main()
