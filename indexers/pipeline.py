"""Harvest, then index what changed: raw store -> normalize -> deduplicate -> engine.

    fedsearch harvest [--source ID] [--full]   -> harvest()
    fedsearch reindex                          -> reindex()

Indexing works in batches of changed raw records (connectors/rawstore.py
`iter_changed`). For each batch it loads, from the index state, only the works
that might be affected: the changed records' old clusters and the clusters of
records sharing a blocking key with them. It re-clusters those with the
Deduplicator, writes each touched work's merged record to the engine, deletes
works that disappeared, and marks the raw records indexed. A record that can't
be normalized is quarantined with its reason and taken out of the index.
"""

from __future__ import annotations

import getpass
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from connectors.base import Quarantine
from connectors.harvest import confirm_held_sweeps, harvest_sources
from connectors.rawstore import RawStore, RunSummary, StoredRecord
from fedsearch.config import Settings, SourceConfig
from fedsearch.engines import SearchEngine, open_engine
from fedsearch.record import Record, make_record_id
from indexers.dedup import Deduplicator, features, file_keys, lookup_keys, merge, title_prefix, title_uses
from indexers.gcpolicy import relaxed_gc
from indexers.normalize import NormalizationError, normalize
from indexers.state import IndexState
from indexers.timings import StageTimes, TimedEngine

log = logging.getLogger("fedsearch.indexer")

BATCH = 2000


@dataclass
class IndexSummary:
    seen: int = 0  # changed raw records read
    written: int = 0  # merged works written to the engine
    deleted: int = 0  # works removed from the engine
    quarantined: int = 0  # records that could not be normalized
    errors: list[str] = field(default_factory=list)  # engine rejections, with ids
    seconds: float = 0.0
    stages: StageTimes = field(default_factory=StageTimes)  # where the seconds went


IndexProgress = Callable[[IndexSummary], None]


def _apply_batch(
    batch: list[StoredRecord],
    settings: Settings,
    sources: dict[str, SourceConfig],
    store: RawStore,
    state: IndexState,
    engine: SearchEngine | None,
    summary: IndexSummary,
) -> None:
    """Normalize one batch of changed raw records, index it, and mark it indexed."""
    fresh: list[Record] = []
    removed: set[str] = set()
    started = time.perf_counter()
    for stored in batch:
        rid = make_record_id(stored.source, stored.local_id)
        if stored.deleted or stored.source not in sources:
            removed.add(rid)
            continue
        try:
            fresh.append(normalize(stored.raw(), sources[stored.source]))
        except NormalizationError as err:
            removed.add(rid)  # its last good version must not stay searchable as if current
            store.add_quarantine(stored.source, [Quarantine(
                reason=f"could not be normalized: {err.reason}", local_id=stored.local_id,
                payload=stored.payload, location="indexing")])
            summary.quarantined += 1
            log.warning("record quarantined: %s", err.reason, extra={"source": stored.source, "record": stored.local_id})
    summary.stages.normalize += time.perf_counter() - started
    _update_works(fresh, removed, settings, state, engine, summary)
    store.mark_indexed(batch)
    summary.seen += len(batch)


def _update_works(
    fresh: list[Record],
    removed: set[str],
    settings: Settings,
    state: IndexState,
    engine: SearchEngine | None,
    summary: IndexSummary,
) -> None:
    """Re-cluster the works that new, changed and removed records touch; write them (engine None: state only)."""
    # Load only the works this can touch: the old clusters of changed and removed records, and the
    # clusters of stored records that match a fresh one (candidates come from the blocking keys).
    # Features are computed once per fresh record; stored records' come compact from the state.
    dedup = Deduplicator(settings.dedup, state.decisions())
    by_id = {r.id: r for r in fresh}
    feats = {r.id: features(r) for r in fresh}
    # Who else uses the fresh records' main titles: generic titles never merge on the title alone.
    dedup.know_titles(title_uses(state.keys_under(title_prefix(f) for f in feats.values())))
    wanted = {rid: lookup_keys(f) for rid, f in feats.items()}
    filed = state.keys_to_ids(k for keys in wanted.values() for k in keys)
    pairs = {(rid, other) for rid, keys in wanted.items() for k in keys for other in filed.get(k, ()) if other not in by_id}
    source_of = state.sources_of({other for _, other in pairs})  # same-source pairs mostly need no features
    pairs = {(rid, other) for rid, other in pairs if dedup.worth_deciding(feats[rid], other, source_of[other])}
    stored = state.features_of({other for _, other in pairs})
    matched = {other for rid, other in pairs if dedup.decide_features(feats[rid], stored[other]).same}
    matched |= {other for rid in by_id for other in dedup.joined_with(rid)}  # joined by a librarian
    old_clusters = state.clusters_of(matched | set(by_id) | removed)
    loaded = state.members_of(set(old_clusters.values()))
    stored.update(state.features_of(set(loaded) - set(stored)))
    for rid in sorted(loaded):
        dedup.assign(loaded[rid], stored[rid])
    dedup.take_changes()
    # A stored cluster that no longer comes out the same (e.g. never_merge was edited) is rewritten.
    # (Every loaded member is checked: a split by a librarian changes members no fresh record matches.)
    stale = {rid: old for rid, old in state.clusters_of(loaded).items() if dedup.cluster_key(rid) != old}

    for rid in sorted(removed):
        dedup.remove(rid)
    for record in sorted(fresh, key=lambda r: r.id):
        dedup.assign(record, feats[record.id])
    changes = dedup.take_changes()
    live = set(dedup.cluster_keys())
    upsert_keys = set(changes.upsert) | {dedup.cluster_key(rid) for rid in stale if rid in dedup}
    delete_ids = (set(changes.delete) | set(stale.values()) | (removed & set(old_clusters.values()))) - live

    clusters = {m.id: key for key in upsert_keys for m in dedup.members(key)}
    state.apply([(r, file_keys(feats[r.id])) for r in fresh], removed, clusters, feats)
    if engine is None:
        return
    if delete_ids:
        engine.delete(sorted(delete_ids))
        summary.deleted += len(delete_ids)
    merged = [dedup.merged(key) for key in sorted(upsert_keys)]
    if merged:
        report = engine.upsert(merged)
        summary.written += report.indexed
        for err in report.errors:
            summary.errors.append(f"{err.id}: {err.reason}")
            log.error("engine rejected a record: %s", err.reason, extra={"record": err.id})


