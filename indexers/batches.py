"""Changed raw records in batches, normalized ahead by the workers; those that fail are quarantined."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator

from connectors.base import Quarantine
from indexers.parallel import NormalizedBatch, Normalizer
from indexers.progress import IndexSummary
from rawstore.models import StoredRecord
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.indexer")


def batches(records: Iterable[StoredRecord], size: int) -> Iterator[list[StoredRecord]]:
    batch: list[StoredRecord] = []
    for stored in records:
        batch.append(stored)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def normalized(
    normalizer: Normalizer, parts: Iterable[list[StoredRecord]], store: RawStore, summary: IndexSummary
) -> Iterator[tuple[list[StoredRecord], NormalizedBatch]]:
    """Batches with their normalized records; `normalize` counts the time the indexer waited for them."""
    items = normalizer.ahead(parts)
    while True:
        started = time.perf_counter()
        try:
            batch, done = next(items)
        except StopIteration:
            return
        summary.stages.normalize += time.perf_counter() - started
        summary.stages.normalize_cpu += done.seconds - done.analyse_seconds
        summary.stages.analyse_cpu += done.analyse_seconds
        _quarantine(done, store, summary)
        yield batch, done


def _quarantine(done: NormalizedBatch, store: RawStore, summary: IndexSummary) -> None:
    """Quarantine the records of a batch that could not be normalized (in the indexer's process, in order)."""
    for stored, reason in done.failed:
        store.add_quarantine(
            stored.source,
            [
                Quarantine(
                    reason=f"could not be normalized: {reason}",
                    local_id=stored.local_id,
                    payload=stored.payload,
                    location="indexing",
                )
            ],
        )
        summary.quarantined += 1
        log.warning("record quarantined: %s", reason, extra={"source": stored.source, "record": stored.local_id})
