"""SQLite state of a workspace (``.composer/state.db``): issue records and more.

Each feature adds its own tables through ``ensure``; the file is opened per use.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS issues (
    id TEXT PRIMARY KEY,
    issue_md_sha256 TEXT,
    generated_at TEXT
);
"""


class State:
    def __init__(self, workspace: Path) -> None:
        self.path = workspace / ".composer" / "state.db"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
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
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.db:
            self.db.execute(
                "INSERT INTO issues (id, issue_md_sha256, generated_at) VALUES (?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET issue_md_sha256 = excluded.issue_md_sha256, "
                "generated_at = excluded.generated_at",
                (issue_id, sha256, now),
            )
