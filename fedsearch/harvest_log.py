"""What the search side may know about harvests: each source's newest run.

The raw store keeps the runs (rawstore/); the API shows them in /api/v1/sources and
/metrics. This small interface lets it do so without importing the raw store: the
program that puts the layers together passes one in (fedsearch_app/app.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class LastRun:
    """A source's newest harvest run (status None: never harvested), and the deletions held back from its sweeps."""

    status: str | None = None
    started_at: str | None = None  # ISO 8601, UTC
    finished_at: str | None = None
    records: int | None = None
    error: str | None = None
    error_code: str | None = None  # the error's stable code (fedsearch/errors.py); None: none, or stored before codes
    held_deletions: int = 0


class HarvestLog(Protocol):
    def last_runs(self, source_ids: list[str]) -> dict[str, LastRun]:
        """Source id -> its newest run, for `source_ids` and every source the log knows; {} if unknown."""
        ...
