"""The default theme and the built-in plugins ship in the wheel and work from an
editable install too. The tests make fresh virtualenvs (one for the wheel, one
editable install of this checkout shared by the tests that need it); the dependencies
come from the running environment (a .pth file), so no download is needed."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES, check_outputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def editable_venv(tmp_path_factory) -> Path:
    """The python of a fresh virtualenv with this checkout installed editable (``pip
    install -e``), made once per session: this module's tests run on one xdist worker
    (tests/conftest.py). The scaffold test adds its plugin to it."""
    python = make_venv(tmp_path_factory.mktemp("editable") / "venv")
    pip_into(python, "-e", str(ROOT))
    return python


def make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=False).create(path)
    python = path / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # dependencies from this environment; composer itself must come from the new install
    deps = sysconfig.get_paths()["purelib"]
    (Path(site) / "zz_outer_deps.pth").write_text(deps + "\n", encoding="utf-8")
    return python


def pip_into(python: Path, *args: str) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--no-deps",
            "--quiet",
            *args,
        ],
        check=True,
    )


def render_with(python: Path, tmp: Path) -> str:
    where = subprocess.run(
        [python, "-c", "import composer, composer.plugins.papers as p; print(composer.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp,
    ).stdout.strip()
    return where


def check_render(python: Path, tmp: Path) -> None:
    out = tmp / "out"
    result = subprocess.run(
        [python.parent / "composer", "render", SAMPLES[1], "--out", out],
        capture_output=True,
        text=True,
        cwd=tmp,
        env={"COMPOSER_PLUGINS": "builtins", "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert check_outputs(SAMPLES[1].read_text(encoding="utf-8"), out) == []


def test_wheel_in_a_fresh_venv(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", dist, ROOT],
        check=True,
    )
    (wheel,) = dist.glob("newsletter_composer-*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    for required in (
        "composer/templates/issue.email.j2",
        "composer/templates/strings.toml",
        "composer/templates/sections/default.wechat.j2",
        "composer/plugins/papers.py",
        "composer/cli.py",
    ):
        assert required in names
    python = make_venv(tmp_path / "venv")
    pip_into(python, str(wheel))
    location = render_with(python, tmp_path)
    assert str(tmp_path / "venv") in location
    check_render(python, tmp_path)


def test_editable_install_finds_templates_and_plugins(editable_venv, tmp_path):
    python = editable_venv
    location = render_with(python, tmp_path)
    assert location.startswith(str(ROOT))
    check_render(python, tmp_path)


def test_plugins_new_scaffolds_a_package_that_passes_its_own_tests(run, editable_venv, tmp_path):
    result = run("plugins", "new", "demo-digest", "--dir", tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{sys.executable} -m pip install -e" in result.stdout
    package = tmp_path / "composer-demo-digest"
    assert (package / "composer_demo_digest" / "__init__.py").is_file()
    python = editable_venv
    pip_into(python, "-e", str(package))
    listed = subprocess.run(
        [python, "-m", "composer", "plugins"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    row = next(ln for ln in listed.stdout.splitlines() if ln.startswith("composer-demo-digest"))
    assert "0.1.0" in row and row.rstrip().endswith("ok")
    tests = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", package],
        capture_output=True,
        text=True,
        cwd=package,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "3 passed" in tests.stdout
    (tmp_path / "composer.toml").write_text(
        '[plugins]\ndisable = ["composer-demo-digest"]\n', encoding="utf-8"
    )
    listed = subprocess.run(
        [python, "-m", "composer", "plugins"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    row = next(ln for ln in listed.stdout.splitlines() if ln.startswith("composer-demo-digest"))
    assert row.rstrip().endswith("disabled")
    again = run("plugins", "new", "demo-digest", "--dir", tmp_path)
    assert again.returncode == 1 and "already exists" in again.stderr
    assert run("plugins", "new", "Bad-Name", "--dir", tmp_path).returncode == 2
