"""`fedsearch reindex`: every raw record re-normalized into a staging state, a new engine index
built from it beside the served one, then both switched to (pipeline.py's docstring says what
a kill at each moment leaves)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator

from fedsearch.config import Settings
from fedsearch.engines import SearchEngine, open_engine
from fedsearch.record import Record
from indexers.batches import batches, normalized
from indexers.dedup import merge
from indexers.departures import RebuildDepartures
from indexers.gcpolicy import relaxed_gc
from indexers.locking import IndexBusy, batch_size, index_lock
from indexers.parallel import Normalizer
from indexers.progress import IndexProgress, IndexSummary, print_index
from indexers.state import IndexState
from indexers.timings import TimedEngine
from indexers.works import apply_marks, recover, update_works
from rawstore.store import RawStore


def _counted(
    items: Iterable[Record], summary: IndexSummary, progress: IndexProgress | None, every: int
) -> Iterator[Record]:
    for item in items:
        yield item
        summary.done += 1
        if progress and summary.done % every == 0:
            progress(summary)


@relaxed_gc
def rebuild_index(settings: Settings, engine: SearchEngine, progress: IndexProgress | None = None) -> IndexSummary:
    """Re-normalize every raw record into a staging state, build a new engine index from it, switch to both.

    The served index and the live state are untouched until the engine switches; see
    pipeline.py's docstring for what a kill at each moment leaves. Progress (with an ETA)
    goes to `progress` after each batch read and every batch of works written.
    """
    started = time.perf_counter()
    summary = IndexSummary()
    sources = {s.id: s for s in settings.sources}
    size = batch_size()
    with index_lock(settings.data_dir), RawStore.for_settings(settings) as store:
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            recover(state, store, engine, IndexSummary())
            departures = RebuildDepartures(engine)  # the works served now, to tell which the new index drops
            staging = state.start_rebuild()
            try:
                summary.start_phase("reading", sum(c.live + c.deleted for c in map(store.counts, store.sources())))
                # Works are merged from the whole staging state afterwards: no documents built ahead.
                with Normalizer(sources, documents=False) as normalizer:
                    for batch, done in normalized(normalizer, batches(store.iter_all(), size), store, summary):
                        update_works(done, settings, staging, None, summary)
                        staging.add_marks((b.source, b.local_id, b.state) for b in batch)
                        summary.seen += len(batch)
                        summary.done += len(batch)
                        if progress:
                            progress(summary)
                summary.start_phase("writing", staging.count_clusters())
                merged = _counted((merge(members) for members in staging.iter_clusters()), summary, progress, size)

                def before_switch(generation: str) -> None:
                    departures.note()
                    state.set_rebuild_generation(generation)

                report = TimedEngine(engine, summary.stages).rebuild(
                    departures.track(merged), before_switch=before_switch
                )
            finally:
                staging.close()
            state.finish_rebuild()
            apply_marks(state, store)
            if progress:
                progress(summary)
            summary.written = report.indexed
            summary.errors = [f"{e.id}: {e.reason}" for e in report.errors]
        finally:
            state.close()
    summary.seconds = time.perf_counter() - started
    summary.stages.settle(summary.seconds)
    return summary


def reindex(settings: Settings) -> int:
    """`fedsearch reindex`: rebuild the index from the raw store and switch to it at once."""
    engine = open_engine(settings, writer=True)
    try:
        engine.ensure_index()
        summary = rebuild_index(settings, engine, print_index)
    except IndexBusy as err:
        print(f"not reindexed: {err}", file=sys.stderr)
        return 1
    finally:
        engine.close()
    print(
        f"reindexed: {summary.seen} raw records -> {summary.written} works, {summary.quarantined} quarantined, "
        f"in {summary.seconds:.1f} s ({summary.stages.describe()})"
    )
    return 0 if not summary.errors else 1
