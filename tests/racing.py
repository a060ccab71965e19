"""Real `python -m composer` processes started together, for race tests.

Each process imports composer, says it is ready, then waits on its stdin: once all are
ready, one byte to each starts them within microseconds of one another. They run with
tests/netguard.py's guard: nothing but loopback, even if the code is wrong.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent

WAIT_THEN_RUN = (
    "import runpy, sys\n"
    "import composer.cli, netguard\n"
    "netguard.install()\n"
    "print('ready', flush=True)\n"
    "sys.stdin.read(1)\n"
    "sys.argv[0] = 'composer'\n"
    "runpy.run_module('composer', run_name='__main__', alter_sys=True)\n"
)


@dataclass
class Ran:
    args: tuple
    returncode: int
    stdout: str
    stderr: str

    @property
    def error(self) -> str:
        """The one ``Error:`` line, or ''."""
        lines = [ln for ln in self.stderr.splitlines() if ln.startswith("Error:")]
        assert len(lines) <= 1, self.stderr
        return lines[0] if lines else ""


def together(*commands: tuple, cwd: Path, env: dict | None = None) -> list[Ran]:
    """Run each of ``commands`` (composer arguments) at the same moment; their results."""
    return start(*commands, cwd=cwd, env=env)()


def start(*commands: tuple, cwd: Path, env: dict | None = None) -> Callable[[], list[Ran]]:
    """Start ``commands`` together once they are ready; the function that waits for them."""
    full_env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1", **(env or {}))
    full_env["PYTHONPATH"] = os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WAIT_THEN_RUN, *map(str, args)],
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]

    def finish() -> list[Ran]:
        try:
            results = []
            for args, proc in zip(commands, procs, strict=True):
                out, err = proc.communicate(timeout=120)
                results.append(Ran(args, proc.returncode, out, err))
            return results
        finally:
            _kill(procs)

    try:
        for proc in procs:
            assert proc.stdout.readline() == "ready\n", proc.stderr.read()
        for proc in procs:
            proc.stdin.write("x")
            proc.stdin.flush()
    except BaseException:
        _kill(procs)
        raise
    finish.kill = lambda: _kill(procs)  # SIGKILL, as a crash or the OOM killer would
    finish.signal = lambda signum: [proc.send_signal(signum) for proc in procs]
    return finish


def _kill(procs) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
