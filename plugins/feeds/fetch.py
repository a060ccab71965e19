"""Fetching and reading the feeds of ``[feeds]`` (used by the feeds plugin's collect)."""

from __future__ import annotations

import datetime as dt
import queue
import sys
import threading
import time
from dataclasses import dataclass

from composer.plugins.feeds.store import FeedStore

from composer.api import (
    FetchError,
    Item,
    clean_line,
    dialect_url,
    fetch,
    literal_markdown,
    mask_urls,
    text_of,
    week_bounds,
)

TITLE_CHARS = 300  # a feed's or an entry's title longer than this is cut (…)


@dataclass
class Outcome:
    """What happened to one feed this run (``parsed``: the body, read by feedparser)."""

    body: bytes | None = None
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    error: str = ""
    not_modified: bool = False
    parsed: object = None


def collect_feeds(config, ctx) -> list[Item]:
    sources = config.sources()
    store = FeedStore(ctx.state)
    cached = {s.url: store.cached(s.url) for s in sources}
    start, end = week_bounds(ctx.issue_id, ctx.settings.newsletter.timezone)
    outcomes = {} if ctx.offline else fetch_all(sources, config, cached, (start, end))
    items: list[Item] = []
    for source in sources:
        parsed = read_feed(source, outcomes.get(source.url), cached[source.url], ctx)
        if parsed is not None:
            items += entries(parsed, source, config, ctx, start, end)
    return items


def fetch_one(
    session, url: str, config, cached, week, stop: threading.Event | None = None, fetched=None
) -> Outcome:
    """Conditional GET of one feed, parsed as soon as it arrives (on a worker thread)
    and kept only as far as the issue's ``week`` (start, end) needs it (:func:`_slim`).

    Setting ``stop`` abandons the fetch at its next step (the connection is closed);
    ``fetched()`` is called once the body is in, before it waits for its turn to parse.
    """
    headers = {}
    if cached and cached["etag"]:
        headers["If-None-Match"] = cached["etag"]
    if cached and cached["last_modified"]:
        headers["If-Modified-Since"] = cached["last_modified"]
    try:
        got = fetch(session, url, config.timeout, config.max_bytes, headers, stop=stop)
    except FetchError as exc:
        return Outcome(error=str(exc))
    if got.status >= 400:
        return Outcome(error=f"HTTP {got.status} {got.reason}".strip())
    outcome = Outcome(
        body=got.content,
        content_type=got.headers.get("content-type", ""),
        etag=got.headers.get("etag"),
        last_modified=got.headers.get("last-modified"),
        not_modified=got.not_modified,
    )
    if fetched is not None:
        fetched()
    if not outcome.not_modified:
        with PARSING:
            outcome.parsed = _slim(_parse(outcome.body, outcome.content_type, url), *week)
    return outcome


# one feed parsed at a time: parsing holds the GIL, so more at once is no faster, and
# each parse may hold ~20 times its body in memory until it is slimmed
PARSING = threading.Lock()


ENTRY_KEYS = ("id", "link", "title", "title_detail", "summary", "summary_detail")
ENTRY_KEYS += ("published_parsed", "updated_parsed")


def _slim(parsed, start: dt.datetime, end: dt.datetime):
    """A parsed feed reduced to what an issue of the week [start, end) reads: its title,
    whether it is broken, how many entries it has, and the fields of its entries of
    that week (and undated ones). Feeds wait for each other in memory only so small:
    a feed of 35,000 entries parses to ~90 MB."""
    from feedparser import FeedParserDict

    kept = []
    for entry in parsed.entries:
        when = _when(entry)
        if when is None or start <= when < end:
            kept.append(FeedParserDict({k: entry[k] for k in ENTRY_KEYS if k in entry}))
    feed = FeedParserDict({k: v for k, v in parsed.feed.items() if k in ("title", "title_detail")})
    slim = {"feed": feed, "entries": kept, "count": len(parsed.entries)}
    slim.update({k: parsed.get(k) for k in ("bozo", "bozo_exception", "version")})
    return FeedParserDict(slim)