def _index_pending(source: str | None, settings: Settings, store: RawStore, state: IndexState,
                   engine: SearchEngine | None, summary: IndexSummary, progress: IndexProgress | None) -> None:
    """Index every changed raw record (of one source, or all), batch by batch."""
    sources = {s.id: s for s in settings.sources}
    batch: list[StoredRecord] = []
    for stored in store.iter_changed(source):
        batch.append(stored)
        if len(batch) >= BATCH:
            _apply_batch(batch, settings, sources, store, state, engine, summary)
            batch = []
            if progress:
                progress(summary)
    if batch:
        _apply_batch(batch, settings, sources, store, state, engine, summary)
        if progress:
            progress(summary)


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
    for source in list(source_ids) if source_ids else [None]:
        _index_pending(source, settings, store, state, engine, summary, progress)
    if summary.seen:
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
        ids = state.record_ids_of_source(source_id)
        summary = IndexSummary()
        for i in range(0, len(ids), BATCH):
            _update_works([], set(ids[i : i + BATCH]), settings, state, engine, summary)
        engine.refresh()
        return len(ids)
    finally:
        state.close()
        if own:
            engine.close()


# --- commands --------------------------------------------------------------------------

def _print_run(run: RunSummary) -> None:
    print(f"  {run.source}: page {run.pages}, {run.records} records", file=sys.stderr, flush=True)


def _print_index(summary: IndexSummary) -> None:
    print(f"  indexing: {summary.seen} changed records, {summary.written} works written", file=sys.stderr, flush=True)


def _who() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no user name in this container
        return "unknown user"


def harvest(settings: Settings, source_ids: list[str] | None = None, full: bool = False,
            progress: bool = True, confirm_deletions: bool = False, stop: threading.Event | None = None) -> int:
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
        runs = harvest_sources(settings, wanted, full=full, store=store, progress=_print_run if progress else None,
                               stop=stop, confirm_deletions=confirm_deletions)
        for run in runs:
            rate = f", {run.rate:.0f} records/s" if run.rate else ""
            line = (f"{run.source}: {run.status}: {run.records} records ({run.new} new, {run.changed} changed, "
                    f"{run.deleted} deleted, {run.unchanged} unchanged, {run.quarantined} quarantined){rate}")
            print(line + (f"; {run.error}" if run.error else ""), flush=True)
            for held in store.held_sweeps(run.source) if run.id is not None else []:
                print(f"  {run.source}: {held.count} of {held.live} records are no longer listed; the deletions "
                      f"are held: check them, then run `fedsearch harvest --source {run.source} "
                      "--confirm-deletions` (or decide in the admin)", flush=True)
        if stop is not None and stop.is_set():
            print("stopped: what was harvested is stored; the next `fedsearch harvest` resumes and indexes it",
                  file=sys.stderr, flush=True)
            return 1
        engine = open_engine(settings, writer=True)
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            engine.ensure_index()
            summary = index_changes(settings, store, engine, state, wanted, _print_index if progress else None)
        finally:
            state.close()
            engine.close()
    print(f"indexed: {summary.seen} changed records -> {summary.written} works written, {summary.deleted} removed, "
          f"{summary.quarantined} quarantined, in {summary.seconds:.1f} s ({summary.stages.describe()})", flush=True)
    for err in summary.errors[:20]:
        print(f"  rejected by the engine: {err}", file=sys.stderr)
    return 0 if all(r.ok for r in runs) and not summary.errors else 1


@relaxed_gc
def rebuild_index(settings: Settings, engine: SearchEngine, progress: IndexProgress | None = None) -> IndexSummary:
    """Re-normalize every raw record into a fresh state, then rebuild the engine's index from it."""
    started = time.perf_counter()
    summary = IndexSummary()
    with RawStore.for_settings(settings) as store:
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            state.clear()
            store.mark_unindexed()
            _index_pending(None, settings, store, state, None, summary, progress)
            merged = (merge(members) for members in state.iter_clusters())
            report = TimedEngine(engine, summary.stages).rebuild(merged)
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
        summary = rebuild_index(settings, engine, _print_index)
    finally:
        engine.close()
    print(f"reindexed: {summary.seen} raw records -> {summary.written} works, {summary.quarantined} quarantined, "
          f"in {summary.seconds:.1f} s ({summary.stages.describe()})")
    return 0 if not summary.errors else 1
