"""Where indexing time goes: normalize, dedup, analyse, engine (for `IndexSummary.stages`).

Always on, because it is nearly free: the pipeline reads the clock once per
batch for normalizing; `TimedEngine` wraps the engine and reads it once per
engine call and once per record it hands over; the engines report the time
spent building index documents (fedsearch/analysis.py) in `BulkReport.analyse_seconds`.

- normalize: raw records -> Records (and quarantining those that fail), as the indexer waited for it
  (the work itself runs ahead in worker processes: `normalize_cpu`);
- analyse: Records -> index documents (the analysis chain), inside engine writes (mostly done ahead
  in the workers: `analyse_cpu`);
- engine: the engine's own work (writes, deletes, commits, minus analyse);
- dedup: everything else: clustering, merging, the index state, raw-store reads and marks.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from typing import Any

from fedsearch.engines import SearchEngine
from fedsearch.engines.base import BulkReport
from fedsearch.record import Record


@dataclass
class StageTimes:
    normalize: float = 0.0
    dedup: float = 0.0
    analyse: float = 0.0
    engine: float = 0.0
    # CPU seconds of normalizing in worker processes (indexers/parallel.py), beside the indexer's own
    # work; `normalize` above is the time the indexer waited for them. Not part of the wall-clock split.
    normalize_cpu: float = 0.0
    # CPU seconds of building engine documents in the workers (the analysis chain, indexers/parallel.py);
    # `analyse` above is what was left to analyse in the indexer's process (works merged from several records).
    analyse_cpu: float = 0.0

    def settle(self, total: float) -> None:
        """Give dedup the rest of `total` seconds (the time not measured as another stage)."""
        self.dedup = max(0.0, total - self.normalize - self.analyse - self.engine)

    def as_dict(self) -> dict[str, float]:
        return {k: round(v, 3) for k, v in asdict(self).items()}

    def describe(self) -> str:
        return ", ".join(f"{k} {v:.1f} s" for k, v in asdict(self).items())


class TimedEngine:
    """The engine, with the time of its writes added to `stages` (everything else passes through)."""

    def __init__(self, engine: SearchEngine, stages: StageTimes):
        self._engine = engine
        self._stages = stages

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def upsert(self, records: Iterable[Record]) -> BulkReport:
        return self._write(self._engine.upsert, records)

    def rebuild(self, records: Iterable[Record], before_switch: Any = None) -> BulkReport:
        return self._write(lambda items: self._engine.rebuild(items, before_switch=before_switch), records)

    def delete(self, ids: Iterable[str]) -> int:
        started = time.perf_counter()
        try:
            return self._engine.delete(ids)
        finally:
            self._stages.engine += time.perf_counter() - started

    def refresh(self) -> None:
        started = time.perf_counter()
        try:
            self._engine.refresh()
        finally:
            self._stages.engine += time.perf_counter() - started

    def commit(self) -> None:
        started = time.perf_counter()
        try:
            self._engine.commit()
        finally:
            self._stages.engine += time.perf_counter() - started

    def _write(self, call: Any, records: Iterable[Record]) -> BulkReport:
        # Records may come from a generator that merges clusters as the engine pulls them:
        # that time is the producer's (dedup's), not the engine's.
        pulled = [0.0]

        def timed(items: Iterable[Record]) -> Iterator[Record]:
            it = iter(items)
            while True:
                t = time.perf_counter()
                try:
                    item = next(it)
                except StopIteration:
                    pulled[0] += time.perf_counter() - t
                    return
                pulled[0] += time.perf_counter() - t
                yield item

        started = time.perf_counter()
        report = call(timed(records))
        spent = time.perf_counter() - started - pulled[0]
        self._stages.analyse += report.analyse_seconds
        self._stages.engine += max(0.0, spent - report.analyse_seconds)
        return report
