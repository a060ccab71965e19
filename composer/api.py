"""The one import surface for plugins, the built-in ones included.

Everything a plugin may use is named here and documented in docs/plugins.md; the
rest of ``composer`` is private and may change in any release. ``hookimpl`` is
imported at once; every other name (the model, the protocols, the helpers) loads on
first use, so a plugin module that does ``from composer import api`` and writes
``api.Item(...)`` inside its functions costs ``composer --help`` nothing.
``from composer.api import Item`` works too, and loads the model there and then.
"""

from __future__ import annotations

import importlib
from typing import Any

from composer import PLUGIN_API_VERSION
from composer.contract.hookspecs import hookimpl
from composer.errors import UsageError, UserError

_MODEL = "composer.contract.model"
_PROTOCOLS = "composer.contract.protocols"
_CONTRACT: dict[str, str] = {
    **dict.fromkeys(("NOTE", "Issue", "Item", "Link", "Section", "Turn"), _MODEL),
    **dict.fromkeys(
        (
            "Block",
            "Context",
            "Deliverer",
            "Delivery",
            "DeliveryError",
            "Preview",
            "Problem",
            "RenderContext",
            "Renderer",
            "Report",
            "SectionType",
            "StateAPI",
            "Table",
            "section_title",
        ),
        _PROTOCOLS,
    ),
}

# name -> module that defines it (or (module, name there)), imported on first access
_HELPERS: dict[str, str | tuple[str, str]] = {
    **_CONTRACT,
    # text and URLs
    "trim_lines": "composer.support.text",
    "find_urls": "composer.support.text",
    "urls": "composer.support.text",
    "split_at_url": "composer.support.text",
    "markdown_link": "composer.support.text",
    "arxiv_id": "composer.support.text",
    "canonical_url": "composer.support.text",
    "fold": "composer.support.text",
    # text from outside: data, never markup
    "clean_line": "composer.support.literal",
    "literal_markdown": "composer.support.literal",
    "text_of": "composer.support.literal",
    "defuse_links": "composer.support.literal",
    "escape_title": "composer.support.literal",
    "unescape_title": "composer.support.literal",
    "dialect_url": "composer.support.literal",
    # code fences
    "Fences": "composer.support.fences",
    "fence_marker": "composer.support.fences",
    # labelled turns and link lists of the dialect
    "scan_turns": ("composer.support.turns", "scan"),
    "match_label": "composer.support.turns",
    "label_number": "composer.support.turns",
    "parse_threads": "composer.support.turns",
    "serialize_turns": "composer.support.turns",
    "thread_score": "composer.support.turns",
    "parse_link_list": "composer.support.linklist",
    "serialize_link_list": "composer.support.linklist",
    "link_list_score": "composer.support.linklist",
    # Markdown
    "markdown_to_html": ("composer.support.mdwriter", "to_html"),
    "MarkdownWriter": "composer.support.mdwriter",
    "CitingWriter": "composer.support.citations",
    "markdown_node_text": ("composer.support.mdwriter", "node_text"),
    "markdown_plain_text": ("composer.support.mdwriter", "plain_text"),
    "label_first": "composer.support.mdblocks",
    "blockquote": "composer.support.mdblocks",
    "squeeze": "composer.support.mdblocks",
    "dump_front_matter": "composer.support.frontmatter",
    # WeChat: numbered references shared by every WeChat output
    "Citations": "composer.support.citations",
    "weixin_link": "composer.support.citations",
    "inline_css": "composer.support.css",
    # HTML output checks
    "visible_html": "composer.pipeline.fidelity",
    # the week and dates
    "week_bounds": "composer.support.workspace",
    "issue_day": "composer.support.dates",
    "parse_when": "composer.support.dates",
    "machine_date": "composer.support.dates",
    "show_date": "composer.support.dates",
    # network, with the network policy
    "http_client": ("composer.support.http", "client"),
    "fetch": "composer.support.http",
    "http_request": ("composer.support.http", "request"),
    "http_get": ("composer.support.http", "get"),
    "FetchError": "composer.support.http",
    "HTTPError": "composer.support.http",
    "check_url": "composer.support.http",
    "mask_url": "composer.support.text",
    "mask_urls": "composer.support.text",
    "is_placeholder": "composer.support.text",
    # email
    "build_message": "composer.support.mail",
    # composer.toml values (Annotated constraints for config models)
    "Within": "composer.support.constraints",
    "HttpURL": "composer.support.constraints",
    "EmailAddress": "composer.support.constraints",
    "SectionName": "composer.support.constraints",
    # commands
    "workspace_option": "composer.commands.common",
    "open_context": "composer.commands.common",
    "print_table": "composer.commands.common",
}

__all__ = ["PLUGIN_API_VERSION", "hookimpl", "UsageError", "UserError", *_HELPERS]


def __getattr__(name: str) -> Any:
    where = _HELPERS.get(name)
    if where is None:
        raise AttributeError(f"composer.api has no {name!r}")
    module, attr = (where, name) if isinstance(where, str) else where
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
