"""The raw store: every record as a partner sent it, every harvest run, every quarantined input.

One SQLite file in the data directory (WAL, so the admin UI and the indexer
read while a harvest writes). Records are keyed by (source, local_id). Each
keeps a sha256 of its payload; `indexed_hash` is what the indexer last
indexed, so "what changed since it was last indexed" is one indexed query
(`iter_changed`), and `mark_indexed` closes the loop. The harvest runner
writes a page of records, its quarantines, the run's counts and the
checkpoint in one transaction (`commit_page`): a killed harvest loses and
duplicates nothing.

Times are UTC ISO 8601 strings.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from connectors.base import Quarantine, RawRecord
from fedsearch import sqlite
from rawstore.models import (  # noqa: F401 - re-exported: the store's callers import them from here
    DELETED_STATE,
    HeldSweep,
    PageCounts,
    QuarantineEntry,
    RunMode,
    RunStatus,
    RunSummary,
    SourceCounts,
    SourceStatus,
    StoredRecord,
    SweepResult,
    SweepStatus,
    content_hash,
    parse_time,
    utcnow,
)

FILENAME = "raw.sqlite3"
QUARANTINE_PAYLOAD_CAP = 1024 * 1024  # bytes of a quarantined payload kept for inspection


_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    source        TEXT NOT NULL,
    local_id      TEXT NOT NULL,
    format        TEXT NOT NULL,
    payload       BLOB NOT NULL,
    content_hash  TEXT NOT NULL,
    datestamp     TEXT,
    deleted       INTEGER NOT NULL DEFAULT 0,
    sets          TEXT NOT NULL DEFAULT '[]',
    first_seen    TEXT NOT NULL,
    last_seen     TEXT NOT NULL,
    changed_at    TEXT NOT NULL,
    run_id        INTEGER,            -- the run that last changed it
    seen_window   INTEGER,            -- the harvest window (first run of a resumed chain) that last listed it
    indexed_hash  TEXT,               -- content_hash (or 'deleted') the index last got; NULL: never indexed
    PRIMARY KEY (source, local_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS records_unindexed ON records (source, local_id)
    WHERE indexed_hash IS NOT (CASE WHEN deleted THEN 'deleted' ELSE content_hash END);

CREATE TABLE IF NOT EXISTS runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    source        TEXT NOT NULL,
    status        TEXT NOT NULL,
    mode          TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    ended_at      TEXT,
    since         TEXT,               -- the `since` given to the connector (None: full)
    window_start  TEXT NOT NULL,      -- start of the first run of a resumed chain: the next run's `since`
    window_id     INTEGER,            -- id of that first run
    resumed_from  INTEGER,
    checkpoint    TEXT,               -- JSON state of the last stored checkpoint
    pages         INTEGER NOT NULL DEFAULT 0,
    records       INTEGER NOT NULL DEFAULT 0,
    new           INTEGER NOT NULL DEFAULT 0,
    changed       INTEGER NOT NULL DEFAULT 0,
    deleted       INTEGER NOT NULL DEFAULT 0,
    unchanged     INTEGER NOT NULL DEFAULT 0,
    quarantined   INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    pid           INTEGER
);
CREATE INDEX IF NOT EXISTS runs_source ON runs (source, id);

CREATE TABLE IF NOT EXISTS quarantine (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    source    TEXT NOT NULL,
    run_id    INTEGER,
    local_id  TEXT,
    reason    TEXT NOT NULL,
    payload   BLOB NOT NULL,
    location  TEXT,
    created   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS quarantine_source ON quarantine (source, local_id);

-- Deletion sweeps over the safety brake (harvest.sweep_max_share), waiting for a librarian.
CREATE TABLE IF NOT EXISTS held_sweeps (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    source      TEXT NOT NULL,
    run_id      INTEGER NOT NULL,     -- the full harvest whose listing lacked these records
    created     TEXT NOT NULL,
    live        INTEGER NOT NULL,     -- live records of the source then
    local_ids   TEXT NOT NULL,        -- JSON list of the records it would mark deleted
    status      TEXT NOT NULL DEFAULT 'held',
    decided_at  TEXT,
    decided_by  TEXT,
    applied     INTEGER               -- records marked deleted on confirmation
);
CREATE INDEX IF NOT EXISTS held_sweeps_source ON held_sweeps (source, status);
"""

