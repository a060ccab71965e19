"""CSS inlined into HTML (email clients and the WeChat editor keep only inline styles).

:func:`inline_css` gives premailer's result (tests/test_render.py compares them byte
for byte) at a fraction of the cost:

- each ``<style>`` sheet is compiled once: premailer (and cssutils) read its rules
  and their declarations, and each selector becomes an XPath. The compiled sheet is
  kept in ``~/.cache/newsletter-composer/css`` (keyed by the sheet and the installed
  premailer, cssutils, cssselect and lxml), so a run with a known sheet imports
  neither premailer nor cssutils;
- a descendant selector (``.md p``) is an ancestor test on the right-hand element
  (``p[ancestor::*[.md]]``: the same elements). premailer's own XPath makes libxml2
  merge one node set per ``.md`` element, which grows with the square of the page;
- elements matched by the same rules share one merged style.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import operator
import os
import re
from pathlib import Path

OPTIONS = {
    "allow_network": False,
    "strip_important": False,
    "disable_validation": True,
    "keep_style_tags": False,
    "disable_basic_attributes": ["width", "height"],
    "cssutils_logging_level": logging.CRITICAL,
}
SKIPPED_ATTRIBUTES = ("width", "height")  # OPTIONS["disable_basic_attributes"]
IGNORE = "data-premailer"  # <style data-premailer="ignore"> is left alone
FORMAT = 1  # of the compiled sheets kept on disk


def premailer_transform(html: str) -> str:
    """``html`` inlined by premailer's own ``transform`` (the reference)."""
    return keeping_uris(html, lambda page: _premailer().Premailer(page, **OPTIONS).transform())


def inline_css(html: str) -> str:
    """``html`` with the rules of its ``<style>`` elements moved into ``style`` attributes
    (premailer's result: no network, no width/height attributes added, ``<style>``
    removed unless it holds rules that cannot be inlined)."""
    return keeping_uris(html, _inline_css)


# an href or src holding letters beyond ASCII (https://bücher.example/neu)
WIDE_URI = re.compile(r'(?<=\s)(href|src)="([^"]*[^\x00-\x7f][^"]*)"')


def keeping_uris(html: str, transform) -> str:
    """``transform(html)`` with every href and src as written: libxml2's HTML writer
    percent-encodes letters beyond ASCII in them (``b%C3%BCcher``), and readers, like
    the loss check, look for the URL the editor wrote."""
    kept: list[str] = []

    def hold(m: re.Match) -> str:
        kept.append(m.group(2))
        return f'{m.group(1)}="composer-uri-{len(kept) - 1}"'

    out = transform(WIDE_URI.sub(hold, html))
    if not kept:
        return out
    return re.sub(r'"composer-uri-(\d+)"', lambda m: f'"{kept[int(m.group(1))]}"', out)


def _inline_css(html: str) -> str:
    from lxml import etree

    stripped = html.strip()
    tree = etree.fromstring(stripped, etree.HTMLParser()).getroottree()
    page = tree.getroot()
    root = tree if stripped.startswith(tree.docinfo.doctype) else page
    _ensure_head(tree)
    rules = sorted(_page_rules(page), key=operator.itemgetter(0))
    matched: dict[int, list] = {}  # id -> [element, rule numbers ...]
    for number, (_, xpath, _, _) in enumerate(rules):
        for element in _xpath(xpath)(page):
            matched.setdefault(id(element), [element]).append(number)
    merged: dict[tuple, tuple] = {}  # elements alike get the same style and attributes
    for element, *numbers in matched.values():
        key = (element.attrib.get("style", ""), tuple(numbers))
        if key not in merged:
            merged[key] = _merged(
                key[0], [rules[n][3] for n in numbers], [rules[n][2] for n in numbers]
            )
        final, attributes = merged[key]
        if final:
            element.attrib["style"] = final
        for name, value in attributes:
            element.attrib[name] = value
    for image in page.xpath("//img[@style]"):
        align = _image_float(image.attrib["style"])
        if align:
            image.attrib["align"] = align
    return etree.tostring(root, method="html", pretty_print=True, encoding="utf-8").decode()


