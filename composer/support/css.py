"""CSS inlined into HTML (email clients and the WeChat editor keep only inline styles)."""

from __future__ import annotations


def inline_css(html: str) -> str:
    """``html`` with the rules of its ``<style>`` elements moved into ``style`` attributes
    (premailer, no network, no width/height attributes added, ``<style>`` removed)."""
    import logging

    from composer.support.shims import import_premailer

    premailer = import_premailer()
    import cssutils

    cssutils.log.setLevel(logging.CRITICAL)
    return premailer.Premailer(
        html,
        allow_network=False,
        strip_important=False,
        disable_validation=True,
        keep_style_tags=False,
        disable_basic_attributes=["width", "height"],
        cssutils_logging_level=logging.CRITICAL,
    ).transform()
