"""SQLite state of a workspace (``.composer/state.db``).

The core keeps its own tables (issue records, scheduled runs, deliveries and their
claims, meta).
Plugins get namespaced key-value tables through :meth:`State.table` (the contract's
``StateAPI``): the feeds plugin's cache and health, the arXiv cache, WeChat media
ids ... The file is opened per use; WAL and a busy timeout let commands that run at
the same time (a draft beside the scheduled run) wait for each other instead of
failing with "database is locked".
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY,
    issue_md_sha256 TEXT,
    generated_at TEXT
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
CREATE TABLE IF NOT EXISTS delivery_claims (
    issue_id TEXT NOT NULL,
    deliverer TEXT NOT NULL,
    token TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (issue_id, deliverer)
);
CREATE TABLE IF NOT EXISTS delivery_unsent (
    issue_id TEXT NOT NULL,
    deliverer TEXT NOT NULL,
    token TEXT NOT NULL,
    PRIMARY KEY (issue_id, deliverer)
);
CREATE TABLE IF NOT EXISTS delivery_doubts (
    issue_id TEXT NOT NULL,
    deliverer TEXT NOT NULL,
    at TEXT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (issue_id, deliverer)
);
"""

RUN_COLUMNS = ("issue_id", "fire_time", "action", "started", "finished", "outcome", "detail")
BUSY_TIMEOUT_S = 30.0
TABLE_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def state_file(workspace: Path) -> Path:
    return workspace / ".composer" / "state.db"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _connect(path: Path) -> sqlite3.Connection:
    """A connection in WAL mode with a busy timeout, the schema in place.

    Switching a new file to WAL takes an exclusive lock that SQLite does not wait
    for; two processes creating the state at once retry until the timeout.
    """
    # collect may run on a worker thread (its time budget); use is never concurrent
    db = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    db.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.executescript(SCHEMA)
            return db
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) and "busy" not in str(exc):
                db.close()
                raise
            if time.monotonic() > deadline:
                db.close()
                raise
            time.sleep(0.05)


class Table:
    """A plugin's key-value table (``plugin_<name>``): JSON values or bytes."""

    def __init__(self, db: sqlite3.Connection, name: str) -> None:
        if not TABLE_NAME.fullmatch(name):
            raise ValueError(f"state table name {name!r}: use a-z, 0-9 and _")
        self.db = db
        self.sql_name = f"plugin_{name}"
        with db:
            db.execute(
                f"CREATE TABLE IF NOT EXISTS {self.sql_name} (key TEXT PRIMARY KEY, "
                "value BLOB, is_bytes INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL)"
            )

    @staticmethod
    def _encode(value: Any) -> tuple[Any, int]:
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value), 1
        return json.dumps(value, ensure_ascii=False), 0

    @staticmethod
    def _decode(value: Any, is_bytes: int) -> Any:
        return bytes(value) if is_bytes else json.loads(value)

    def get(self, key: str, default: Any = None) -> Any:
        row = self.db.execute(
            f"SELECT value, is_bytes FROM {self.sql_name} WHERE key = ?", (key,)
        ).fetchone()
        return self._decode(*row) if row else default

    def put(self, key: str, value: Any) -> None:
        with self.db:
            self.db.execute(
                f"INSERT OR REPLACE INTO {self.sql_name} VALUES (?, ?, ?, ?)",
                (key, *self._encode(value), now()),
            )

    def setdefault(self, key: str, value: Any) -> Any:
        """The stored value of ``key``; ``value``, stored, when there is none."""
        with self.db:
            self.db.execute(
                f"INSERT OR IGNORE INTO {self.sql_name} VALUES (?, ?, ?, ?)",
                (key, *self._encode(value), now()),
            )
        return self.get(key)

    def delete(self, key: str) -> None:
        with self.db:
            self.db.execute(f"DELETE FROM {self.sql_name} WHERE key = ?", (key,))

    def items(self, prefix: str = "") -> list[tuple[str, Any]]:
        rows = self.db.execute(
            f"SELECT key, value, is_bytes FROM {self.sql_name} "
            "WHERE substr(key, 1, ?) = ? ORDER BY key",
            (len(prefix), prefix),
        )
        return [(key, self._decode(value, is_bytes)) for key, value, is_bytes in rows]


