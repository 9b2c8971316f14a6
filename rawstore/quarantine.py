"""The raw store's quarantine: input that could not be read, kept with its reason and code."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any

from connectors.base import Quarantine
from rawstore.connection import StoreFile
from rawstore.models import QuarantineEntry, utcnow
from rawstore.schema import quarantine_from_row

QUARANTINE_PAYLOAD_CAP = 1024 * 1024  # bytes of a quarantined payload kept for inspection
MALFORMED = "record.malformed"  # the code of a quarantine whose connector named none


def insert_quarantine(
    conn: sqlite3.Connection,
    source: str,
    run_id: int | None,
    window_id: int | None,
    items: list[Quarantine],
    now: str,
) -> int:
    for q in items:
        payload = q.payload or b""
        reason = q.reason
        if len(payload) > QUARANTINE_PAYLOAD_CAP:
            reason += f" (payload of {len(payload)} bytes kept truncated to {QUARANTINE_PAYLOAD_CAP})"
            payload = payload[:QUARANTINE_PAYLOAD_CAP]
        if q.local_id:
            # One entry per bad record, however many runs meet it; a stored copy stays listed.
            conn.execute("DELETE FROM quarantine WHERE source = ? AND local_id = ?", (source, q.local_id))
            if window_id is not None:
                conn.execute(
                    "UPDATE records SET seen_window = ? WHERE source = ? AND local_id = ?",
                    (window_id, source, q.local_id),
                )
        elif q.location:
            conn.execute(
                "DELETE FROM quarantine WHERE source = ? AND local_id IS NULL AND location = ? AND reason = ?",
                (source, q.location, reason),
            )
        conn.execute(
            "INSERT INTO quarantine (source, run_id, local_id, reason, payload, location, created, code) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (source, run_id, q.local_id, reason, payload, q.location, now, q.code or MALFORMED),
        )
    return len(items)


class QuarantineLog(StoreFile):
    """Quarantined input, one entry per bad record however many runs meet it."""

    def quarantined(self, source: str | None = None, limit: int | None = None) -> list[QuarantineEntry]:
        """Newest first."""
        sql = "SELECT * FROM quarantine" + (" WHERE source = ?" if source else "") + " ORDER BY id DESC"
        params: list[Any] = [source] if source else []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [quarantine_from_row(r) for r in self._conn().execute(sql, params).fetchall()]

    def quarantine_entry(self, source: str, entry_id: int) -> QuarantineEntry | None:
        row = (
            self._conn().execute("SELECT * FROM quarantine WHERE id = ? AND source = ?", (entry_id, source)).fetchone()
        )
        return quarantine_from_row(row) if row is not None else None

    def quarantine_keys(self, source: str) -> list[tuple[int, str | None]]:
        """(entry id, record id at the partner) of every quarantined entry of a source, without payloads."""
        return [
            (r[0], r[1])
            for r in self._conn().execute("SELECT id, local_id FROM quarantine WHERE source = ? ORDER BY id", (source,))
        ]

    def add_quarantine(self, source: str, items: Iterable[Quarantine], run_id: int | None = None) -> int:
        """Quarantine input outside a harvest page, e.g. a record the indexer could not normalize."""
        with self.transaction() as conn:
            return insert_quarantine(conn, source, run_id, None, list(items), utcnow())

    def delete_quarantined(self, ids: Iterable[int]) -> int:
        """Drop entries (after a successful retry, or once someone has looked at them)."""
        with self.transaction() as conn:
            return sum(conn.execute("DELETE FROM quarantine WHERE id = ?", (i,)).rowcount for i in ids)
