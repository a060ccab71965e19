"""``composer plugins new NAME``: a plugin package that installs and passes its test."""

from __future__ import annotations

import re
from pathlib import Path

from composer.errors import Refusal, UsageError
from composer.support.workspace import atomic_write

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "composer-{name}"
version = "0.1.0"
description = "A {name} section for newsletter-composer"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["newsletter-composer>={version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.composer]
{name} = "{module}"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["templates/sections/*.j2"]
"""

MODULE = '''"""composer-{name}: a "{name}" section for newsletter-composer.

In notes, under a heading `## {title}`, each line `- text https://url` is an item.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.contract.hookspecs import hookimpl
from composer.contract.model import NOTE, Item
from composer.support.text import find_urls

COMPOSER_API = "1"


@dataclass
class Config:
    """``[{name}]`` in composer.toml."""

    __pydantic_config__ = {{"extra": "forbid"}}
    greeting: str = ""


class Section:
    name = "{name}"
    title = "{title}"
    aliases = ("{name}",)
    config = Config

    def sniff(self, block) -> float:
        return 0.0

    def parse(self, block) -> list[Item]:
        items = []
        for offset, line in enumerate(block.lines):
            if line.startswith("- "):
                text, url = line[2:].strip(), ""
                found = find_urls(text)
                if found:
                    start, end, url = found[0]
                    text = (text[:start] + text[end:]).strip()
                items.append(Item("{name}", title=text, url=url, origin=block.where(offset)))
            elif line.strip():
                items.append(Item(NOTE, text=line, origin=block.where(offset)))
        return items

    def serialize(self, items: list[Item]) -> str:
        return "\\n".join(f"- {{i.title}} {{i.url}}".rstrip() for i in items)

    def collect(self, ctx) -> list[Item]:
        greeting = ctx.config_for(self.name).greeting
        return [Item("{name}", title=greeting)] if greeting else []


@hookimpl
def register_sections(register):
    register(Section())
'''

TEMPLATES = {
    "email": '{{% for item in section.items %}}<p style="font-size:15px;line-height:1.75">'
    '{{% if item.url %}}<a href="{{{{ item.url }}}}">{{{{ item.title or item.url }}}}</a>'
    "{{% else %}}{{{{ item.title or item.text }}}}{{% endif %}}</p>\n{{% endfor %}}\n",
    "text": "{{% for item in section.items %}}* {{{{ item.title or item.text }}}}"
    "{{% if item.url %}} <{{{{ item.url }}}}>{{% endif %}}\n{{% endfor %}}\n",
    "wechat": "{{% for item in section.items %}}- {{{{ link(item.title, item.url) if item.title "
    "else md(item.text) }}}}\n{{% endfor %}}\n",
    "hugo": "{{% for item in section.items %}}- {{{{ link(item.title, item.url) if item.title "
    "else md(item.text) }}}}\n{{% endfor %}}\n",
}

TEST = '''"""{module}, tested through composer itself."""

import os
import subprocess
import sys

from composer.pipeline.parse import parse_text, serialize_issue
from composer.plugin_manager import load_plugins
from composer.contract.protocols import Report

NOTES = "## {title}\\n\\n- 第一条 https://example.org/a\\n- 第二条\\n"


def test_parse_round_trip():
    sections = load_plugins(env="composer-{name}").sections()
    issue = parse_text(NOTES, "n.md", sections, Report())
    items = issue.sections[0].items
    expected = [("第一条", "https://example.org/a"), ("第二条", "")]
    assert [(i.title, i.url) for i in items] == expected
    assert parse_text(serialize_issue(issue, sections), "n.md", sections, Report()) == issue


def test_renders_in_every_format(tmp_path):
    source = tmp_path / "n.md"
    source.write_text(NOTES, encoding="utf-8")
    env = dict(os.environ, COMPOSER_PLUGINS="builtins,composer-{name}")
    result = subprocess.run(
        [sys.executable, "-m", "composer", "render", str(source), "--out", str(tmp_path / "out")],
        env=env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr
    for name in ("email.html", "email.txt", "wechat.md", "post.md"):
        assert "第一条" in (tmp_path / "out" / name).read_text(encoding="utf-8")
'''

README = """# composer-{name}

A "{name}" section for newsletter-composer, made with `composer plugins new {name}`.

```sh
pip install -e '.[test]' && pytest
composer plugins          # lists composer-{name}
```

Notes: under `## {title}`, one `- text https://url` line per item. Templates are in
`{module}/templates/sections/`; a workspace overrides any of them file by file.
"""


def new_plugin(name: str, parent: Path) -> Path:
    """Write the package ``composer-NAME`` into ``parent``; returns its folder."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name):
        raise UsageError(
            f"'{name}' is not a plugin name", "use lower-case letters, digits and _ (e.g. events)"
        )
    from composer import __version__

    folder = parent / f"composer-{name}"
    if folder.exists():
        raise Refusal(f"{folder} already exists", "choose another name or folder")
    module = f"composer_{name}"
    values = {"name": name, "module": module, "title": name.title(), "version": __version__}
    files = {
        "pyproject.toml": PYPROJECT.format(**values),
        f"{module}/__init__.py": MODULE.format(**values),
        f"tests/test_{name}.py": TEST.format(**values),
        "README.md": README.format(**values),
    }
    for fmt, template in TEMPLATES.items():
        files[f"{module}/templates/sections/{name}.{fmt}.j2"] = template.format(**values)
    for rel, text in files.items():
        atomic_write(folder / rel, text)
    return folder
