"""The raw store's records: storing a page (new, changed, unchanged, deleted), reading what changed, counts.

Each record keeps a sha256 of its payload; `indexed_hash` is what the indexer last
indexed, so "what changed since it was last indexed" is one indexed query
(`iter_changed`), and `mark_indexed` closes the loop.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from typing import Any

from connectors.base import RawRecord
from rawstore.connection import StoreFile
from rawstore.models import PageCounts, SourceCounts, StoredRecord, content_hash, utcnow
from rawstore.schema import PENDING, RECORD_COLUMNS, record_from_row


def _insert_new(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        conn.executemany(
            "INSERT INTO records (source, local_id, format, payload, content_hash, datestamp, deleted, sets, "
            "first_seen, last_seen, changed_at, run_id, seen_window) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        rows.clear()


def upsert(
    conn: sqlite3.Connection,
    source: str,
    run_id: int | None,
    window_id: int | None,
    records: list[RawRecord],
    now: str,
) -> PageCounts:
    """Store a page's records in `conn`'s transaction; None ids: stored outside a harvest run."""
    counts = PageCounts()
    existing: dict[str, sqlite3.Row | dict[str, Any]] = {}  # stored rows, then what this page left
    quarantined: set[str] = set()  # ids with a quarantine entry: the only ones a DELETE can touch
    ids = list({r.local_id for r in records})
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(
            f"SELECT local_id, content_hash, deleted, sets, format FROM records "
            f"WHERE source = ? AND local_id IN ({marks})",
            (source, *chunk),
        ):
            existing[row["local_id"]] = row
        quarantined.update(
            row[0]
            for row in conn.execute(
                f"SELECT local_id FROM quarantine WHERE source = ? AND local_id IN ({marks})", (source, *chunk)
            )
        )
    set_texts: dict[tuple[str, ...], str] = {}  # most pages repeat a few set lists
    new_rows: list[tuple[Any, ...]] = []  # new live records, inserted together (executemany)
    new_ids: set[str] = set()
    for rec in records:
        if rec.local_id in new_ids:  # listed twice in one page: the first copy goes in first
            _insert_new(conn, new_rows)
            new_ids.clear()
        counts.records += 1
        key = tuple(rec.sets)
        sets = set_texts.get(key)
        if sets is None:
            sets = set_texts[key] = json.dumps(sorted(set(rec.sets)), ensure_ascii=False)
        old = existing.get(rec.local_id)
        if rec.deleted:
            if old is None:
                conn.execute(
                    "INSERT INTO records (source, local_id, format, payload, content_hash, datestamp, deleted, "
                    "sets, first_seen, last_seen, changed_at, run_id, seen_window) "
                    "VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, ?)",
                    (
                        source,
                        rec.local_id,
                        rec.format,
                        rec.payload,
                        content_hash(rec.payload),
                        rec.datestamp,
                        sets,
                        now,
                        now,
                        now,
                        run_id,
                        window_id,
                    ),
                )
                counts.deleted += 1
            elif old["deleted"]:
                conn.execute(
                    "UPDATE records SET last_seen = ?, seen_window = ? WHERE source = ? AND local_id = ?",
                    (now, window_id, source, rec.local_id),
                )
                counts.unchanged += 1
            else:  # keep the last live payload, so people can see what was withdrawn
                conn.execute(
                    "UPDATE records SET deleted = 1, datestamp = ?, last_seen = ?, changed_at = ?, run_id = ?, "
                    "seen_window = ? WHERE source = ? AND local_id = ?",
                    (rec.datestamp, now, now, run_id, window_id, source, rec.local_id),
                )
                counts.deleted += 1
            existing[rec.local_id] = {
                "content_hash": old["content_hash"] if old else None,
                "deleted": 1,
                "sets": sets,
                "format": rec.format,
            }
            continue
        digest = content_hash(rec.payload)
        counts_as_changed = old is not None and bool(
            old["deleted"] or old["content_hash"] != digest or old["sets"] != sets or old["format"] != rec.format
        )
        if old is None:
            new_rows.append(
                (
                    source,
                    rec.local_id,
                    rec.format,
                    rec.payload,
                    digest,
                    rec.datestamp,
                    sets,
                    now,
                    now,
                    now,
                    run_id,
                    window_id,
                )
            )
            new_ids.add(rec.local_id)
            counts.new += 1
        elif counts_as_changed:
            conn.execute(
                "UPDATE records SET format = ?, payload = ?, content_hash = ?, datestamp = ?, deleted = 0, "
                "sets = ?, last_seen = ?, changed_at = ?, run_id = ?, seen_window = ? "
                "WHERE source = ? AND local_id = ?",
                (
                    rec.format,
                    rec.payload,
                    digest,
                    rec.datestamp,
                    sets,
                    now,
                    now,
                    run_id,
                    window_id,
                    source,
                    rec.local_id,
                ),
            )
            counts.changed += 1
        else:
            conn.execute(
                "UPDATE records SET datestamp = ?, last_seen = ?, seen_window = ? WHERE source = ? AND local_id = ?",
                (rec.datestamp, now, window_id, source, rec.local_id),
            )
            counts.unchanged += 1
        # A record that arrives readable clears what a harvest quarantined under its id; what the
        # indexer quarantined (run_id NULL) waits for a changed record, since the same one fails again.
        if rec.local_id in quarantined:
            conn.execute(
                "DELETE FROM quarantine WHERE source = ? AND local_id = ?"
                + ("" if old is None or counts_as_changed else " AND run_id IS NOT NULL"),
                (source, rec.local_id),
            )
        existing[rec.local_id] = {"content_hash": digest, "deleted": 0, "sets": sets, "format": rec.format}
    _insert_new(conn, new_rows)
    return counts


class Records(StoreFile):
    """Records keyed by (source, local_id)."""

    def get(self, source: str, local_id: str) -> StoredRecord | None:
        row = (
            self._conn()
            .execute(f"SELECT {RECORD_COLUMNS} FROM records WHERE source = ? AND local_id = ?", (source, local_id))
            .fetchone()
        )
        return record_from_row(row) if row else None

    def put_records(self, source: str, records: Iterable[RawRecord]) -> PageCounts:
        """Store records outside a harvest run (tests, imports)."""
        with self.transaction() as conn:
            return upsert(conn, source, None, None, list(records), utcnow())

    def _paged(self, conds: list[str], params: list[Any], batch: int, table: str = "records") -> Iterator[StoredRecord]:
        """Records matching `conds`, in key order, fetched `batch` at a time (the caller may write in between)."""
        after: tuple[str, str] = ("", "")
        where = " AND ".join([*conds, "(source, local_id) > (?, ?)"])
        while True:
            rows = (
                self._conn()
                .execute(
                    f"SELECT {RECORD_COLUMNS} FROM {table} WHERE {where} ORDER BY source, local_id LIMIT {int(batch)}",
                    [*params, *after],
                )
                .fetchall()
            )
            if not rows:
                return
            for row in rows:
                yield record_from_row(row)
            after = (rows[-1]["source"], rows[-1]["local_id"])

    def iter_changed(self, source: str | None = None, batch: int = 500) -> Iterator[StoredRecord]:
        """Records whose current state the index has not got yet (new, changed, deleted), in key order.

        Reads in batches, so the caller may `mark_indexed` as it goes.
        """
        conds, params = [PENDING], []
        if source:
            conds.append("source = ?")
            params.append(source)
        return self._paged(conds, params, batch, table="records INDEXED BY records_unindexed")

    def mark_indexed(self, keys: Iterable[StoredRecord | tuple[str, str] | tuple[str, str, str]]) -> int:
        """Record that the index has these records' current state.

        Pass the `StoredRecord`s from `iter_changed` (or (source, local_id, state) tuples): a record
        that changed again in between keeps waiting. A bare (source, local_id) marks whatever is stored.
        """
        count = 0
        with self.transaction() as conn:
            for key in keys:
                if isinstance(key, StoredRecord):
                    source, local_id, state = key.source, key.local_id, key.state
                elif len(key) == 3:
                    source, local_id, state = key
                else:
                    source, local_id = key
                    state = None
                if state is None:
                    cur = conn.execute(
                        "UPDATE records SET indexed_hash = (CASE WHEN deleted THEN 'deleted' ELSE content_hash END) "
                        "WHERE source = ? AND local_id = ?",
                        (source, local_id),
                    )
                else:
                    cur = conn.execute(
                        "UPDATE records SET indexed_hash = ? WHERE source = ? AND local_id = ? "
                        "AND (CASE WHEN deleted THEN 'deleted' ELSE content_hash END) = ?",
                        (state, source, local_id, state),
                    )
                count += cur.rowcount
        return count

    def mark_unindexed(self, source: str | None = None, local_ids: Iterable[str] | None = None) -> int:
        """Make records count as changed: every one, a source's, or a few of a source's (to retry them)."""
        with self.transaction() as conn:
            if source and local_ids is not None:
                return sum(
                    conn.execute(
                        "UPDATE records SET indexed_hash = NULL WHERE source = ? AND local_id = ?", (source, lid)
                    ).rowcount
                    for lid in local_ids
                )
            if source:
                return conn.execute("UPDATE records SET indexed_hash = NULL WHERE source = ?", (source,)).rowcount
            return conn.execute("UPDATE records SET indexed_hash = NULL").rowcount

    def iter_all(
        self, source: str | None = None, *, include_deleted: bool = True, batch: int = 500
    ) -> Iterator[StoredRecord]:
        """Every stored record (of a source), in key order, read in batches."""
        conds, params = [], []
        if source:
            conds.append("source = ?")
            params.append(source)
        if not include_deleted:
            conds.append("deleted = 0")
        return self._paged(conds, params, batch)

    def delete_source(self, source: str) -> dict[str, int]:
        """Forget a source: its records, runs and quarantine. The index must drop it separately."""
        with self.transaction() as conn:
            return {
                "records": conn.execute("DELETE FROM records WHERE source = ?", (source,)).rowcount,
                "runs": conn.execute("DELETE FROM runs WHERE source = ?", (source,)).rowcount,
                "quarantined": conn.execute("DELETE FROM quarantine WHERE source = ?", (source,)).rowcount,
            }

    def counts(self, source: str) -> SourceCounts:
        conn = self._conn()
        row = conn.execute(
            "SELECT COALESCE(SUM(deleted = 0), 0) AS live, COALESCE(SUM(deleted = 1), 0) AS deleted "
            "FROM records WHERE source = ?",
            (source,),
        ).fetchone()
        unindexed = conn.execute(
            f"SELECT COUNT(*) FROM records INDEXED BY records_unindexed WHERE {PENDING} AND source = ?", (source,)
        ).fetchone()[0]
        quarantined = conn.execute("SELECT COUNT(*) FROM quarantine WHERE source = ?", (source,)).fetchone()[0]
        return SourceCounts(live=row["live"], deleted=row["deleted"], quarantined=quarantined, unindexed=unindexed)

    def count_unindexed(self, source: str) -> int:
        """`counts(source).unindexed` alone: read from the partial index, without scanning the source."""
        count: int = (
            self._conn()
            .execute(
                f"SELECT COUNT(*) FROM records INDEXED BY records_unindexed WHERE {PENDING} AND source = ?", (source,)
            )
            .fetchone()[0]
        )
        return count

    def sources(self) -> list[str]:
        """Every source id the store has anything about."""
        rows = (
            self._conn()
            .execute(
                "SELECT source FROM records UNION SELECT source FROM runs UNION SELECT source FROM quarantine "
                "ORDER BY source"
            )
            .fetchall()
        )
        return [r[0] for r in rows]
