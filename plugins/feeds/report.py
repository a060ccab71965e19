"""``composer feeds``: stored health of every feed, or ``--check``: fetch them now."""

from __future__ import annotations

from composer.plugins.feeds.store import FeedStore

from composer import api


def _sources(ctx):
    config = ctx.config_for("feeds")
    return config, (config.sources() if config else [])


def health(ctx) -> None:
    """Last success, consecutive failures, entries and last error of each feed."""
    _, sources = _sources(ctx)
    store = FeedStore(ctx.state)
    # the table is keyed by masked URLs (no credentials are stored)
    urls = [api.mask_url(s.url) for s in sources] + [url for url, _ in store.health_table.items()]
    rows = []
    for url in dict.fromkeys(urls):
        row = store.health(url)
        failures = row.get("failures") or 0
        rows.append(
            (
                api.mask_url(url),
                row.get("last_success") or "never",
                str(failures),
                "" if row.get("entries") is None else str(row["entries"]),
                api.mask_urls(row.get("last_error") or "") if failures else "",
            )
        )
    api.print_table(("URL", "LAST SUCCESS", "FAILURES", "ENTRIES", "LAST ERROR"), rows)
    if not sources:
        ctx.warn("[feeds]", "no feed URLs in composer.toml")
    elif not any(store.health(s.url) for s in sources):
        ctx.warn("[feeds]", "no feed fetched yet: `composer feeds --check` fetches them now")


def check_now(ctx) -> None:
    """Fetch every feed now: status, entries, entries dated this week, errors.

    Nothing is stored and no issue is touched.
    """
    from composer.plugins.feeds.fetch import _broken, _when, fetch_all

    config, sources = _sources(ctx)
    if not sources:
        raise api.UsageError("no feed URLs in composer.toml", "add [feeds] urls = [...]")
    zone = ctx.settings.newsletter.timezone
    week = api.week_bounds(_this_week(zone), zone)
    outcomes = fetch_all(sources, config, {s.url: None for s in sources}, week)
    rows, failed = [], 0
    for source in sources:
        outcome = outcomes[source.url]
        error = outcome.error or (_broken(outcome.parsed) if outcome.parsed is not None else "")
        if error:
            failed += 1
            rows.append((api.mask_url(source.url), "FAILED", "", "", api.mask_urls(error)))
            continue
        kept = outcome.parsed.entries  # this week's and undated ones (fetch._slim)
        dated = [_when(e) for e in kept]
        in_week = sum(1 for when in dated if when)
        undated = len(dated) - in_week
        note = f"{undated} undated" if undated else ""
        count = str(outcome.parsed.get("count", len(kept)))
        rows.append((api.mask_url(source.url), "ok", count, str(in_week), note))
    header = ("URL", "STATUS", "ENTRIES", f"THIS WEEK ({_this_week(zone)})", "ERROR")
    api.print_table(header, rows)
    if failed:
        raise api.UserError(f"{failed} of {len(sources)} feed(s) failed")


def _this_week(zone: str) -> str:
    import datetime as dt
    from zoneinfo import ZoneInfo

    year, week, _ = dt.datetime.now(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"
