"""Harvest, then index what changed: raw store -> normalize -> deduplicate -> engine.

    fedsearch harvest [--source ID] [--full] [--confirm-deletions]   -> harvest()
    fedsearch reindex                          -> reindex()

Indexing works in batches of changed raw records (rawstore/store.py
`iter_changed`). For each batch it loads, from the index state, only the works
that might be affected: the changed records' old clusters and the clusters of
records sharing a blocking key with them. It re-clusters those with the
Deduplicator, writes each touched work's merged record to the engine, deletes
works that disappeared, and marks the raw records indexed. A record that can't
be normalized is quarantined with its reason and taken out of the index.

Crashes (kill -9 at any moment; docs/engines.md "Crashes"). Three stores commit
separately: the index state (indexers/state.py), the engine, the raw store's
`indexed_hash`. Each batch goes:
1. state transaction: the new records and clusters, and the touched work ids
   in the state's journal (`dirty`);
2. engine writes, then `engine.commit()` (durable: tantivy commit; an
   acknowledged Elasticsearch bulk);
3. raw store: the batch's records marked indexed;
4. state: the batch's works taken out of the journal.
Every run (`recover`, under the data directory's index lock) first replays the
journal: each dirty work is upserted as the state merges it, or deleted if the
state no longer has it. So the engine always equals the state once a run
starts, a record counts as indexed only once the engine holds it, and a batch
cut short is simply done again (re-normalizing a record the state already has
changes nothing the journal did not already fix).

`fedsearch reindex` builds a new state in staging tables and a new engine index
beside the served ones, records the new index's name in the state, switches the
engine, then makes the staging tables live (one transaction) and marks the raw
records it read. Killed before the engine switch, the staging is dropped and the
old index and state go on; killed after it, the next run finishes the swap.

Modules: works.py (re-clustering, engine writes, recovery), batches.py + parallel.py
(raw records normalized ahead in worker processes), rebuild.py (`fedsearch reindex`),
progress.py (IndexSummary, progress lines), locking.py (one indexer per data directory).
"""

from __future__ import annotations

import getpass
import logging
import sys
import threading
import time
from collections.abc import Iterable

from fedsearch.config import Settings
from fedsearch.engines import SearchEngine, open_engine
from indexers.batches import batches, normalized
from indexers.gcpolicy import relaxed_gc
from indexers.locking import BATCH, BATCH_ENV, IndexBusy, batch_size, index_lock
from indexers.parallel import NormalizedBatch, Normalizer
from indexers.progress import IndexProgress, IndexSummary, RunPrinter, print_index, progress_line
from indexers.rebuild import rebuild_index, reindex
from indexers.state import IndexState
from indexers.timings import TimedEngine
from indexers.works import recover, update_works
from rawstore.harvest import confirm_held_sweeps, harvest_sources
from rawstore.models import StoredRecord
from rawstore.store import RawStore

__all__ = [
    "BATCH",
    "BATCH_ENV",
    "IndexBusy",
    "IndexProgress",
    "IndexSummary",
    "batch_size",
    "forget_source",
    "harvest",
    "index_changes",
    "index_lock",
    "progress_line",
    "rebuild_index",
    "recover",
    "reindex",
]

log = logging.getLogger("fedsearch.indexer")


def _apply_batch(
    batch: list[StoredRecord],
    done: NormalizedBatch,
    settings: Settings,
    store: RawStore,
    state: IndexState,
    engine: SearchEngine,
    summary: IndexSummary,
) -> None:
    """Index one normalized batch of changed raw records durably, then mark it indexed."""
    touched = update_works(done, settings, state, engine, summary)
    engine.commit()
    store.mark_indexed(batch)
    state.clean(touched)
    summary.seen += len(batch)
    summary.done += len(batch)


def _index_pending(
    source: str | None,
    settings: Settings,
    store: RawStore,
    state: IndexState,
    engine: SearchEngine,
    summary: IndexSummary,
    progress: IndexProgress | None,
) -> None:
    """Index every changed raw record (of one source, or all), batch by batch."""
    sources = {s.id: s for s in settings.sources}
    # A few changes are indexed before worker processes would have started (~1 s, more on a loaded machine).
    workers = 0 if summary.total <= 2 * batch_size() else None
    with Normalizer(sources, workers) as normalizer:
        for batch, done in normalized(normalizer, batches(store.iter_changed(source), batch_size()), store, summary):
            _apply_batch(batch, done, settings, store, state, engine, summary)
            if progress:
                progress(summary)


def _waiting(store: RawStore, source_ids: list[str] | None) -> int:
    return sum(store.count_unindexed(s) for s in (source_ids or store.sources()))


