"""The admin's SQLite file in the data directory: accounts, sessions, failed logins, the audit log.

`admin.sqlite3`, created on first use (a server nobody logs in to writes nothing).
The sources the admin manages are elsewhere: fedsearch_app/managed_sources.py,
because the CLI and the scheduler read them too.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fedsearch import sqlite

FILENAME = "admin.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    username       TEXT PRIMARY KEY,
    role           TEXT NOT NULL CHECK (role IN ('admin', 'librarian')),
    password_hash  TEXT NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id          TEXT PRIMARY KEY,      -- sha256 of the random session id the cookie carries (signed)
    username    TEXT NOT NULL REFERENCES users (username) ON DELETE CASCADE,
    csrf        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS login_failures (
    key           TEXT PRIMARY KEY,    -- 'user:<name>' or 'ip:<address>'
    failures      INTEGER NOT NULL,
    first_at      TEXT NOT NULL,
    locked_until  TEXT
);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    detail  TEXT NOT NULL DEFAULT '{}'
);
"""


def now() -> datetime:
    return datetime.now(UTC)


def stamp(when: datetime | None = None) -> str:
    return (when or now()).isoformat(timespec="seconds")


class AdminDB:
    """One connection per thread to the admin's SQLite file (WAL)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._local = threading.local()
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def for_data_dir(cls, data_dir: str | Path) -> AdminDB:
        return cls(Path(data_dir) / FILENAME)

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite.connect(self.path, wal=False, foreign_keys=True)
            with self._lock:
                if not self._ready:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.executescript(_SCHEMA)
                    self._ready = True
            self._local.conn = conn
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with sqlite.immediate_transaction(self.conn()) as conn:
            yield conn
