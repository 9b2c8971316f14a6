"""What an indexing run did so far (IndexSummary), and the progress lines the commands print."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from indexers.timings import StageTimes
from rawstore.models import RunSummary


@dataclass
class IndexSummary:
    seen: int = 0  # changed raw records read
    written: int = 0  # merged works written to the engine
    deleted: int = 0  # works removed from the engine
    quarantined: int = 0  # records that could not be normalized
    replayed: int = 0  # journaled works a killed run left uncommitted, written again
    errors: list[str] = field(default_factory=list)  # engine rejections, with ids
    seconds: float = 0.0
    stages: StageTimes = field(default_factory=StageTimes)  # where the seconds went
    phase: str = "indexing"  # what `done` counts: "indexing" raw records, "writing" works (reindex)
    done: int = 0
    total: int = 0  # what `done` goes up to (0: not known)
    phase_started: float = field(default_factory=time.perf_counter)

    def start_phase(self, phase: str, total: int) -> None:
        self.phase, self.done, self.total, self.phase_started = phase, 0, total, time.perf_counter()

    def eta(self) -> float | None:
        """Seconds left in this phase at the rate so far (None until there is a rate)."""
        elapsed = time.perf_counter() - self.phase_started
        if not self.total or not self.done or elapsed <= 0:
            return None
        return max(0.0, (self.total - self.done) * elapsed / self.done)


IndexProgress = Callable[[IndexSummary], None]


class RunPrinter:
    """Prints a harvest's progress line. The harvest reports after each page and once more at the end,
    often with nothing new: print changes only (one printer per command, so no state is shared)."""

    def __init__(self) -> None:
        self.last: tuple[int | None, int, int] | None = None  # (run id, pages, records) printed last

    def __call__(self, run: RunSummary) -> None:
        now = (run.id, run.pages, run.records)
        if now == self.last:
            return
        self.last = now
        print(f"  {run.source}: page {run.pages}, {run.records} records", file=sys.stderr, flush=True)


def clock(seconds: float) -> str:
    seconds = int(round(seconds))
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


def progress_line(summary: IndexSummary) -> str:
    """`indexing: 4,000 of 21,019 records (19%), 540/s, about 0:31 left` (what `done` counts depends on the phase)."""
    unit = "works" if summary.phase == "writing" else "records"
    elapsed = time.perf_counter() - summary.phase_started
    line = f"  {summary.phase}: {summary.done:,}"
    if summary.total:
        line += f" of {summary.total:,} {unit} ({min(100, 100 * summary.done // summary.total)}%)"
    else:
        line += f" {unit}"
    if elapsed > 0 and summary.done:
        line += f", {summary.done / elapsed:,.0f}/s"
    eta = summary.eta()
    if eta is not None:
        line += f", about {clock(eta)} left"
    if summary.phase == "indexing":
        line += f"; {summary.written:,} works written"
    return line


def print_index(summary: IndexSummary) -> None:
    print(progress_line(summary), file=sys.stderr, flush=True)
