"""SQLite state of a workspace (``.composer/state.db``): issue records and more.

Each feature adds its own tables through ``ensure``; the file is opened per use.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY,
    issue_md_sha256 TEXT,
    generated_at TEXT
);
CREATE TABLE IF NOT EXISTS feed_cache (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    content_type TEXT,
    body BLOB,
    fetched_at TEXT
);
CREATE TABLE IF NOT EXISTS feed_health (
    url TEXT PRIMARY KEY,
    name TEXT,
    last_success TEXT,
    last_error TEXT,
    last_error_at TEXT,
    failures INTEGER NOT NULL DEFAULT 0,
    entries INTEGER
);
CREATE TABLE IF NOT EXISTS undated_entries (
    key TEXT PRIMARY KEY,
    issue_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS arxiv_meta (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    authors TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    issue_id TEXT PRIMARY KEY,
    fire_time TEXT NOT NULL,
    action TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    outcome TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS deliveries (
    issue_id TEXT NOT NULL,
    deliverer TEXT NOT NULL,
    target TEXT NOT NULL,
    delivered_at TEXT NOT NULL,
    PRIMARY KEY (issue_id, deliverer)
);
"""

RUN_COLUMNS = ("issue_id", "fire_time", "action", "started", "finished", "outcome", "detail")


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class State:
    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".composer" / "state.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # collect may run on a worker thread (its time budget); use is never concurrent
        self.db = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
        # WAL: a commit per feed stays cheap, and readers never block the writer
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def generated_hash(self, issue_id: str) -> str | None:
        row = self.db.execute(
            "SELECT issue_md_sha256 FROM issues WHERE id = ?", (issue_id,)
        ).fetchone()
        return row[0] if row else None

    def record_generated(self, issue_id: str, sha256: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO issues (id, issue_md_sha256, generated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET issue_md_sha256 = excluded.issue_md_sha256, "
                "generated_at = excluded.generated_at",
                (issue_id, sha256, now()),
            )

    # -- feeds ---------------------------------------------------------------
    def cached_feed(self, url: str) -> dict | None:
        row = self.db.execute(
            "SELECT etag, last_modified, content_type, body FROM feed_cache WHERE url = ?", (url,)
        ).fetchone()
        if row is None:
            return None
        return dict(zip(("etag", "last_modified", "content_type", "body"), row, strict=True))

    def store_feed(self, url: str, etag, last_modified, content_type, body: bytes) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO feed_cache VALUES (?, ?, ?, ?, ?, ?)",
                (url, etag, last_modified, content_type, body, now()),
            )

    def feed_ok(self, url: str, name: str, entries: int) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO feed_health (url, name, last_success, failures, entries) "
                "VALUES (?, ?, ?, 0, ?) ON CONFLICT(url) DO UPDATE SET name = excluded.name, "
                "last_success = excluded.last_success, failures = 0, entries = excluded.entries",
                (url, name, now(), entries),
            )

    def feed_failed(self, url: str, name: str, error: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT INTO feed_health (url, name, last_error, last_error_at, failures) "
                "VALUES (?, ?, ?, ?, 1) ON CONFLICT(url) DO UPDATE SET name = excluded.name, "
                "last_error = excluded.last_error, last_error_at = excluded.last_error_at, "
                "failures = feed_health.failures + 1",
                (url, name, error, now()),
            )

    def feed_health(self) -> list[dict]:
        cols = ("url", "name", "last_success", "last_error", "last_error_at", "failures", "entries")
        rows = self.db.execute(f"SELECT {', '.join(cols)} FROM feed_health ORDER BY url")
        return [dict(zip(cols, row, strict=True)) for row in rows]

    def undated_issue(self, key: str, issue_id: str) -> str:
        """The issue an undated entry belongs to (this one, the first time it is seen)."""
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO undated_entries (key, issue_id) VALUES (?, ?)",
                (key, issue_id),
            )
        row = self.db.execute("SELECT issue_id FROM undated_entries WHERE key = ?", (key,))
        return row.fetchone()[0]

    # -- arXiv ---------------------------------------------------------------
    def arxiv(self, ids: list[str]) -> dict[str, tuple[str, list[str]]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, title, authors FROM arxiv_meta WHERE id IN ({marks})", ids
        )
        return {i: (t, json.loads(a)) for i, t, a in rows}

    def store_arxiv(self, found: dict[str, tuple[str, list[str]]]) -> None:
        with self.db:
            self.db.executemany(
                "INSERT OR REPLACE INTO arxiv_meta VALUES (?, ?, ?)",
                [(i, t, json.dumps(a, ensure_ascii=False)) for i, (t, a) in found.items()],
            )

    # -- schedule ------------------------------------------------------------
    def first_start(self, when: str) -> str:
        """When the scheduler first started in this workspace (``when``, the first time)."""
        with self.db:
            self.db.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('scheduler_first_start', ?)",
                (when,),
            )
        row = self.db.execute("SELECT value FROM meta WHERE key = 'scheduler_first_start'")
        return row.fetchone()[0]

    def run(self, issue_id: str) -> dict | None:
        row = self.db.execute(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE issue_id = ?", (issue_id,)
        ).fetchone()
        return dict(zip(RUN_COLUMNS, row, strict=True)) if row else None

    def claim_run(self, issue_id: str, fire_time: str, action: str, stale_after: float) -> bool:
        """Start the run of ``issue_id`` unless it is done, or running elsewhere and fresh."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            row = self.db.execute(
                "SELECT outcome, started FROM runs WHERE issue_id = ?", (issue_id,)
            ).fetchone()
            if row and row[0] == "ok":
                self.db.rollback()
                return False
            if row and row[0] == "running":
                age = dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(row[1])
                if age.total_seconds() < stale_after:
                    self.db.rollback()
                    return False
            self.db.execute(
                "INSERT OR REPLACE INTO runs (issue_id, fire_time, action, started, outcome) "
                "VALUES (?, ?, ?, ?, 'running')",
                (issue_id, fire_time, action, now()),
            )
            self.db.commit()
            return True
        except BaseException:
            self.db.rollback()
            raise

    def finish_run(self, issue_id: str, outcome: str, detail: str) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished = ?, outcome = ?, detail = ? WHERE issue_id = ?",
                (now(), outcome, detail, issue_id),
            )

    # -- deliveries ----------------------------------------------------------
    def deliveries(self, issue_id: str) -> dict[str, dict]:
        rows = self.db.execute(
            "SELECT deliverer, target, delivered_at FROM deliveries WHERE issue_id = ?",
            (issue_id,),
        )
        return {d: {"target": t, "delivered_at": at} for d, t, at in rows}

    def record_delivery(self, issue_id: str, deliverer: str, target: str) -> None:
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?)",
                (issue_id, deliverer, target, now()),
            )
