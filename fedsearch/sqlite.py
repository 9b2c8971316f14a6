"""How fedsearch opens its SQLite files (raw store, index state, admin, managed sources).

One busy timeout for all of them: a writer waits for another process's transaction
(a harvest, a reindex, the admin) rather than failing; the longest one we hold, an
index batch, is far shorter than this.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

BUSY_TIMEOUT_SECONDS = 60


def connect(
    path: str | Path,
    *,
    synchronous: Literal["NORMAL", "FULL"] | None = None,
    foreign_keys: bool = False,
    wal: bool = True,
    threads: bool = True,
    named_rows: bool = True,
) -> sqlite3.Connection:
    """A connection in autocommit mode (we BEGIN ourselves); `named_rows`: rows read by column name.

    `threads`: the connection may be used from another thread than the one that opened it
    (each caller still keeps to one thread at a time). `synchronous`: FULL when a commit must
    be on disk before what follows it (the index state), NORMAL when WAL's checkpoints suffice.
    """
    conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=not threads)
    if named_rows:
        conn.row_factory = sqlite3.Row
    if wal:
        conn.execute("PRAGMA journal_mode=WAL")
    if synchronous is not None:
        conn.execute(f"PRAGMA synchronous={synchronous}")
    if foreign_keys:
        conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE (take the write lock now, so no deadlock upgrading it later); COMMIT or ROLLBACK."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