def fetch_all(sources, config, cached: dict, week) -> dict[str, Outcome]:
    """Every feed fetched on ``config.concurrency`` daemon threads.

    A feed not fetched ``config.timeout`` seconds after it started is given up (its
    thread is told to stop, and replaced; parsing, one feed at a time, is not timed),
    so one hanging server cannot stall the issue; every fetch still running when this
    returns is told to stop too.
    """
    from composer.api import http_client as client

    jobs: queue.SimpleQueue = queue.SimpleQueue()
    for source in sources:
        jobs.put(source.url)
    done: queue.SimpleQueue = queue.SimpleQueue()
    started: dict[str, float] = {}
    stops: dict[str, threading.Event] = {source.url: threading.Event() for source in sources}
    outcomes: dict[str, Outcome] = {}
    progress = _progress(len(sources))

    def work() -> None:
        while True:
            try:
                url = jobs.get_nowait()
            except queue.Empty:
                return
            started[url] = time.monotonic()
            try:
                got = fetch_one(
                    session,
                    url,
                    config,
                    cached[url],
                    week,
                    stops[url],
                    fetched=lambda u=url: started.pop(u, None),  # its timeout is over
                )
                done.put((url, got))
            except Exception as exc:  # feedparser or httpx internals: this feed only
                done.put((url, Outcome(error=f"{type(exc).__name__}: {exc}")))

    def spawn() -> None:
        threading.Thread(target=work, daemon=True, name="composer-feed").start()

    session = client(config.concurrency, config.timeout)
    try:
        for _ in range(min(config.concurrency, len(sources))):
            spawn()
        import feedparser  # noqa: F401  (loads while the first requests are in flight)
        import nh3  # noqa: F401

        while len(outcomes) < len(sources):
            running = [(u, t) for u, t in list(started.items()) if u not in outcomes]
            first = min((t for _, t in running), default=None)
            wait = None if first is None else max(0.0, first + config.timeout - time.monotonic())
            try:
                url, outcome = done.get(timeout=wait)
            except queue.Empty:
                now = time.monotonic()
                for url, began in running:
                    if now - began >= config.timeout:
                        outcomes[url] = Outcome(error=f"timed out after {config.timeout:g} s")
                        stops[url].set()
                        spawn()
                continue
            if url not in outcomes:
                outcomes[url] = outcome
                if progress:
                    progress.advance(progress.task_ids[0])
    finally:
        for stop in stops.values():
            stop.set()
        if progress:
            progress.stop()
        session.close()  # an abandoned thread's late request fails quietly
    return outcomes


def _progress(total: int):
    """A rich progress bar on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return None
    from rich.console import Console
    from rich.progress import Progress

    progress = Progress(console=Console(stderr=True), transient=True)
    progress.add_task("fetching feeds", total=total)
    progress.start()
    return progress


def read_feed(source, outcome: Outcome | None, cached, ctx):
    """The parsed feed to use: this run's copy, or the last good one when it broke."""
    store = FeedStore(ctx.state)
    shown = mask_urls(source.url)  # what warnings and the state say: no credentials
    name = source.name or shown
    error = ""
    if outcome is None:  # offline
        if cached is None:
            ctx.warn(shown, "offline and no stored copy yet: skipped")
            return None
        return _parse(cached["body"], cached["content_type"], source.url)
    if outcome.error:
        error = outcome.error
    elif outcome.not_modified:
        if cached is None:
            error = "304 Not Modified, but no stored copy"
        else:
            parsed = _parse(cached["body"], cached["content_type"], source.url)
            store.ok(source.url, name, len(parsed.entries))
            return parsed
    if not error:
        parsed = outcome.parsed
        error = _broken(parsed)
        if not error:
            store.store(
                source.url, outcome.etag, outcome.last_modified, outcome.content_type, outcome.body
            )
            count = parsed.get("count", len(parsed.entries))
            store.ok(source.url, source.name or parsed.feed.get("title", ""), count)
            return parsed
    error = mask_urls(error)
    store.failed(source.url, name, error)
    if cached is not None:
        ctx.warn(shown, f"feed broken ({error}); using the last good copy")
        return _parse(cached["body"], cached["content_type"], source.url)
    ctx.warn(shown, f"feed broken ({error}); its entries are missing")
    return None