def _ensure_head(tree) -> None:
    """A <head> in the page, as premailer makes sure there is."""
    from lxml import etree

    if _xpath("descendant-or-self::head")(tree):
        return
    body = _xpath("descendant-or-self::body")(tree)[0]
    body.getparent().insert(0, etree.Element("head"))


def _page_rules(page) -> list[tuple]:
    """(specificity, XPath, pseudo-class, declarations) of the rules of every <style>;
    each is removed, or keeps only what cannot be inlined (media rules ...)."""
    rules: list[tuple] = []
    index = 0
    for element in _xpath("descendant-or-self::style")(page):
        media = element.attrib.get("media")
        if media and media not in ("all", "screen"):
            continue
        if element.attrib.get(IGNORE) == "ignore":
            del element.attrib[IGNORE]
            continue
        compiled, leftover = compiled_sheet(element.text or "")
        rules += [((i, ids, cl, el, index, n), x, p, d) for i, ids, cl, el, n, x, p, d in compiled]
        index += 1
        if leftover is not None:
            element.text = leftover
        else:
            element.getparent().remove(element)
    return rules


@functools.cache
def _xpath(path: str):
    from lxml import etree

    if "__lxml_internal_css:" in path:
        import lxml.cssselect  # noqa: F401  (registers the functions :contains() uses)
    return etree.XPath(path)


# -- compiled sheets -----------------------------------------------------------------
@functools.cache
def compiled_sheet(css: str) -> tuple[list, str | None]:
    """The rules of one sheet, as [important, ids, classes, elements, number, XPath,
    pseudo-class, declarations], and what is left in the <style> (None: nothing)."""
    path = _cache_path(css)
    kept = _read_kept(path, css) if path else None
    if kept is not None:
        return kept
    rules, leftover = _compile(css)
    if path:
        _keep(path, {"css": css, "rules": rules, "leftover": leftover})
    return rules, leftover


def _read_kept(path: Path, css: str) -> tuple[list, str | None] | None:
    """The compiled sheet kept at ``path``; None when absent, damaged or not ``css``'s."""
    try:
        kept = json.loads(path.read_text(encoding="utf-8"))
        if kept["css"] != css:
            return None
        rules = [(*r[:7], [tuple(pair) for pair in r[7]]) for r in kept["rules"]]
        return rules, kept["leftover"]
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None


def _compile(css: str) -> tuple[list, str | None]:
    """The sheet read by premailer and cssutils, its selectors translated to XPath."""
    premailer = _premailer()
    from premailer.merge_style import csstext_to_pairs

    inliner = premailer.Premailer(None, **OPTIONS)
    parsed, leftover = inliner._parse_style_rules(css, 0)
    rules = []
    for (important, ids, classes, elements, _, number), selector, style in parsed:
        match, pseudo = _split_pseudo(selector)
        xpath = _translator().css_to_xpath(match)
        pairs = [tuple(p) for p in csstext_to_pairs(style, validate=False)]
        rules.append((important, ids, classes, elements, number, xpath, pseudo, pairs))
    return rules, (inliner._css_rules_to_string(leftover) if leftover else None)


def _split_pseudo(selector: str) -> tuple[str, str]:
    """(selector to match, pseudo-class its style is kept under), as premailer splits."""
    from premailer.premailer import FILTER_PSEUDOSELECTORS

    if ":" not in selector:
        return selector, ""
    base, pseudo = re.split(":", selector, maxsplit=1)
    pseudo = f":{pseudo}"
    if pseudo in FILTER_PSEUDOSELECTORS or pseudo.startswith(":nth-child"):
        return selector, ""
    return base, pseudo


@functools.cache
def _translator():
    from lxml.cssselect import LxmlTranslator

    class AncestorTranslator(LxmlTranslator):
        """``a b`` as ``b[ancestor::a]``: the same elements, without libxml2 merging
        one node set per ``a`` (quadratic on a long page)."""

        def xpath_descendant_combinator(self, left, right):
            test = left.condition
            if left.path or "position()" in test or "last()" in test:
                return super().xpath_descendant_combinator(left, right)
            return right.add_condition(f"ancestor::{left.element}" + (f"[{test}]" if test else ""))

    return AncestorTranslator()


