"""What the feeds plugin keeps in the workspace state: cached bodies, health, undated
entries (its own tables, through the contract's state API).

Every table is keyed by the feed's URL with its credentials masked
(``https://***@host/feed``): a token in a feed URL is never stored.
"""

from __future__ import annotations

import datetime as dt

from composer.api import StateAPI, mask_urls

HEALTH_FIELDS = ("name", "last_success", "last_error", "last_error_at", "failures", "entries")


class FeedStore:
    def __init__(self, state: StateAPI | None) -> None:
        self.state = state
        if state is not None:
            self.cache = state.table("feeds_cache")  # url -> {etag, last_modified, content_type}
            self.bodies = state.table("feeds_bodies")  # url -> bytes of the last good copy
            self.health_table = state.table("feeds_health")  # url -> HEALTH_FIELDS
            self.undated = state.table("feeds_undated")  # "url key" -> issue id

    def cached(self, url: str) -> dict | None:
        """The last good copy of ``url``: etag, last_modified, content_type, body."""
        if self.state is None:
            return None
        url = mask_urls(url)
        meta, body = self.cache.get(url), self.bodies.get(url)
        return {**meta, "body": body} if meta is not None and body is not None else None

    def store(self, url: str, etag, last_modified, content_type, body: bytes) -> None:
        if self.state is not None:
            url = mask_urls(url)
            self.bodies.put(url, body)
            self.cache.put(
                url, {"etag": etag, "last_modified": last_modified, "content_type": content_type}
            )

    def ok(self, url: str, name: str, entries: int) -> None:
        if self.state is not None:
            row = self.health(url)
            row.update(name=mask_urls(name), last_success=_now(), failures=0, entries=entries)
            self.health_table.put(mask_urls(url), row)

    def failed(self, url: str, name: str, error: str) -> None:
        if self.state is not None:
            row = self.health(url)
            failures = (row.get("failures") or 0) + 1
            row.update(
                name=mask_urls(name),
                last_error=mask_urls(error),
                last_error_at=_now(),
                failures=failures,
            )
            self.health_table.put(mask_urls(url), row)

    def health(self, url: str) -> dict:
        if self.state is None:
            return {}
        return dict(self.health_table.get(mask_urls(url)) or {})

    def undated_issue(self, key: str, issue_id: str) -> str:
        """The issue an undated entry belongs to (this one, the first time it is seen)."""
        if self.state is None:
            return issue_id
        return self.undated.setdefault(mask_urls(key), issue_id)


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