def _parse(body: bytes, content_type: str, url: str):
    """feedparser on the bytes we fetched, seeing the headers that matter.

    Its own HTML sanitising and URI rewriting are off: every title and summary is
    reduced to plain text by nh3 (:func:`_text`), and only http(s) links are kept.
    """
    import feedparser

    # relative links resolve against the URL without its credentials: never in an item
    headers = {"content-location": _without_credentials(url)}
    if content_type:
        headers["content-type"] = content_type
    return feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )


def _without_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return ""
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _broken(parsed) -> str:
    """Why a parsed feed cannot be trusted, or '' when it is fine."""
    exc = parsed.get("bozo_exception")
    if parsed.get("bozo") and type(exc).__name__ != "NonXMLContentType":  # text/plain is fine
        message = str(exc).strip().splitlines()[0] if exc and str(exc).strip() else "bad XML"
        if "encoding" in type(exc).__name__.lower() or "encoding" in message.lower():
            return f"wrong encoding: {message}"
        if not parsed.get("version"):
            return f"not an RSS or Atom feed ({message})"
        return f"broken XML: {message}"
    if not parsed.get("version"):
        return "not an RSS or Atom feed"
    return ""


def entries(parsed, source, config, ctx, start: dt.datetime, end: dt.datetime) -> list[Item]:
    items: list[Item] = []
    title = text_of(parsed.feed.get("title", ""), _kind(parsed.feed, "title"))
    feed_name = source.name or clean_line(title, TITLE_CHARS) or mask_urls(source.url)
    for entry in parsed.entries:
        when = _when(entry)
        if when is None:
            key = entry.get("id") or entry.get("link") or entry.get("title", "")
            if FeedStore(ctx.state).undated_issue(f"{source.url} {key}", ctx.issue_id) != (
                ctx.issue_id
            ):
                continue
        elif not start <= when < end:
            continue
        items.append(_item(entry, source, feed_name, config.summary_chars))
    if config.max_entries and len(items) > config.max_entries:
        ctx.warn(
            mask_urls(source.url),
            f"{len(items)} entries this week: the first {config.max_entries} are kept "
            "([feeds] max_entries)",
        )
        del items[config.max_entries :]
    return items


def _when(entry) -> dt.datetime | None:
    stamp = entry.get("published_parsed") or entry.get("updated_parsed")
    if not stamp:
        return None
    return dt.datetime(*stamp[:6], tzinfo=dt.UTC)


def _kind(node, field: str) -> str:
    """The content type feedparser found for ``field`` (text/plain, text/html ...)."""
    return (node.get(f"{field}_detail") or {}).get("type", "text/html")


def _item(entry, source, feed_name: str, limit: int) -> Item:
    """An entry as a link item: its title plain text, its summary Markdown that shows
    the plain text exactly (nothing in feed text is markup), its own link."""
    link = entry.get("link", "").strip()
    # credentials are never published, and real.example@evil.example goes to evil.example
    link = _without_credentials(link) if link.startswith(("http://", "https://")) else ""
    link = dialect_url(link) if link else ""
    summary = clean_line(text_of(entry.get("summary", ""), _kind(entry, "summary")), limit)
    meta = {"source": feed_name, "section": source.section}
    if entry.get("id"):
        meta["guid"] = entry["id"]
    return Item(
        "link",
        title=clean_line(text_of(entry.get("title", ""), _kind(entry, "title")), TITLE_CHARS),
        url=link,
        text=literal_markdown(summary),
        meta=meta,
        origin=mask_urls(source.url),
    )
