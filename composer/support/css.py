"""CSS inlined into HTML (email clients and the WeChat editor keep only inline styles).

premailer's own ``transform`` selects each rule's elements with one XPath over the
whole page; for a descendant selector (``.md p``) libxml2 merges the node sets of
every ``.md`` element, which grows with the square of the page (a 20,000-item
email: 3 s). :func:`inline_css` does what ``transform`` does with our options,
with premailer's own pieces (rule parsing, ``merge_styles``, the basic HTML
attributes), except that a descendant selector becomes an ancestor test on the
right-hand element (``p[ancestor::*[.md]]``: the same elements), and the merged
style of each combination of rules is worked out once. tests/test_render.py checks
that the result equals premailer's ``transform`` byte for byte.
"""

from __future__ import annotations

import functools
import logging
import operator
import re

OPTIONS = {
    "allow_network": False,
    "strip_important": False,
    "disable_validation": True,
    "keep_style_tags": False,
    "disable_basic_attributes": ["width", "height"],
    "cssutils_logging_level": logging.CRITICAL,
}


def premailer_transform(html: str) -> str:
    """``html`` inlined by premailer's own ``transform`` (the reference)."""
    return _premailer().Premailer(html, **OPTIONS).transform()


def inline_css(html: str) -> str:
    """``html`` with the rules of its ``<style>`` elements moved into ``style`` attributes
    (premailer's result, no network, no width/height attributes added, ``<style>``
    removed)."""
    from lxml import etree

    premailer = _premailer()
    inliner = premailer.Premailer(html, **OPTIONS)
    stripped = html.strip()
    tree = etree.fromstring(stripped, etree.HTMLParser()).getroottree()
    page = tree.getroot()
    root = tree if stripped.startswith(tree.docinfo.doctype) else page
    premailer.premailer.get_or_create_head(tree)
    rules = _style_rules(inliner, page)
    rules.sort(key=operator.itemgetter(0))
    matched: dict[int, tuple] = {}  # id -> (element, [rule numbers], [pseudo-classes])
    for number, (_, selector, _) in enumerate(rules):
        selector, pseudo = _split_pseudo(selector)
        for element in _selector(selector)(page):
            entry = matched.setdefault(id(element), (element, [], []))
            entry[1].append(number)
            entry[2].append(pseudo)
    from premailer.merge_style import csstext_to_pairs

    pairs = [csstext_to_pairs(style, validate=False) for _, _, style in rules]
    merged: dict[tuple, tuple] = {}  # elements alike get the same style and attributes
    for element, numbers, pseudos in matched.values():
        key = (element.attrib.get("style", ""), tuple(numbers), tuple(pseudos))
        if key not in merged:
            merged[key] = _merged(inliner, key[0], [pairs[n] for n in numbers], pseudos)
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


def _premailer():
    from composer.support.shims import import_premailer

    premailer = import_premailer()
    import cssutils

    cssutils.log.setLevel(logging.CRITICAL)
    return premailer


def _style_rules(inliner, page) -> list[tuple]:
    """The (specificity, selector, style) rules of the page's ``<style>`` elements, which
    are removed (or keep what cannot be inlined), as premailer's ``transform`` does."""
    from premailer.premailer import _create_cssselector

    rules: list[tuple] = []
    index = 0
    for element in _create_cssselector("style")(page):
        media = element.attrib.get("media")
        if media and media not in ("all", "screen"):
            continue
        if element.attrib.get(inliner.attribute_name) == "ignore":
            del element.attrib[inliner.attribute_name]
            continue
        these, leftover = inliner._parse_style_rules(element.text, index)
        index += 1
        rules.extend(these)
        if leftover:
            element.text = inliner._css_rules_to_string(leftover)
        else:
            element.getparent().remove(element)
    return rules


def _split_pseudo(selector: str) -> tuple[str, str]:
    """(selector to match, pseudo-class its style is kept under), as premailer splits."""
    if ":" not in selector:
        return selector, ""
    base, pseudo = re.split(":", selector, maxsplit=1)
    pseudo = f":{pseudo}"
    from premailer.premailer import FILTER_PSEUDOSELECTORS

    if pseudo in FILTER_PSEUDOSELECTORS or pseudo.startswith(":nth-child"):
        return selector, ""
    return base, pseudo


@functools.cache
def _selector(css: str):
    from lxml.cssselect import CSSSelector

    return CSSSelector(css, translator=_translator())


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


def _merged(inliner, inline: str, styles: list, pseudos: list) -> tuple[str, tuple]:
    """(style attribute, basic HTML attributes) of an element with the ``inline`` style
    that rules of ``styles`` match: premailer's ``merge_styles`` and attributes."""
    from lxml import etree
    from premailer.merge_style import merge_styles

    final = merge_styles(
        inline, styles, list(pseudos), remove_unset_properties=inliner.remove_unset_properties
    )
    probe = etree.Element("probe")
    inliner._style_to_basic_html_attributes(probe, final, force=True)
    return final, tuple(probe.attrib.items())


@functools.cache
def _image_float(style: str) -> str:
    import cssutils

    found = cssutils.parseStyle(style).float
    return found if found in ("left", "right") else ""
