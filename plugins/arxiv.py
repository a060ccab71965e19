"""arXiv enrichment: titles (and authors) for items whose link is an arXiv paper.

One batched request to the arXiv API (``id_list=``) per run for the ids not yet in
the state's cache, which keeps them forever (a version's metadata never changes).
Offline, or when the API fails, the issue is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass

from composer.contract.hookspecs import hookimpl
from composer.support.text import arxiv_id

API = "https://export.arxiv.org/api/query"
BATCH = 100


@dataclass
class ArxivConfig:
    """``[arxiv]`` in composer.toml."""

    __pydantic_config__ = {"extra": "forbid"}
    api_url: str = API
    timeout: float = 20.0


def wanting(issue) -> list:
    """(item, arXiv id) of every paper or link item that has an arXiv link and no title."""
    found = []
    for item in issue.items():
        if item.kind in ("paper", "link") and not item.title and item.url:
            ident = arxiv_id(item.url)
            if ident:
                found.append((item, ident))
    return found


def lookup(ids: list[str], config, ctx) -> dict[str, tuple[str, list[str]]]:
    """{id: (title, authors)} from the state's cache and at most one API request."""
    import feedparser

    from composer.support.http import FetchError, get

    known = ctx.state.arxiv(ids) if ctx.state else {}
    missing = [i for i in dict.fromkeys(ids) if i not in known]
    if not missing or ctx.offline:
        return known
    try:
        got = get(
            config.api_url,
            timeout=config.timeout,
            params={"id_list": ",".join(missing[:BATCH]), "max_results": str(BATCH)},
        )
    except FetchError as exc:
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
        ident = arxiv_id(entry.get("id", ""))
        title = " ".join(entry.get("title", "").split())
        if ident and title:
            fetched[ident] = (title, [a.get("name", "") for a in entry.get("authors", [])])
    if ctx.state and fetched:
        ctx.state.store_arxiv(fetched)
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
            title, authors = found[ident]
            item.title = title
            if authors:
                item.meta["authors"] = authors


@hookimpl
def register_settings(register):
    register("arxiv", ArxivConfig)
