"""The files of a new plugin package (``composer plugins new NAME``)."""

PYPROJECT = """[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{dist}"
version = "0.1.0"
description = "A {name} section for newsletter-composer"
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["newsletter-composer>={version}"]

[project.optional-dependencies]
test = ["pytest>=8"]

[project.entry-points.composer]
{dist} = "{module}"

[tool.setuptools]
packages = ["{module}"]

[tool.setuptools.package-data]
{module} = ["templates/sections/*.j2"]
"""

MODULE = '''"""{dist}: a "{name}" section for newsletter-composer.

In notes, under a heading `## {title}`, each line `- text https://url` is an item.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.api import NOTE, Item, hookimpl

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
        from composer.api import find_urls

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

TEST = '''"""{module}, tested through composer itself (composer.testing)."""

from composer import testing

PLUGINS = "builtins,{dist}"
NOTES = "## {title}\\n\\n- 第一条 https://example.org/a\\n- 第二条\\n"


def test_parse_round_trip():
    issue, again = testing.round_trip(NOTES, PLUGINS)
    items = issue.sections[0].items
    expected = [("第一条", "https://example.org/a"), ("第二条", "")]
    assert [(i.title, i.url) for i in items] == expected
    assert again == issue


def test_renders_in_every_format(tmp_path):
    outputs = testing.render(NOTES, tmp_path / "out", PLUGINS)
    for name in testing.faithful_outputs(PLUGINS):
        assert "第一条" in outputs[name] and "第二条" in outputs[name], name
        first = next(ln for ln in outputs[name].splitlines() if "第一条" in ln)
        assert "第二条" not in first, f"{{name}}: two items on one line"


def test_the_command_line_lists_it(tmp_path):
    result = testing.run("plugins", cwd=tmp_path, plugins=PLUGINS)
    assert result.returncode == 0, result.stderr
    assert "{dist}" in result.stdout
'''

README = """# {dist}

A "{name}" section for newsletter-composer, made with `composer plugins new {name}`.

```sh
python -m pip install -e '.[test]' && python -m pytest
composer plugins          # lists {dist}
```

Turn it off in a workspace with `[plugins] disable = ["{dist}"]`.

Notes: under `## {title}`, one `- text https://url` line per item. Templates are in
`{module}/templates/sections/`; a workspace overrides any of them file by file.
"""
