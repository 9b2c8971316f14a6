"""Normalizing raw records (and computing their dedup features) in worker processes, ahead of the indexer.

Both are pure functions of a raw record and its source's configuration, so they
can run in other processes while the indexer's own process deduplicates and
writes the batch before. Everything that changes a store (quarantine, the index
state, the engine, the raw store's marks) stays in the indexer, in batch order,
so crash safety and determinism are those of the serial pipeline:

    with Normalizer(sources) as normalizer:
        for batch, done in normalizer.ahead(batches):   # done: a NormalizedBatch, in input order
            ...

`FEDSEARCH_INDEX_WORKERS=0` (or one core) normalizes in the indexer's process, as before.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Self

from fedsearch.config import SourceConfig
from fedsearch.record import Record, make_record_id
from indexers.dedup import Features, features
from indexers.normalize import NormalizationError, normalize
from rawstore.models import StoredRecord

log = logging.getLogger("fedsearch.indexer")

WORKERS_ENV = "FEDSEARCH_INDEX_WORKERS"
AHEAD = 2  # batches normalized ahead of the one being indexed (bounds memory: each is ~BATCH records)


@dataclass
class NormalizedBatch:
    fresh: list[Record] = field(default_factory=list)
    feats: dict[str, Features] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)  # deleted, unknown source, or unusable
    failed: list[tuple[StoredRecord, str]] = field(default_factory=list)  # (record, reason) to quarantine
    seconds: float = 0.0  # normalizing time, summed over the processes that did it


def normalize_batch(batch: list[StoredRecord], sources: dict[str, SourceConfig]) -> NormalizedBatch:
    """One batch's Records, their dedup features, and the ids to take out (deleted, unknown source, unusable)."""
    started = time.process_time()
    out = NormalizedBatch()
    for stored in batch:
        rid = make_record_id(stored.source, stored.local_id)
        if stored.deleted or stored.source not in sources:
            out.removed.add(rid)
            continue
        try:
            record = normalize(stored.raw(), sources[stored.source])
        except NormalizationError as err:
            out.removed.add(rid)  # its last good version must not stay searchable as if current
            out.failed.append((stored, err.reason))
            continue
        out.fresh.append(record)
        out.feats[record.id] = features(record)
    out.seconds = time.process_time() - started
    return out


def _join(parts: list[NormalizedBatch]) -> NormalizedBatch:
    out = NormalizedBatch()
    for part in parts:
        out.fresh += part.fresh
        out.feats.update(part.feats)
        out.removed |= part.removed
        out.failed += part.failed
        out.seconds += part.seconds
    return out


def worker_count() -> int:
    raw = os.environ.get(WORKERS_ENV, "").strip()
    if raw:
        try:
            value = int(raw)
        except ValueError:
            value = -1
        if value < 0:
            raise ValueError(f"{WORKERS_ENV}={raw!r} is not a number of worker processes (0: none)")
        return value
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return cores if cores > 1 else 0


def _worker_start(indexer_pid: int) -> None:
    """Die with the indexer, and import what normalizing needs once per worker, not on its first batch.

    A worker holds both ends of its task queue, so it would wait forever for work from an indexer
    that was killed (kill -9 is part of normal life here, see pipeline.py "Crashes"): the kernel
    sends it SIGKILL when its parent dies (Linux; elsewhere workers end with the pool as usual).
    """
    try:
        import ctypes
        import signal

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != indexer_pid:  # the indexer died before the line above took effect
        os._exit(1)
    import indexers.normalize  # noqa: F401


class Normalizer:
    """A small process pool that normalizes batches ahead of the indexer, results in input order."""

    def __init__(self, sources: dict[str, SourceConfig], workers: int | None = None):
        self.sources = sources
        self.workers = worker_count() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        if self.workers > 0:
            # spawn: workers start from a clean process (not a fork of one holding engine threads), as
            # direct children of the indexer, so that they can die with it (_worker_start).
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),)
            )
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _submit(self, pool: ProcessPoolExecutor, batch: list[StoredRecord]) -> list[Future[NormalizedBatch]]:
        """The batch cut in one part per worker (joined again in order by `_join`)."""
        step = max(1, -(-len(batch) // self.workers))
        return [pool.submit(normalize_batch, batch[i : i + step], self.sources) for i in range(0, len(batch), step)]

    def ahead(self, batches: Iterable[list[StoredRecord]]) -> Iterator[tuple[list[StoredRecord], NormalizedBatch]]:
        """Each batch with its NormalizedBatch, in order; up to AHEAD later batches are already being normalized."""
        pool = self._pool
        if pool is None:
            for batch in batches:
                yield batch, normalize_batch(batch, self.sources)
            return
        queue: deque[tuple[list[StoredRecord], list[Future[NormalizedBatch]]]] = deque()
        for batch in batches:
            queue.append((batch, self._submit(pool, batch)))
            if len(queue) > AHEAD:
                first, pending = queue.popleft()
                yield first, _join([f.result() for f in pending])
        while queue:
            first, pending = queue.popleft()
            yield first, _join([f.result() for f in pending])
