"""The raw store: every record as a partner sent it, every harvest run, every quarantined input.

One SQLite file in the data directory (WAL, so the admin UI and the indexer
read while a harvest writes). Records are keyed by (source, local_id). `RawStore`
is the one class callers use; its parts live beside it:

- rawstore/connection.py: the file, one connection per thread, transactions;
- rawstore/schema.py: the tables, their migration on open, rows to models;
- rawstore/records.py: storing and reading records, what changed since indexing, counts;
- rawstore/run_log.py: harvest runs and `commit_page` (a page, its quarantines and checkpoint at once);
- rawstore/sweeps.py: deletion sweeps and the held ones;
- rawstore/quarantine.py: quarantined input with its reason and code.

Times are UTC ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from fedsearch.config import Settings
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
from rawstore.quarantine import QUARANTINE_PAYLOAD_CAP, QuarantineLog  # noqa: F401 - re-exported
from rawstore.records import Records
from rawstore.run_log import RunLog
from rawstore.sweeps import Sweeps

FILENAME = "raw.sqlite3"


class RawStore(Records, RunLog, Sweeps, QuarantineLog):
    """The raw store in one SQLite file. Safe to share between threads (one connection per thread)."""

    @classmethod
    def for_settings(cls, settings: Settings) -> RawStore:
        return cls(Path(settings.data_dir) / FILENAME)

    def source_status(self, source: str) -> SourceStatus:
        """Counts, last run, last success, and the error of the newest run that failed since then."""
        last = self.last_run(source)
        success = self.last_successful_run(source)
        row = (
            self._conn()
            .execute(
                "SELECT error, error_code FROM runs WHERE source = ? AND status != 'ok' AND error IS NOT NULL "
                "AND id > ? "
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
            last_error_code=row[1] if row else None,
        )

    def list_sources_status(self, source_ids: Iterable[str] | None = None) -> list[SourceStatus]:
        """Status of the given sources (default: every source the store knows), in order."""
        ids = list(source_ids) if source_ids is not None else self.sources()
        return [self.source_status(s) for s in ids]