_PENDING = "indexed_hash IS NOT (CASE WHEN deleted THEN 'deleted' ELSE content_hash END)"
_RECORD_COLUMNS = (
    "source, local_id, format, payload, content_hash, datestamp, deleted, sets, "
    "first_seen, last_seen, changed_at, run_id, indexed_hash"
)


def _held_from_row(r: sqlite3.Row) -> HeldSweep:
    return HeldSweep(
        id=r["id"],
        source=r["source"],
        run_id=r["run_id"],
        created=r["created"],
        live=r["live"],
        local_ids=json.loads(r["local_ids"]),
        status=r["status"],
        decided_at=r["decided_at"],
        decided_by=r["decided_by"],
        applied=r["applied"],
    )


def _run_from_row(row: sqlite3.Row) -> RunSummary:
    return RunSummary(
        id=row["id"],
        source=row["source"],
        status=row["status"],
        mode=row["mode"],
        started_at=row["started_at"],
        ended_at=row["ended_at"],
        since=row["since"],
        window_start=row["window_start"],
        window_id=row["window_id"],
        resumed_from=row["resumed_from"],
        checkpoint=json.loads(row["checkpoint"]) if row["checkpoint"] else None,
        pages=row["pages"],
        records=row["records"],
        new=row["new"],
        changed=row["changed"],
        deleted=row["deleted"],
        unchanged=row["unchanged"],
        quarantined=row["quarantined"],
        error=row["error"],
    )


def _quarantine_from_row(r: sqlite3.Row) -> QuarantineEntry:
    return QuarantineEntry(
        id=r["id"],
        source=r["source"],
        run_id=r["run_id"],
        local_id=r["local_id"],
        reason=r["reason"],
        payload=bytes(r["payload"]),
        location=r["location"],
        created=r["created"],
    )


