"""Shared fixtures. The suite never loads plugins that merely happen to be installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

os.environ["COMPOSER_PLUGINS"] = "builtins"
os.environ.pop("COMPOSER_WORKSPACE", None)

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = sorted((Path(__file__).parent / "samples").glob("*.txt"))
SHARED_TOOLS = ROOT.parent / "shared" / "tools"


def check_outputs(source: str, outdir: Path) -> list:
    """Lost URLs and sentences, and missing files, of the built-in renderers' outputs."""
    from composer.app import open_app
    from composer.pipeline.check import renderer_problems

    app = open_app(None, plugins="builtins")
    problems = renderer_problems(app, source, outdir, app.context(""))
    return [p for p in problems if p.rule in ("lost-url", "lost-text", "missing-output")]


@pytest.fixture
def run(tmp_path):
    """Run the real ``composer`` command in a subprocess (in ``tmp_path`` unless
    ``cwd``); returns CompletedProcess."""
    from composer import testing

    def _run(*args, cwd=None, env=None, input=None):
        return testing.run(*args, cwd=cwd or tmp_path, env=env, input=input)

    return _run


def run_composer(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """``python -m composer ARGS`` in ``cwd`` (for fixtures wider than one test)."""
    from composer import testing

    return testing.run(*args, cwd=cwd, env=env)


# Tests that share a session fixture too costly to build twice go to one xdist worker
# (test_packaging's editable-install virtualenv). xdist's own xdist_group marks are
# lost under pytest 9 (the worker renames item._nodeid, which pytest 9 no longer reads).
ONE_WORKER = ("tests/test_packaging.py::",)


def pytest_xdist_make_scheduler(config, log):
    """Load scheduling, test by test, except the ONE_WORKER tests, sent as one unit."""
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return next((group for group in ONE_WORKER if nodeid.startswith(group)), nodeid)

    return Scheduling(config, log)


RENDERED = [p.name for p in SAMPLES] + ["2023-W47"]


@pytest.fixture(scope="session")
def rendered(tmp_path_factory) -> dict[str, Path]:
    """Output folders of every sample and of the bundled issue (drafted), made once."""
    base = tmp_path_factory.mktemp("rendered")
    folders: dict[str, Path] = {}
    for sample in SAMPLES:
        result = run_composer("render", sample, "--out", base / sample.stem, cwd=base)
        assert result.returncode == 0, result.stderr
        folders[sample.name] = base / sample.stem
    ws = base / "ws"
    shutil.copytree(
        ROOT / "issues", ws, ignore=shutil.ignore_patterns("out", "issue.md*", ".composer")
    )
    result = run_composer("draft", "-w", ws, "--issue", "2023-W47", "--offline", cwd=base)
    assert result.returncode == 0, result.stderr
    folders["2023-W47"] = ws / "2023-W47" / "out"
    return folders


@pytest.fixture
def workspace(tmp_path):
    """A copy of the example workspace in issues/."""
    ws = tmp_path / "ws"
    shutil.copytree(
        ROOT / "issues", ws, ignore=shutil.ignore_patterns("out", "issue.md*", ".composer")
    )
    return ws


def make_sendable(ws: Path) -> Path:
    """The example workspace with real-looking addresses (weekly.test) instead of its
    example.org placeholders, which `composer check` refuses to send with."""
    config = ws / "composer.toml"
    config.write_text(
        config.read_text(encoding="utf-8").replace("example.org", "weekly.test"), encoding="utf-8"
    )
    return ws


@pytest.fixture
def drafted(run, workspace):
    """The example workspace, sendable, with 2023-W47 drafted offline."""
    make_sendable(workspace)
    result = run("draft", "-w", workspace, "--issue", "2023-W47", "--offline")
    assert result.returncode == 0, result.stderr
    return workspace


@pytest.fixture(scope="session")
def app():
    from composer.app import open_app

    return open_app(None)


@pytest.fixture
def parse(app):
    """Parse dialect text with the built-in plugins; returns (issue, report)."""
    from composer.contract.protocols import Report
    from composer.pipeline.parse import parse_text

    def _parse(text: str, file: str = "t.txt"):
        report = Report()
        return parse_text(text, file, app.sections, report), report

    return _parse


@pytest.fixture
def smtp():
    """A real SMTP server on 127.0.0.1 (aiosmtpd); ``.inbox.envelopes`` is what it got."""
    from smtp_server import start_server

    controller = start_server()
    yield controller
    controller.stop()


@pytest.fixture
def certificate(tmp_path_factory):
    """(cert, key): a self-signed certificate for 127.0.0.1, to trust via SSL_CERT_FILE."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


def make_certificate(folder: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed: cannot make a test certificate")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            key,
            "-out",
            cert,
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
