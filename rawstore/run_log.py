"""The raw store's harvest runs: start, commit a page with its checkpoint, finish, read back.

`commit_page` writes a page of records, its quarantines, the run's counts and the
checkpoint in one transaction: a killed harvest loses and duplicates nothing.
"""

from __future__ import annotations

import json
from typing import Any

from connectors.base import Quarantine, RawRecord
from rawstore.connection import StoreFile
from rawstore.models import PageCounts, RunMode, RunStatus, RunSummary, utcnow
from rawstore.quarantine import insert_quarantine
from rawstore.records import upsert
from rawstore.schema import run_from_row

INTERRUPTED = "harvest.interrupted"  # the code of a run its harvester left behind (killed or crashed)


class RunLog(StoreFile):
    """Harvest runs, newest first when listed."""

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
            assert run_id is not None  # an INSERT into a rowid table
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
            counts = upsert(conn, run.source, run.id, run.window_id, records, now) if records else PageCounts()
            counts.quarantined = insert_quarantine(conn, run.source, run.id, run.window_id, quarantines, now)
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

    def finish_run(
        self, run: RunSummary, status: RunStatus, error: str | None = None, error_code: str | None = None
    ) -> RunSummary:
        """End a run. `error_code` is the error's stable code (fedsearch/errors.py), kept beside its text."""
        now = utcnow()
        if error is not None and error_code is None:
            error_code = "internal"
        with self.transaction() as conn:
            conn.execute(
                "UPDATE runs SET status = ?, ended_at = ?, error = ?, error_code = ? WHERE id = ?",
                (status, now, error, error_code, run.id),
            )
        run.status, run.ended_at, run.error, run.error_code = status, now, error, error_code
        return run

    def mark_interrupted(self, source: str, resumed_by: int | None) -> int:
        """Runs left 'running' by a harvester that died: failed, saying so (call while holding the source's lock)."""
        note = "interrupted: the harvester stopped without finishing (killed or crashed)"
        if resumed_by:
            note += f"; resumed by run {resumed_by}"
        with self.transaction() as conn:
            return conn.execute(
                "UPDATE runs SET status = 'failed', ended_at = COALESCE(ended_at, ?), error = ?, error_code = ? "
                "WHERE source = ? AND status = 'running' AND id IS NOT ?",
                (utcnow(), note, INTERRUPTED, source, resumed_by),
            ).rowcount

    def run(self, run_id: int) -> RunSummary:
        row = self._conn().execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise KeyError(f"no harvest run {run_id}")
        return run_from_row(row)

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
        return [run_from_row(r) for r in rows]

    def last_run(self, source: str) -> RunSummary | None:
        runs = self.runs(source, limit=1)
        return runs[0] if runs else None

    def last_successful_run(self, source: str) -> RunSummary | None:
        row = (
            self._conn()
            .execute("SELECT * FROM runs WHERE source = ? AND status = 'ok' ORDER BY id DESC LIMIT 1", (source,))
            .fetchone()
        )
        return run_from_row(row) if row else None
