"""The raw store's tables, their migration on open, and rows to models.

The schema is created if missing; a store written by an older version gets the
columns added since (all nullable: old rows keep working, they just lack the code).
"""

from __future__ import annotations

import json
import sqlite3

from rawstore.models import HeldSweep, QuarantineEntry, RunSummary, StoredRecord

SCHEMA = """
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
    error_code    TEXT,               -- stable code of the error (fedsearch/errors.py); NULL before 2026-12
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
    created   TEXT NOT NULL,
    code      TEXT                -- stable code of the reason (record.*, partner.*); NULL before 2026-12
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

# Columns added after the first release: (table, column, type). Added on open when missing.
ADDED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("runs", "error_code", "TEXT"),
    ("quarantine", "code", "TEXT"),
)

PENDING = "indexed_hash IS NOT (CASE WHEN deleted THEN 'deleted' ELSE content_hash END)"
RECORD_COLUMNS = (
    "source, local_id, format, payload, content_hash, datestamp, deleted, sets, "
    "first_seen, last_seen, changed_at, run_id, indexed_hash"
)


def create_or_migrate(conn: sqlite3.Connection) -> None:
    """Create missing tables, then add the columns an older store lacks."""
    conn.executescript(SCHEMA)
    for table, column, kind in ADDED_COLUMNS:
        have = {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
        if column not in have:
            try:
                conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            except sqlite3.OperationalError as err:  # another process opening the store added it first
                if "duplicate column" not in str(err):
                    raise


def held_from_row(r: sqlite3.Row) -> HeldSweep:
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


def run_from_row(row: sqlite3.Row) -> RunSummary:
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
        error_code=row["error_code"],
    )


def quarantine_from_row(r: sqlite3.Row) -> QuarantineEntry:
    return QuarantineEntry(
        id=r["id"],
        source=r["source"],
        run_id=r["run_id"],
        local_id=r["local_id"],
        reason=r["reason"],
        payload=bytes(r["payload"]),
        location=r["location"],
        created=r["created"],
        code=r["code"],
    )


def record_from_row(row: sqlite3.Row) -> StoredRecord:
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
