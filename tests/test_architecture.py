"""The layers, read from the code (ast): the core names no built-in, the contract stands
alone, built-ins use only composer.api, and the docs name modules that exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import ROOT

from composer.plugin_manager import DEFAULT_PLUGINS

CORE = ROOT / "composer"
PLUGINS = ROOT / "plugins"
BUILTIN_NAMES = {m.rsplit(".", 1)[1] for m in DEFAULT_PLUGINS}
BUILTIN_OUTPUTS = {"email.html", "email.txt", "email.eml", "wechat.md", "post.md", "wechat.html"}
# a string that happens to equal a plugin name but is something else entirely
ALLOWED = {
    ("composer/support/mdwriter.py", "text"),  # markdown-it's token type "text"
    ("composer/support/mdrules.py", "text"),  # the same
}


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                found.add(id(body[0].value))
    return found


def string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skip = docstrings(tree)
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
    ]


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every import in ``path``, relative ones made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    if PLUGINS in path.parents:
        package = ".".join(("composer", *path.relative_to(ROOT).parts[:-1]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parts + ([base] if base else []))
            if base == "composer":  # from composer import api
                found += [(node.lineno, f"composer.{alias.name}") for alias in node.names]
            else:
                found.append((node.lineno, base))
    return found


def test_the_core_names_no_built_in_output_or_plugin():
    offending = [
        f"{rel(path)}:{line}: {value!r}"
        for path in modules(CORE)
        for line, value in string_constants(path)
        if (value in BUILTIN_OUTPUTS or value in BUILTIN_NAMES)
        and (rel(path), value) not in ALLOWED
    ]
    assert offending == []


def test_no_core_module_imports_a_built_in_plugin():
    offending = [
        f"{rel(path)}:{line}: {name}"
        for path in modules(CORE)
        for line, name in imports(path)
        if name == "composer.plugins" or name.startswith("composer.plugins.")
    ]
    assert offending == []


def test_the_contract_imports_nothing_else_from_composer():
    offending = [
        f"{rel(path)}:{line}: {name}"
        for path in modules(CORE / "contract")
        for line, name in imports(path)
        if name.split(".")[0] == "composer" and not name.startswith("composer.contract")
    ]
    assert offending == []


def plugin_of(path: Path) -> str:
    """The built-in plugin a file of plugins/ belongs to: its module, or its package."""
    return path.relative_to(PLUGINS).with_suffix("").parts[0]


def test_built_ins_import_only_composer_api_and_their_own_modules():
    offending = []
    for path in modules(PLUGINS):
        mine = f"composer.plugins.{plugin_of(path)}"
        for line, name in imports(path):
            if name.split(".")[0] != "composer" or name in ("composer", "composer.api"):
                continue
            if name.startswith("composer.api.") or name == mine or name.startswith(mine + "."):
                continue
            offending.append(f"{rel(path)}:{line}: {name}")
    assert offending == []


def test_every_built_in_plugin_is_registered():
    found = {
        plugin_of(p) for p in modules(PLUGINS) if p.name != "__init__.py" or p.parent != PLUGINS
    }
    assert found == BUILTIN_NAMES


MODULE_NAME = re.compile(r"`((?:composer|plugins|support|pipeline|commands|contract)/[\w/]+\.py)`")


@pytest.mark.parametrize("doc", ["architecture.md", "plugins.md"])
def test_the_docs_name_only_modules_that_exist(doc):
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    named = set(MODULE_NAME.findall(text))
    missing = []
    for name in sorted(named):
        candidates = [ROOT / name, CORE / name]
        if not any(c.is_file() for c in candidates):
            missing.append(name)
    assert named and missing == []


def test_every_core_module_is_in_the_architecture_doc():
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(MODULE_NAME.findall(text))
    unnamed = [
        rel(p)
        for p in modules(CORE)
        if p.name != "__init__.py"
        and rel(p) not in named
        and rel(p).removeprefix("composer/") not in named
    ]
    assert unnamed == []