@relaxed_gc
def index_changes(
    settings: Settings,
    store: RawStore,
    engine: SearchEngine,
    state: IndexState,
    source_ids: Iterable[str] | None = None,
    progress: IndexProgress | None = None,
) -> IndexSummary:
    """Bring the engine up to date with the raw store; returns what was done."""
    started = time.perf_counter()
    summary = IndexSummary()
    engine = TimedEngine(engine, summary.stages)  # type: ignore[assignment]
    wanted = list(source_ids) if source_ids else None
    with index_lock(settings.data_dir):
        recover(state, store, engine, summary)
        summary.start_phase("indexing", _waiting(store, wanted))
        for source in wanted or [None]:
            _index_pending(source, settings, store, state, engine, summary, progress)
        if summary.seen or summary.replayed:
            engine.refresh()
    summary.seconds = time.perf_counter() - started
    summary.stages.settle(summary.seconds)
    return summary


def forget_source(settings: Settings, source_id: str, engine: SearchEngine | None = None) -> int:
    """Take a source's records out of the index (their works re-merge without them); returns how many."""
    state = IndexState.for_data_dir(settings.data_dir)
    own = engine is None
    engine = engine or open_engine(settings, writer=True)
    try:
        with index_lock(settings.data_dir), RawStore.for_settings(settings) as store:
            summary = IndexSummary()
            recover(state, store, engine, summary)
            ids = state.record_ids_of_source(source_id)
            size = batch_size()
            for i in range(0, len(ids), size):
                gone = NormalizedBatch(removed=set(ids[i : i + size]))
                touched = update_works(gone, settings, state, engine, summary)
                engine.commit()
                state.clean(touched)
            engine.refresh()
        return len(ids)
    finally:
        state.close()
        if own:
            engine.close()


# --- commands --------------------------------------------------------------------------


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this container
        return "unknown user"


def harvest(
    settings: Settings,
    source_ids: list[str] | None = None,
    full: bool = False,
    progress: bool = True,
    confirm_deletions: bool = False,
    stop: threading.Event | None = None,
) -> int:
    """Harvest the sources, then index what changed. Exit code 0 if every source succeeded.

    `confirm_deletions`: apply held deletion sweeps, and let full listings delete past the brake.
    `stop` set (a signal): harvests stop after the page in hand and indexing is left to the next run.
    """
    wanted = source_ids or [s.id for s in settings.sources if s.enabled]
    if not wanted:
        print("no enabled sources in the configuration; nothing to harvest", file=sys.stderr)
        return 0
    with RawStore.for_settings(settings) as store:
        if confirm_deletions:
            confirmed = confirm_held_sweeps(store, wanted, by=f"command line ({_who()})")
            if confirmed:
                print(f"held deletions confirmed: {confirmed} records marked deleted", flush=True)
        runs = harvest_sources(
            settings,
            wanted,
            full=full,
            store=store,
            progress=RunPrinter() if progress else None,
            stop=stop,
            confirm_deletions=confirm_deletions,
        )
        for run in runs:
            rate = f", {run.rate:.0f} records/s" if run.rate else ""
            line = (
                f"{run.source}: {run.status}: {run.records} records ({run.new} new, {run.changed} changed, "
                f"{run.deleted} deleted, {run.unchanged} unchanged, {run.quarantined} quarantined){rate}"
            )
            print(line + (f"; {run.error}" if run.error else ""), flush=True)
            for held in store.held_sweeps(run.source) if run.id is not None else []:
                print(
                    f"  {run.source}: {held.count} of {held.live} records are no longer listed; the deletions "
                    f"are held: check them, then run `fedsearch harvest --source {run.source} "
                    "--confirm-deletions` (or decide in the admin)",
                    flush=True,
                )
        if stop is not None and stop.is_set():
            print(
                "stopped: what was harvested is stored; the next `fedsearch harvest` resumes and indexes it",
                file=sys.stderr,
                flush=True,
            )
            return 1
        engine = open_engine(settings, writer=True)
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            engine.ensure_index()
            summary = index_changes(settings, store, engine, state, wanted, print_index if progress else None)
        except IndexBusy as err:
            print(f"harvested, not indexed: {err}", file=sys.stderr)
            return 1
        finally:
            state.close()
            engine.close()
    replayed = f" ({summary.replayed} works an interrupted run left were written again)" if summary.replayed else ""
    print(
        f"indexed: {summary.seen} changed records -> {summary.written} works written, {summary.deleted} removed, "
        f"{summary.quarantined} quarantined, in {summary.seconds:.1f} s ({summary.stages.describe()}){replayed}",
        flush=True,
    )
    for err in summary.errors[:20]:
        print(f"  rejected by the engine: {err}", file=sys.stderr)
    return 0 if all(r.ok for r in runs) and not summary.errors else 1
