"""What the raw store holds and reports: stored records, harvest runs, held deletion sweeps,
quarantine entries and counts (plain dataclasses; the SQL is in store.py). Times are UTC ISO 8601 strings."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from connectors.base import RawRecord

DELETED_STATE = "deleted"  # what `indexed_hash` holds once a deletion was passed to the index

# incomplete: the partner's answers were damaged; records from good pages kept, nothing swept.
RunStatus = Literal["running", "ok", "failed", "stopped", "incomplete"]
SweepStatus = Literal["held", "confirmed", "discarded", "superseded"]
RunMode = Literal["full", "incremental"]


def utcnow() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def content_hash(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


@dataclass
class StoredRecord:
    source: str
    local_id: str
    format: str
    payload: bytes
    content_hash: str
    datestamp: str | None
    deleted: bool
    sets: list[str]
    first_seen: str
    last_seen: str
    changed_at: str
    run_id: int | None
    indexed_hash: str | None

    @property
    def key(self) -> tuple[str, str]:
        return (self.source, self.local_id)

    @property
    def state(self) -> str:
        """What `mark_indexed` records: the content hash, or 'deleted'."""
        return DELETED_STATE if self.deleted else self.content_hash

    def raw(self) -> RawRecord:
        return RawRecord(
            local_id=self.local_id,
            format=self.format,
            payload=self.payload,
            datestamp=self.datestamp,
            deleted=self.deleted,
            sets=list(self.sets),
        )


@dataclass
class RunSummary:
    """One harvest run (a row of the runs table)."""

    id: int | None
    source: str
    status: RunStatus
    mode: RunMode
    started_at: str
    ended_at: str | None = None
    since: str | None = None
    window_start: str | None = None
    window_id: int | None = None
    resumed_from: int | None = None
    checkpoint: dict[str, Any] | None = None
    pages: int = 0
    records: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    error: str | None = None
    error_code: str | None = None  # stable code (fedsearch/errors.py); None for runs stored before codes

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def seconds(self) -> float | None:
        ended, started = parse_time(self.ended_at), parse_time(self.started_at)
        if ended is None or started is None:
            return None
        return (ended - started).total_seconds()

    @property
    def rate(self) -> float | None:
        """Records per second over the run, when it has ended."""
        secs = self.seconds
        return self.records / secs if secs else None

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = self.seconds
        return out


@dataclass
class HeldSweep:
    """A deletion sweep held by the safety brake."""

    id: int
    source: str
    run_id: int
    created: str
    live: int
    local_ids: list[str]
    status: SweepStatus
    decided_at: str | None = None
    decided_by: str | None = None
    applied: int | None = None

    @property
    def count(self) -> int:
        return len(self.local_ids)

    @property
    def share(self) -> float:
        return self.count / self.live if self.live else 1.0

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["count"] = self.count
        out["local_ids"] = self.local_ids[:20]
        return out


@dataclass
class SweepResult:
    """What a sweep did: `deleted` records marked deleted, or `held` for a librarian, or nothing."""

    unlisted: int = 0  # live records the listing did not have
    live: int = 0
    deleted: int = 0
    held: HeldSweep | None = None
    empty_listing: bool = False  # nothing listed but live records stored: kept, no sweep


@dataclass
class QuarantineEntry:
    id: int
    source: str
    run_id: int | None
    local_id: str | None
    reason: str
    payload: bytes
    location: str | None
    created: str
    code: str | None = None  # stable code of the reason (record.*, partner.*); None for old entries


@dataclass
class SourceCounts:
    live: int = 0
    deleted: int = 0
    quarantined: int = 0
    unindexed: int = 0


@dataclass
class PageCounts:
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    records: int = 0

    def add(self, other: PageCounts) -> None:
        for name in ("new", "changed", "deleted", "unchanged", "quarantined", "records"):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SourceStatus:
    source: str
    counts: SourceCounts
    last_run: RunSummary | None
    last_success: RunSummary | None
    last_error: str | None = field(default=None)
    last_error_code: str | None = field(default=None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "counts": asdict(self.counts),
            "last_run": self.last_run.as_dict() if self.last_run else None,
            "last_success": self.last_success.as_dict() if self.last_success else None,
            "last_error": self.last_error,
            "last_error_code": self.last_error_code,
        }