class State:
    def __init__(self, workspace: Path) -> None:
        self.path = state_file(workspace)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.db = _connect(self.path)
        except sqlite3.Error as exc:
            from composer.errors import UserError

            raise UserError(
                f"{self.path}: cannot open the workspace state ({exc})",
                f"check that {self.path.parent} and the files in it are writable",
            ) from None
        self._tables: dict[str, Table] = {}

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> State:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def table(self, name: str) -> Table:
        """The plugin table ``name`` (created on first use)."""
        if name not in self._tables:
            self._tables[name] = Table(self.db, name)
        return self._tables[name]

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """One write transaction, begun at once (BEGIN IMMEDIATE): other writers wait."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            if self.db.in_transaction:
                self.db.rollback()
            raise
        if self.db.in_transaction:
            self.db.commit()

    # -- issues --------------------------------------------------------------------
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

    # -- schedule ------------------------------------------------------------------
    def first_start(self, when: str, reset: bool = False) -> str:
        """When the scheduler first started in this workspace (``when``, the first time,
        or with ``reset``)."""
        with self.db:
            self.db.execute(
                f"INSERT OR {'REPLACE' if reset else 'IGNORE'} INTO meta (key, value) "
                "VALUES ('scheduler_first_start', ?)",
                (when,),
            )
        row = self.db.execute("SELECT value FROM meta WHERE key = 'scheduler_first_start'")
        return row.fetchone()[0]

    def run(self, issue_id: str) -> dict | None:
        row = self.db.execute(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM runs WHERE issue_id = ?", (issue_id,)
        ).fetchone()
        return dict(zip(RUN_COLUMNS, row, strict=True)) if row else None

    def last_run(self) -> dict | None:
        """The run of the latest week on record."""
        row = self.db.execute(
            f"SELECT {', '.join(RUN_COLUMNS)} FROM runs ORDER BY issue_id DESC LIMIT 1"
        ).fetchone()
        return dict(zip(RUN_COLUMNS, row, strict=True)) if row else None

    def claim_run(self, issue_id: str, fire_time: str, action: str, stale_after: float) -> bool:
        """Start the run of ``issue_id`` unless it is done or blocked, or running
        elsewhere and fresh."""
        with self.exclusive():
            row = self.db.execute(
                "SELECT outcome, started FROM runs WHERE issue_id = ?", (issue_id,)
            ).fetchone()
            if row and row[0] in ("ok", "blocked"):
                return False
            if row and row[0] == "running" and _age(row[1]) < stale_after:
                return False
            self.db.execute(
                "INSERT OR REPLACE INTO runs (issue_id, fire_time, action, started, outcome) "
                "VALUES (?, ?, ?, ?, 'running')",
                (issue_id, fire_time, action, now()),
            )
            return True

    def finish_run(self, issue_id: str, outcome: str, detail: str) -> None:
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished = ?, outcome = ?, detail = ? WHERE issue_id = ?",
                (now(), outcome, detail, issue_id),
            )

    def unblock_run(self, issue_id: str, detail: str) -> None:
        """A blocked week sent by hand: its run is done (``detail`` says how)."""
        with self.db:
            self.db.execute(
                "UPDATE runs SET finished = ?, outcome = 'ok', detail = ? "
                "WHERE issue_id = ? AND outcome = 'blocked'",
                (now(), detail, issue_id),
            )

    # -- deliveries ----------------------------------------------------------------
    def deliveries(self, issue_id: str) -> dict[str, dict]:
        """{deliverer: {target, delivered_at}} of every delivery of ``issue_id``."""
        rows = self.db.execute(
            "SELECT deliverer, target, delivered_at FROM deliveries WHERE issue_id = ?",
            (issue_id,),
        )
        return {d: {"target": t, "delivered_at": at} for d, t, at in rows}

    def claim_deliveries(
        self,
        issue_id: str,
        seen: dict[str, str | None],
        stale_after: float,
        started: str = "",
        resend: bool = False,
    ) -> Claims:
        """Claim the delivery of ``issue_id`` by each deliverer of ``seen``, atomically.

        ``seen`` maps a deliverer to the ``delivered_at`` its run read (None: not
        delivered then); ``started`` is when that run began. A delivery made since the
        run began is ``done`` (another run made it); a delivery that may have gone out
        (its outcome unknown) is ``doubtful`` unless ``resend``; a claim another run
        took less than ``stale_after`` seconds ago is ``busy``; an older one was left
        by a run that crashed: taken over (``stale``) when that run never began to
        deliver it, else ``doubtful`` (it may have gone out) unless ``resend``.

        A claim is marked unsent (``delivery_unsent``, same token) until its run begins
        to deliver; a claim without that mark (from an earlier version too) may have
        gone out.
        """
        claims = Claims()
        with self.exclusive():
            records = self.deliveries(issue_id)
            for deliverer, delivered_at in seen.items():
                record = records.get(deliverer)
                if record and (
                    record["delivered_at"] != delivered_at
                    or (started and record["delivered_at"] >= started)
                ):
                    claims.done[deliverer] = record
                    continue
                found = self._claim_status(issue_id, deliverer, stale_after, resend)
                if found is not None:
                    kind, detail = found
                    getattr(claims, kind)[deliverer] = detail
                    if kind != "stale":
                        continue
                token = uuid.uuid4().hex
                self.db.execute(
                    "INSERT OR REPLACE INTO delivery_claims "
                    "(issue_id, deliverer, token, claimed_at) VALUES (?, ?, ?, ?)",
                    (issue_id, deliverer, token, now()),
                )
                self.db.execute(
                    "INSERT OR REPLACE INTO delivery_unsent (issue_id, deliverer, token) "
                    "VALUES (?, ?, ?)",
                    (issue_id, deliverer, token),
                )
                claims.taken[deliverer] = token
        return claims

    def claim_status(
        self, issue_id: str, deliverers: list[str], stale_after: float, resend: bool = False
    ) -> dict:
        """{deliverer: (kind, detail)} of what :meth:`claim_deliveries` would find in the
        way (``busy``, ``doubtful``) or take over (``stale``), changing nothing."""
        found = {d: self._claim_status(issue_id, d, stale_after, resend) for d in deliverers}
        return {d: f for d, f in found.items() if f is not None}

    def _claim_status(
        self, issue_id: str, deliverer: str, stale_after: float, resend: bool
    ) -> tuple[str, Any] | None:
        doubt = self.db.execute(
            "SELECT at, reason FROM delivery_doubts WHERE issue_id = ? AND deliverer = ?",
            (issue_id, deliverer),
        ).fetchone()
        if doubt and not resend:
            return "doubtful", {"at": doubt[0], "reason": doubt[1]}
        row = self.db.execute(
            "SELECT c.claimed_at, u.token IS NOT NULL FROM delivery_claims c "
            "LEFT JOIN delivery_unsent u ON u.issue_id = c.issue_id "
            "AND u.deliverer = c.deliverer AND u.token = c.token "
            "WHERE c.issue_id = ? AND c.deliverer = ?",
            (issue_id, deliverer),
        ).fetchone()
        if row is None:
            return None
        claimed_at, unsent = row[0], bool(row[1])
        if _age(claimed_at) < stale_after:
            return "busy", claimed_at
        if not unsent and not resend:  # it began to deliver: it may have gone out
            return "doubtful", {"at": claimed_at, "reason": CRASHED}
        return "stale", Stale(claimed_at, began=not unsent)

    def begin_delivery(self, issue_id: str, deliverer: str, token: str) -> bool:
        """Mark the claim as delivering (from now on a crash leaves a doubt) and renew
        it; False when the claim is no longer this run's (another run took it over)."""
        with self.db:
            renewed = self.db.execute(
                "UPDATE delivery_claims SET claimed_at = ? "
                "WHERE issue_id = ? AND deliverer = ? AND token = ?",
                (now(), issue_id, deliverer, token),
            ).rowcount
            self.db.execute(
                "DELETE FROM delivery_unsent WHERE issue_id = ? AND deliverer = ? AND token = ?",
                (issue_id, deliverer, token),
            )
        return renewed == 1

    def finish_delivery(self, issue_id: str, deliverer: str, token: str, target: str) -> None:
        """Record the delivery (to the microsecond: a resend compares it) and drop the claim."""
        with self.db:
            self.db.execute(
                "INSERT OR REPLACE INTO deliveries VALUES (?, ?, ?, ?)",
                (issue_id, deliverer, target, dt.datetime.now(dt.UTC).isoformat()),
            )
            self.db.execute(
                "DELETE FROM delivery_doubts WHERE issue_id = ? AND deliverer = ?",
                (issue_id, deliverer),
            )
            self._drop_claim(issue_id, deliverer, token)

    def release_delivery(self, issue_id: str, deliverer: str, token: str, doubt: str = "") -> None:
        """Give up a claim (the delivery failed): the next run tries again; with a
        ``doubt`` (it may have gone out), only a ``--resend`` does."""
        with self.db:
            self._drop_claim(issue_id, deliverer, token)
            if doubt:
                self.db.execute(
                    "INSERT OR REPLACE INTO delivery_doubts VALUES (?, ?, ?, ?)",
                    (issue_id, deliverer, now(), doubt),
                )

    def _drop_claim(self, issue_id: str, deliverer: str, token: str) -> None:
        for table in ("delivery_claims", "delivery_unsent"):
            self.db.execute(
                f"DELETE FROM {table} WHERE issue_id = ? AND deliverer = ? AND token = ?",
                (issue_id, deliverer, token),
            )


CRASHED = "the run sending it never finished (killed or crashed): it may have gone out"


@dataclass(frozen=True)
class Stale:
    """A claim left by a run that crashed: when it was taken, and whether that run
    began to deliver it (if not, nothing of it can have gone out)."""

    claimed_at: str
    began: bool


@dataclass
class Claims:
    """What :meth:`State.claim_deliveries` found, by deliverer."""

    taken: dict[str, str] = field(default_factory=dict)  # ours to deliver: claim token
    busy: dict[str, str] = field(default_factory=dict)  # another run's claim: claimed_at
    done: dict[str, dict] = field(default_factory=dict)  # delivered meanwhile: the record
    stale: dict[str, Stale] = field(default_factory=dict)  # a crashed run's claim, taken over
    doubtful: dict[str, dict] = field(default_factory=dict)  # may have gone out: {at, reason}


def _age(stamp: str) -> float:
    """Seconds since the ISO time ``stamp``."""
    return (dt.datetime.now(dt.UTC) - dt.datetime.fromisoformat(stamp)).total_seconds()
