"""The raw store's SQLite file: one connection per thread, transactions, closing."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

from fedsearch import sqlite
from rawstore.schema import create_or_migrate


class StoreFile:
    """One SQLite file, safe to share between threads. The store's parts (records, runs, ...) build on it."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        create_or_migrate(conn)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            for conn in self._all:
                conn.close()
            self._all.clear()
        self._local = threading.local()

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            # WAL is set once, in __init__. NORMAL with WAL: durable at checkpoints, never corrupt.
            conn = sqlite.connect(self.path, wal=False, synchronous="NORMAL", foreign_keys=True)
            self._local.conn = conn
            with self._lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        with sqlite.immediate_transaction(self._conn()) as conn:
            yield conn