def _insert_new(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    if rows:
        conn.executemany(
            "INSERT INTO records (source, local_id, format, payload, content_hash, datestamp, deleted, sets, "
            "first_seen, last_seen, changed_at, run_id, seen_window) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)",
            rows,
        )
        rows.clear()


def _record_from_row(row: sqlite3.Row) -> StoredRecord:
    return StoredRecord(
        source=row["source"],
        local_id=row["local_id"],
        format=row["format"],
        payload=bytes(row["payload"]),
        content_hash=row["content_hash"],
        datestamp=row["datestamp"],
        deleted=bool(row["deleted"]),
        sets=json.loads(row["sets"]),
        first_seen=row["first_seen"],
        last_seen=row["last_seen"],
        changed_at=row["changed_at"],
        run_id=row["run_id"],
        indexed_hash=row["indexed_hash"],
    )


class RawStore:
    """The raw store in one SQLite file. Safe to share between threads (one connection per thread)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        conn = self._conn()
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)

    @classmethod
    def for_settings(cls, settings) -> RawStore:
        return cls(Path(settings.data_dir) / FILENAME)

    def __enter__(self) -> RawStore:
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

    # -- records ---------------------------------------------------------------

    def get(self, source: str, local_id: str) -> StoredRecord | None:
        row = (
            self._conn()
            .execute(f"SELECT {_RECORD_COLUMNS} FROM records WHERE source = ? AND local_id = ?", (source, local_id))
            .fetchone()
        )
        return _record_from_row(row) if row else None

    def _upsert(
        self, conn: sqlite3.Connection, source: str, run_id: int, window_id: int, records: list[RawRecord], now: str
    ) -> PageCounts:
        counts = PageCounts()
        existing: dict[str, sqlite3.Row] = {}
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

    def _quarantine(
        self,
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
                "INSERT INTO quarantine (source, run_id, local_id, reason, payload, location, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (source, run_id, q.local_id, reason, payload, q.location, now),
            )
        return len(items)

    def put_records(self, source: str, records: Iterable[RawRecord]) -> PageCounts:
        """Store records outside a harvest run (tests, imports)."""
        with self.transaction() as conn:
            return self._upsert(conn, source, None, None, list(records), utcnow())

    def _paged(self, conds: list[str], params: list[Any], batch: int, table: str = "records") -> Iterator[StoredRecord]:
        """Records matching `conds`, in key order, fetched `batch` at a time (the caller may write in between)."""
        after: tuple[str, str] = ("", "")
        where = " AND ".join([*conds, "(source, local_id) > (?, ?)"])
        while True:
            rows = (
                self._conn()
                .execute(
                    f"SELECT {_RECORD_COLUMNS} FROM {table} WHERE {where} ORDER BY source, local_id LIMIT {int(batch)}",
                    [*params, *after],
                )
                .fetchall()
            )
            if not rows:
                return
            for row in rows:
                yield _record_from_row(row)
            after = (rows[-1]["source"], rows[-1]["local_id"])

    def iter_changed(self, source: str | None = None, batch: int = 500) -> Iterator[StoredRecord]:
        """Records whose current state the index has not got yet (new, changed, deleted), in key order.

        Reads in batches, so the caller may `mark_indexed` as it goes.
        """
        conds, params = [_PENDING], []
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
                    source, local_id, state = key  # type: ignore[misc]
                else:
                    source, local_id = key  # type: ignore[misc]
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
            f"SELECT COUNT(*) FROM records INDEXED BY records_unindexed WHERE {_PENDING} AND source = ?", (source,)
        ).fetchone()[0]
        quarantined = conn.execute("SELECT COUNT(*) FROM quarantine WHERE source = ?", (source,)).fetchone()[0]
        return SourceCounts(live=row["live"], deleted=row["deleted"], quarantined=quarantined, unindexed=unindexed)

    def count_unindexed(self, source: str) -> int:
        """`counts(source).unindexed` alone: read from the partial index, without scanning the source."""
        return (
            self._conn()
            .execute(
                f"SELECT COUNT(*) FROM records INDEXED BY records_unindexed WHERE {_PENDING} AND source = ?", (source,)
            )
            .fetchone()[0]
        )

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

    # -- runs ------------------------------------------------------------------

    def start_run(
        self,
        source: str,
        *,
        mode: RunMode,
        since: str | None,
        window_start: str | None = None,
        window_id: int | None = None,
        resumed_from: int | None = None,
        checkpoint: dict[str, Any] | None = None,
        pid: int | None = None,
    ) -> RunSummary:
        now = utcnow()
        with self.transaction() as conn:
            cur = conn.execute(
                "INSERT INTO runs (source, status, mode, started_at, since, window_start, window_id, resumed_from, "
                "checkpoint, pid) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    source,
                    mode,
                    now,
                    since,
                    window_start or now,
                    window_id,
                    resumed_from,
                    json.dumps(checkpoint) if checkpoint is not None else None,
                    pid,
                ),
            )
            run_id = cur.lastrowid
            if window_id is None:
                conn.execute("UPDATE runs SET window_id = ? WHERE id = ?", (run_id, run_id))
        return self.run(run_id)

    def commit_page(
        self,
        run: RunSummary,
        records: list[RawRecord],
        quarantines: list[Quarantine],
        checkpoint: dict[str, Any] | None,
        *,
        new_page: bool,
    ) -> PageCounts:
        """Store a page's records and quarantines, the run's counts and the checkpoint, in one transaction.

        `checkpoint` None keeps the run's previous checkpoint (records after it are stored, and
        re-read harmlessly on resume). Updates `run` in place.
        """
        now = utcnow()
        with self.transaction() as conn:
            counts = self._upsert(conn, run.source, run.id, run.window_id, records, now) if records else PageCounts()
            counts.quarantined = self._quarantine(conn, run.source, run.id, run.window_id, quarantines, now)
            run.pages += 1 if new_page else 0
            run.records += counts.records
            run.new += counts.new
            run.changed += counts.changed
            run.deleted += counts.deleted
            run.unchanged += counts.unchanged
            run.quarantined += counts.quarantined
            if checkpoint is not None:
                run.checkpoint = checkpoint
            conn.execute(
                "UPDATE runs SET pages = ?, records = ?, new = ?, changed = ?, deleted = ?, unchanged = ?, "
                "quarantined = ?, checkpoint = ? WHERE id = ?",
                (
                    run.pages,
                    run.records,
                    run.new,
                    run.changed,
                    run.deleted,
                    run.unchanged,
                    run.quarantined,
                    json.dumps(run.checkpoint) if run.checkpoint is not None else None,
                    run.id,
                ),
            )
        return counts

    def sweep_unlisted(self, run: RunSummary, *, max_share: float = 1.0, confirmed: bool = False) -> SweepResult:
        """After a complete, trusted full listing: records the partner no longer lists become deletions.

        Nothing changes when the listing was empty but live records are stored (an empty answer
        is more often a partner's fault than the end of its collection). A sweep that would mark
        more than `max_share` of the live records deleted is held for a librarian
        (`confirm_held_sweep`), unless `confirmed`. Older held sweeps of the source are superseded.
        """
        now = utcnow()
        with self.transaction() as conn:
            live = conn.execute(
                "SELECT COUNT(*) FROM records WHERE source = ? AND deleted = 0", (run.source,)
            ).fetchone()[0]
            listed = conn.execute(
                "SELECT EXISTS (SELECT 1 FROM records WHERE source = ? AND seen_window = ?)",
                (run.source, run.window_id),
            ).fetchone()[0]
            if live and not listed:
                return SweepResult(live=live, empty_listing=True)
            ids = [
                r[0]
                for r in conn.execute(
                    "SELECT local_id FROM records WHERE source = ? AND deleted = 0 AND seen_window IS NOT ? "
                    "ORDER BY local_id",
                    (run.source, run.window_id),
                )
            ]
            result = SweepResult(unlisted=len(ids), live=live)
            conn.execute(
                "UPDATE held_sweeps SET status = 'superseded', decided_at = ? WHERE source = ? AND status = 'held'",
                (now, run.source),
            )
            if not ids:
                return result
            if not confirmed and len(ids) > max_share * live:
                cur = conn.execute(
                    "INSERT INTO held_sweeps (source, run_id, created, live, local_ids) VALUES (?, ?, ?, ?, ?)",
                    (run.source, run.id, now, live, json.dumps(ids, ensure_ascii=False)),
                )
                result.held = HeldSweep(
                    id=cur.lastrowid,
                    source=run.source,
                    run_id=run.id,
                    created=now,
                    live=live,
                    local_ids=ids,
                    status="held",
                )
                return result
            result.deleted = conn.execute(
                "UPDATE records SET deleted = 1, changed_at = ?, run_id = ? "
                "WHERE source = ? AND deleted = 0 AND seen_window IS NOT ?",
                (now, run.id, run.source, run.window_id),
            ).rowcount
            run.deleted += result.deleted
            conn.execute("UPDATE runs SET deleted = ? WHERE id = ?", (run.deleted, run.id))
        return result

    def held_sweeps(self, source: str | None = None, status: SweepStatus | None = "held") -> list[HeldSweep]:
        """Held (or, with status None, all) sweeps, newest first."""
        conds, params = [], []
        if source:
            conds.append("source = ?")
            params.append(source)
        if status:
            conds.append("status = ?")
            params.append(status)
        where = f" WHERE {' AND '.join(conds)}" if conds else ""
        return [
            _held_from_row(r)
            for r in self._conn().execute(f"SELECT * FROM held_sweeps{where} ORDER BY id DESC", params)
        ]

    def held_sweep(self, sweep_id: int) -> HeldSweep | None:
        row = self._conn().execute("SELECT * FROM held_sweeps WHERE id = ?", (sweep_id,)).fetchone()
        return _held_from_row(row) if row else None

    def confirm_held_sweep(self, sweep_id: int, by: str) -> int:
        """Apply a held sweep: its records become deletions, except any a harvest has listed since."""
        now = utcnow()
        with self.transaction() as conn:
            row = conn.execute("SELECT * FROM held_sweeps WHERE id = ? AND status = 'held'", (sweep_id,)).fetchone()
            if row is None:
                raise KeyError(f"no held deletion sweep {sweep_id} (already decided, or superseded by a newer harvest)")
            held = _held_from_row(row)
            n = 0
            for i in range(0, len(held.local_ids), 500):
                chunk = held.local_ids[i : i + 500]
                n += conn.execute(
                    f"UPDATE records SET deleted = 1, changed_at = ?, run_id = ? WHERE source = ? AND deleted = 0 "
                    f"AND last_seen < ? AND local_id IN ({','.join('?' * len(chunk))})",
                    (now, held.run_id, held.source, held.created, *chunk),
                ).rowcount
            conn.execute(
                "UPDATE held_sweeps SET status = 'confirmed', decided_at = ?, decided_by = ?, applied = ? WHERE id = ?",
                (now, by, n, sweep_id),
            )
        return n

    def discard_held_sweep(self, sweep_id: int, by: str) -> None:
        """Keep the records a held sweep would have marked deleted."""
        with self.transaction() as conn:
            cur = conn.execute(
                "UPDATE held_sweeps SET status = 'discarded', decided_at = ?, decided_by = ? "
                "WHERE id = ? AND status = 'held'",
                (utcnow(), by, sweep_id),
            )
            if not cur.rowcount:
                raise KeyError(f"no held deletion sweep {sweep_id} (already decided, or superseded by a newer harvest)")

    def finish_run(self, run: RunSummary, status: RunStatus, error: str | None = None) -> RunSummary:
        now = utcnow()
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, ended_at = ?, error = ? WHERE id = ?", (status, now, error, run.id)
            )
        run.status, run.ended_at, run.error = status, now, error
        return run

    def mark_interrupted(self, source: str, resumed_by: int | None) -> int:
        """Runs left 'running' by a harvester that died: failed, saying so (call while holding the source's lock)."""
        note = "interrupted: the harvester stopped without finishing (killed or crashed)"
        if resumed_by:
            note += f"; resumed by run {resumed_by}"
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE runs SET status = 'failed', ended_at = COALESCE(ended_at, ?), error = ? "
                "WHERE source = ? AND status = 'running' AND id IS NOT ?",
                (utcnow(), note, source, resumed_by),
            ).rowcount

    def run(self, run_id: int) -> RunSummary:
        row = self._conn().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no harvest run {run_id}")
        return _run_from_row(row)

    def runs(self, source: str | None = None, limit: int = 20) -> list[RunSummary]:
        """Newest first."""
        if source:
            rows = (
                self._conn()
                .execute("SELECT * FROM runs WHERE source = ? ORDER BY id DESC LIMIT ?", (source, limit))
                .fetchall()
            )
        else:
            rows = self._conn().execute("SELECT * FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_run_from_row(r) for r in rows]

    def last_run(self, source: str) -> RunSummary | None:
        runs = self.runs(source, limit=1)
        return runs[0] if runs else None

    def last_successful_run(self, source: str) -> RunSummary | None:
        row = (
            self._conn()
            .execute("SELECT * FROM runs WHERE source = ? AND status = 'ok' ORDER BY id DESC LIMIT 1", (source,))
            .fetchone()
        )
        return _run_from_row(row) if row else None

    # -- quarantine --------------------------------------------------------------

    def quarantined(self, source: str | None = None, limit: int | None = None) -> list[QuarantineEntry]:
        """Newest first."""
        sql = "SELECT * FROM quarantine" + (" WHERE source = ?" if source else "") + " ORDER BY id DESC"
        params: list[Any] = [source] if source else []
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        return [_quarantine_from_row(r) for r in self._conn().execute(sql, params).fetchall()]

    def quarantine_entry(self, source: str, entry_id: int) -> QuarantineEntry | None:
        row = (
            self._conn().execute("SELECT * FROM quarantine WHERE id = ? AND source = ?", (entry_id, source)).fetchone()
        )
        return _quarantine_from_row(row) if row is not None else None

    def quarantine_keys(self, source: str) -> list[tuple[int, str | None]]:
        """(entry id, record id at the partner) of every quarantined entry of a source, without payloads."""
        return [
            (r[0], r[1])
            for r in self._conn().execute("SELECT id, local_id FROM quarantine WHERE source = ? ORDER BY id", (source,))
        ]

    def add_quarantine(self, source: str, items: Iterable[Quarantine], run_id: int | None = None) -> int:
        """Quarantine input outside a harvest page, e.g. a record the indexer could not normalize."""
        with self.transaction() as conn:
            return self._quarantine(conn, source, run_id, None, list(items), utcnow())

    def delete_quarantined(self, ids: Iterable[int]) -> int:
        """Drop entries (after a successful retry, or once someone has looked at them)."""
        with self.transaction() as conn:
            return sum(conn.execute("DELETE FROM quarantine WHERE id = ?", (i,)).rowcount for i in ids)

    # -- status --------------------------------------------------------------------

    def source_status(self, source: str) -> SourceStatus:
        """Counts, last run, last success, and the error of the newest run that failed since then."""
        last = self.last_run(source)
        success = self.last_successful_run(source)
        row = (
            self._conn()
            .execute(
                "SELECT error FROM runs WHERE source = ? AND status != 'ok' AND error IS NOT NULL AND id > ? "
                "ORDER BY id DESC LIMIT 1",
                (source, success.id if success else 0),
            )
            .fetchone()
        )
        return SourceStatus(
            source=source,
            counts=self.counts(source),
            last_run=last,
            last_success=success,
            last_error=row[0] if row else None,
        )

    def list_sources_status(self, source_ids: Iterable[str] | None = None) -> list[SourceStatus]:
        """Status of the given sources (default: every source the store knows), in order."""
        ids = list(source_ids) if source_ids is not None else self.sources()
        return [self.source_status(s) for s in ids]
