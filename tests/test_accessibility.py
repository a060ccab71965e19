"""email.html for people with screen readers and low vision: axe-core, contrast, markup."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axe_check import axe_path, chromium, run_axe
from conftest import RENDERED, ROOT
from conftest import run_composer as composer

from composer.pipeline.fidelity import visible_html

TEMPLATES = ROOT / "templates"
FEATURES = """---
title: 无障碍 <检查> & 样例
date: 2023-11-24
---

## 讨论

研究员1：看图 ![](https://example.org/arch.png) 和 ![结构图](https://example.org/b.png)

> 引用一段话

```bash
torchrun train.py
```

## 链接

- 一个链接: https://example.org/x

## 讨论&杂谈

D: 开头 `代码` **粗体**

F: 跟进
"""


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> dict[str, Path]:
    """email.html of an issue with what the samples lack (images without alt, code, quotes),
    in Chinese and in English."""
    base = tmp_path_factory.mktemp("features")
    (base / "in.txt").write_text(FEATURES, encoding="utf-8")
    pages = {}
    for language in ("zh-CN", "en"):
        folder = base / language
        folder.mkdir()
        (folder / "composer.toml").write_text(
            f'[newsletter]\nlanguage = "{language}"\n', encoding="utf-8"
        )
        result = composer("render", base / "in.txt", "--out", folder / "out", cwd=folder)
        assert result.returncode == 0, result.stderr
        pages[language] = folder / "out" / "email.html"
    return pages


def test_no_serious_or_critical_axe_violation(rendered, features):
    browser, axe_js = chromium(), axe_path()
    if browser is None:
        pytest.skip("no chromium on PATH (apt-get install chromium)")
    if not axe_js.is_file():
        pytest.skip(
            f"axe-core not found at {axe_js}: `npm install --prefix build/axe axe-core@4`, "
            "or point AXE_CORE_JS at axe.min.js"
        )
    pages = [rendered[name] / "email.html" for name in RENDERED] + list(features.values())
    results = run_axe(pages, axe_js, browser)
    assert set(results) == set(pages)
    serious = {
        str(page): [
            (v["id"], v["help"], [n["target"] for n in v["nodes"]][:3])
            for v in found
            if v["impact"] in ("serious", "critical")
        ]
        for page, found in results.items()
        if not isinstance(found, list) or any(v["impact"] in ("serious", "critical") for v in found)
    }
    assert serious == {}


def test_email_is_an_article_with_a_language_and_images_with_alt_text(features):
    for language, page in features.items():
        html = page.read_text(encoding="utf-8")
        article = re.search(r'<div role="article"[^>]*>', html).group(0)
        assert 'aria-label="无障碍 &lt;检查&gt; &amp; 样例"' in article
        assert f'lang="{language}"' in article and f'<html lang="{language}"' in html
        tables = re.findall(r"<table\b[^>]*>", html)
        assert tables and all('role="presentation"' in t for t in tables)
        doc = visible_html(html)
        alts = [attrs.get("alt") for tag, attrs, _ in doc.tags if tag == "img"]
        word = "图片" if language == "zh-CN" else "image"
        assert alts == [word, "结构图"]


def luminance(colour: str) -> float:
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


TEXT_COLOUR = re.compile(r"(?<![-\w])color:\s*(#[0-9a-fA-F]{6})")
BACKGROUND = re.compile(r"background-color:\s*(#[0-9a-fA-F]{6})")


def colour_pairs(rules: list[str], page: str) -> list[tuple[str, str, str]]:
    """(rule, text colour, background) for every rule that sets a text colour."""
    pairs = []
    for rule in rules:
        for colour in TEXT_COLOUR.findall(rule):
            background = BACKGROUND.search(rule)
            pairs.append((rule.strip()[:60], colour, background.group(1) if background else page))
    return pairs


def test_every_text_colour_keeps_aa_contrast_in_light_and_dark_mode():
    inline = (TEMPLATES / "styles.email.j2").read_text(encoding="utf-8")
    content = (TEMPLATES / "email.css.j2").read_text(encoding="utf-8")
    client = (TEMPLATES / "email-client.css.j2").read_text(encoding="utf-8")
    dark = client[client.index("prefers-color-scheme: dark") :]
    light_rules = re.findall(r'"\w+": "[^"]*"', inline) + re.findall(r"[^{}]+\{[^{}]*\}", content)
    pairs = colour_pairs(light_rules, "#ffffff")
    pairs += colour_pairs(re.findall(r"[^{}]+\{[^{}]*\}", dark.split("{", 1)[1]), "#1b1b1b")
    assert len(pairs) > 20
    low = [(rule, fg, bg, round(contrast(fg, bg), 2)) for rule, fg, bg in pairs]
    assert [p for p in low if p[3] < 4.5] == []


def test_an_image_without_alt_text_is_named_by_the_image_word_in_every_output(features):
    out = features["zh-CN"].parent
    assert "[图片] <https://example.org/arch.png>" in (out / "email.txt").read_text("utf-8")
    assert re.search(
        r"(?m)^\[\d+\] 图片: https://example\.org/arch\.png$",
        (out / "wechat.md").read_text("utf-8"),
    )
