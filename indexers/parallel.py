"""Normalizing raw records, with what the indexer needs of each, in worker processes ahead of the indexer.

For each record a worker computes its dedup features, its blocking keys, and its
engine document (the analysis chain, fedsearch/engines/prepared.py). All are pure
functions of a raw record and its source's configuration, so they can run in other
processes while the indexer's own process deduplicates and writes the batch before
(with two cores the indexer's process is the bottleneck: what runs here is off it). Everything that changes a store (quarantine, the index
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
from typing import Any, Self

from fedsearch.config import SourceConfig
from fedsearch.engines.prepared import prepare
from fedsearch.record import Record, make_record_id
from indexers.dedup import Features, features, file_keys, lookup_keys
from indexers.normalize import NormalizationError, normalize
from rawstore.models import StoredRecord

log = logging.getLogger("fedsearch.indexer")

WORKERS_ENV = "FEDSEARCH_INDEX_WORKERS"
AHEAD = 2  # batches normalized ahead of the one being indexed (bounds memory: each is ~BATCH records)


@dataclass
class NormalizedBatch:
    fresh: list[Record] = field(default_factory=list)
    feats: dict[str, Features] = field(default_factory=dict)
    filed: dict[str, list[str]] = field(default_factory=dict)  # blocking keys to file each fresh record under
    lookups: dict[str, list[str]] = field(default_factory=dict)  # blocking keys to find its candidates by
    # Each fresh record's engine document (index_document), where it could be built: a record that stays
    # alone in its work is written with it. A work merged from several records is analysed by the engine.
    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    removed: set[str] = field(default_factory=set)  # deleted, unknown source, or unusable
    failed: list[tuple[StoredRecord, str]] = field(default_factory=list)  # (record, reason) to quarantine
    seconds: float = 0.0  # normalizing time, summed over the processes that did it
    analyse_seconds: float = 0.0  # of which building engine documents


def normalize_batch(
    batch: list[StoredRecord], sources: dict[str, SourceConfig], documents: bool = True
) -> NormalizedBatch:
    """One batch's Records, their dedup features, blocking keys and (`documents`) engine documents, and
    the ids to take out (deleted, unknown source, unusable)."""
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
        f = out.feats[record.id] = features(record)
        out.filed[record.id] = file_keys(f)
        out.lookups[record.id] = lookup_keys(f)
        if documents:
            started_doc = time.process_time()
            try:
                out.docs[record.id] = prepare(record).fields
            except Exception:  # noqa: BLE001, S110 - the engine builds it again and reports why it can't
                pass
            out.analyse_seconds += time.process_time() - started_doc
    out.seconds = time.process_time() - started
    return out


def _join(parts: list[NormalizedBatch]) -> NormalizedBatch:
    out = NormalizedBatch()
    for part in parts:
        out.fresh += part.fresh
        out.feats.update(part.feats)
        out.filed.update(part.filed)
        out.lookups.update(part.lookups)
        out.docs.update(part.docs)
        out.analyse_seconds += part.analyse_seconds
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
    import fedsearch.engines.prepared  # noqa: F401
    import indexers.normalize  # noqa: F401


class Normalizer:
    """A small process pool that normalizes batches ahead of the indexer, results in input order."""

    def __init__(self, sources: dict[str, SourceConfig], workers: int | None = None, documents: bool = True):
        self.sources = sources
        self.documents = documents  # build engine documents too (not for a rebuild's state, which merges first)
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
        return [
            pool.submit(normalize_batch, batch[i : i + step], self.sources, self.documents)
            for i in range(0, len(batch), step)
        ]

    def ahead(self, batches: Iterable[list[StoredRecord]]) -> Iterator[tuple[list[StoredRecord], NormalizedBatch]]:
        """Each batch with its NormalizedBatch, in order; up to AHEAD later batches are already being normalized."""
        pool = self._pool
        if pool is None:
            for batch in batches:
                yield batch, normalize_batch(batch, self.sources, self.documents)
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
