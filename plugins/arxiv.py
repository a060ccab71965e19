"""arXiv enrichment: titles for items whose link is an arXiv paper and that have none.

One batched request to the arXiv API (``id_list=``) per run for the ids not yet in
the plugin's state table ``arxiv_meta`` (title and authors), which keeps them
forever: a version's metadata never changes. The title goes into the item, so
issue.md carries it to every later render. Offline, or when the API fails, the
issue is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from composer import api
from composer.api import hookimpl

API = "https://export.arxiv.org/api/query"
BATCH = 100
TITLE_CHARS = 300


@dataclass
class ArxivConfig:
    """``[arxiv]`` in composer.toml."""

    __pydantic_config__ = {"extra": "forbid"}
    api_url: Annotated[str, api.HttpURL()] = API
    timeout: Annotated[float, api.Within(0, 600, above=True)] = 20.0


def wanting(issue) -> list:
    """(item, arXiv id) of every paper or link item that has an arXiv link and no title."""
    found = []
    for item in issue.items():
        if item.kind in ("paper", "link") and not item.title and item.url:
            ident = api.arxiv_id(item.url)
            if ident:
                found.append((item, ident))
    return found


def lookup(ids: list[str], config, ctx) -> dict[str, tuple[str, list[str]]]:
    """{id: (title, authors)} from the state's cache and at most one API request."""
    import feedparser

    cache = ctx.state.table("arxiv_meta") if ctx.state else None
    known = {}
    for ident in ids:
        found = cache.get(ident) if cache else None
        if found:
            known[ident] = (found["title"], found["authors"])
    missing = [i for i in dict.fromkeys(ids) if i not in known]
    if not missing or ctx.offline:
        return known
    try:
        got = api.http_get(
            config.api_url,
            timeout=config.timeout,
            params={"id_list": ",".join(missing[:BATCH]), "max_results": str(BATCH)},
        )
    except api.FetchError as exc:
        ctx.warn(config.api_url, f"arXiv lookup failed ({exc}); titles left as they are")
        return known
    parsed = feedparser.parse(got.content)
    errors = [e for e in parsed.entries if e.get("title", "").strip() == "Error"]
    if got.status >= 400 or errors:
        reason = errors[0].get("summary", "").strip() if errors else f"HTTP {got.status}"
        ctx.warn(config.api_url, f"arXiv API error: {reason}; titles left as they are")
        return known
    fetched = {}
    for entry in parsed.entries:
        ident = api.arxiv_id(entry.get("id", ""))
        kind = (entry.get("title_detail") or {}).get("type", "text/plain")
        title = api.clean_line(api.text_of(entry.get("title", ""), kind), TITLE_CHARS)
        if ident and title:
            fetched[ident] = (title, [a.get("name", "") for a in entry.get("authors", [])])
    for ident, (title, authors) in fetched.items() if cache else ():
        cache.put(ident, {"title": title, "authors": authors})
    return {**known, **fetched}


@hookimpl
def process_issue(issue, ctx):
    config = ctx.config_for("arxiv")
    targets = wanting(issue)
    if not targets or config is None:
        return
    found = lookup([ident for _, ident in targets], config, ctx)
    for item, ident in targets:
        if ident in found:
            item.title = found[ident][0]


@hookimpl
def register_settings(register):
    register("arxiv", ArxivConfig)
