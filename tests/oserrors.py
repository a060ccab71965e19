"""Real operating-system errors for tests: permissions that hold even as root, and a
tiny file system that fills up.

Root ignores file permissions through two capabilities; a child that drops them from
its bounding set before ``exec`` is refused like any user (mode 000 cannot be read, a
mode 555 folder cannot be written). Nothing is faked: the kernel says no.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH = 1, 2


def _drop_override() -> None:
    """preexec_fn: as root, lose the power to override file permissions."""
    if os.geteuid() != 0:
        return
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


@functools.cache
def permissions_apply() -> bool:
    """Does a child started by :func:`composer` get refused a mode-000 file?"""
    with tempfile.TemporaryDirectory() as folder:
        locked = Path(folder) / "locked"
        locked.write_text("x")
        locked.chmod(0)
        try:
            probe = subprocess.run(
                [sys.executable, "-c", f"open({str(locked)!r}).read()"],
                preexec_fn=_drop_override,
                capture_output=True,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            return False
        return probe.returncode != 0 and b"PermissionError" in probe.stderr


def composer(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m composer ARGS`` in ``cwd``, unable to override file permissions."""
    if not permissions_apply():
        pytest.skip("file permissions cannot be enforced for the test's child process")
    full_env = dict(os.environ, COMPOSER_PLUGINS="builtins", NO_COLOR="1", **(env or {}))
    return subprocess.run(
        [sys.executable, "-m", "composer", *map(str, args)],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_drop_override,
    )


@contextlib.contextmanager
def tiny_filesystem(size: str = "64k"):
    """A fresh tmpfs of ``size`` mounted on a temporary folder (skips if no mount)."""
    if os.geteuid() != 0 or not shutil.which("mount"):
        pytest.skip("cannot mount a tmpfs here (needs root)")
    folder = Path(tempfile.mkdtemp(prefix="composer-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
        capture_output=True,
    )
    if mounted.returncode != 0:
        folder.rmdir()
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], capture_output=True)
        folder.rmdir()