def _cache_path(css: str) -> Path | None:
    """Where the compiled ``css`` is kept: named by the sheet and the versions of the
    libraries that compile it (their files' sizes and times); None without a cache."""
    import importlib.util

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(f"{FORMAT}\0{css}".encode())
    for name in ("premailer", "cssutils", "cssselect", "lxml"):
        spec = importlib.util.find_spec(name)
        try:
            found = os.stat(spec.origin)
        except (OSError, TypeError, AttributeError):
            return None
        key.update(f"\0{spec.origin}\0{found.st_size}\0{found.st_mtime_ns}".encode())
    return Path(base) / "newsletter-composer" / "css" / f"{key.hexdigest()}.json"


def _keep(path: Path, compiled: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(compiled, ensure_ascii=False), encoding="utf-8")
        os.replace(temporary, path)
    except OSError:
        pass  # no cache: the next run compiles again


# -- premailer's merge, without importing it -------------------------------------------
def _merged(inline: str, styles: list, pseudos: list) -> tuple[str, tuple]:
    """(style attribute, basic HTML attributes) of an element with the ``inline`` style
    matched by rules with ``styles`` (under ``pseudos``): premailer's ``merge_styles``
    (unset properties removed) and ``_style_to_basic_html_attributes``."""
    merged: dict[str, dict] = {"": {}}
    for pseudo in set(pseudos):
        merged[pseudo] = {}
    for style, pseudo in zip(styles, pseudos, strict=True):
        for name, value in style:
            merged[pseudo][name] = value
    if inline:
        _premailer()  # (through the shim: requests stays unloaded)
        from premailer.merge_style import csstext_to_pairs

        for name, value in csstext_to_pairs(inline):
            merged[""][name] = value
    normal, pseudo_styles = [], []
    for pseudo, declared in merged.items():
        declared = {k: v for k, v in declared.items() if v.lower() != "unset"}
        if not declared:
            continue
        text = "; ".join(f"{k}:{v}" for k, v in declared.items())
        if pseudo:
            pseudo_styles.append(f"{pseudo}{{{text}}}")
        else:
            normal.append(text)
    if pseudo_styles:
        parts = ([f"{{{''.join(normal)}}}"] + pseudo_styles) if normal else pseudo_styles
    else:
        parts = normal
    final = " ".join(parts).strip()
    return final, _basic_attributes(final)


SHORT_COLOR = re.compile(r"^#([0-9a-f])([0-9a-f])([0-9a-f])$", re.I)


def _basic_attributes(style: str) -> tuple[tuple[str, str], ...]:
    """The HTML attributes premailer adds for a style (align, valign, bgcolor)."""
    if style.count("}") and style.count("{") == style.count("}"):
        style = style.split("}")[0][1:]
    found: dict[str, str] = {}
    for part in style.split(";"):
        pair = part.split(":")
        if len(pair) != 2:
            continue
        key, value = pair[0].strip(), pair[1]
        if key == "text-align":
            found["align"] = value.strip()
        elif key == "vertical-align":
            found["valign"] = value.strip()
        elif key == "background-color" and "transparent" not in value.lower():
            found["bgcolor"] = SHORT_COLOR.sub(r"#\1\1\2\2\3\3", value.strip())
        elif key in ("width", "height"):
            value = value.strip()
            found[key] = value[:-2] if value.endswith("px") else value
    return tuple((k, v) for k, v in found.items() if k not in SKIPPED_ATTRIBUTES)


@functools.cache
def _image_float(style: str) -> str:
    """``left`` or ``right`` when an image's style floats it (premailer aligns it)."""
    if "float" not in style.lower():
        return ""
    _premailer()
    import cssutils

    found = cssutils.parseStyle(style).float
    return found if found in ("left", "right") else ""


def _premailer():
    from composer.support.shims import import_premailer

    premailer = import_premailer()
    import cssutils

    cssutils.log.setLevel(logging.CRITICAL)
    return premailer
