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
"""

from __future__ import annotations

import fcntl
import getpass
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from connectors.base import Quarantine
from fedsearch.config import Settings
from fedsearch.engines import EngineError, SearchEngine, open_engine
from fedsearch.record import Record
from indexers.dedup import (
    BLOCKING_VERSION,
    Deduplicator,
    Features,
    features,
    file_keys,
    lookup_keys,
    merge,
    title_prefix,
    title_uses,
)
from indexers.departures import RebuildDepartures
from indexers.gcpolicy import relaxed_gc
from indexers.parallel import NormalizedBatch, Normalizer
from indexers.state import IndexState
from indexers.timings import StageTimes, TimedEngine
from rawstore.harvest import confirm_held_sweeps, harvest_sources
from rawstore.models import RunSummary, StoredRecord
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.indexer")

BATCH = 2000  # raw records per batch; the engine commits once per batch
BATCH_ENV = "FEDSEARCH_INDEX_BATCH"  # overrides BATCH (tests make it small so kills land mid-run)
MARKS_CHUNK = 5000


class IndexBusy(EngineError):
    """Another process (or job) is indexing this data directory."""

    error_code = "engine.index_busy"


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


def batch_size() -> int:
    raw = os.environ.get(BATCH_ENV, "").strip()
    if not raw:
        return BATCH
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{BATCH_ENV}={raw!r} is not a positive number of records per batch")
    return value


@contextmanager
def index_lock(data_dir: Path) -> Iterator[None]:
    """One indexer per data directory (flock: the kernel releases it if the process dies)."""
    lock_dir = Path(data_dir) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / "index.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"another process is indexing {data_dir} (a harvest or a reindex); "
                "the stored records are indexed by the next run"
            ) from None
        yield
    finally:
        os.close(fd)


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


def _batches(records: Iterable[StoredRecord], size: int) -> Iterator[list[StoredRecord]]:
    batch: list[StoredRecord] = []
    for stored in records:
        batch.append(stored)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _normalized(
    normalizer: Normalizer, batches: Iterable[list[StoredRecord]], store: RawStore, summary: IndexSummary
) -> Iterator[tuple[list[StoredRecord], NormalizedBatch]]:
    """Batches with their normalized records; `normalize` counts the time the indexer waited for them."""
    items = normalizer.ahead(batches)
    while True:
        started = time.perf_counter()
        try:
            batch, done = next(items)
        except StopIteration:
            return
        summary.stages.normalize += time.perf_counter() - started
        summary.stages.normalize_cpu += done.seconds
        _quarantine(done, store, summary)
        yield batch, done


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
    touched = _update_works(done.fresh, done.removed, settings, state, engine, summary, done.feats)
    engine.commit()
    store.mark_indexed(batch)
    state.clean(touched)
    summary.seen += len(batch)
    summary.done += len(batch)


def _update_works(
    fresh: list[Record],
    removed: set[str],
    settings: Settings,
    state: IndexState,
    engine: SearchEngine | None,
    summary: IndexSummary,
    feats: dict[str, Features] | None = None,
) -> set[str]:
    """Re-cluster the works that new, changed and removed records touch; write them (engine None: state only).

    Returns the work ids written; with an engine they are journaled until the caller commits it.
    """
    # Load only the works this can touch: the old clusters of changed and removed records, and the
    # clusters of stored records that match a fresh one (candidates come from the blocking keys).
    # Features are computed once per fresh record; stored records' come compact from the state.
    dedup = Deduplicator(settings.dedup, state.decisions())
    by_id = {r.id: r for r in fresh}
    feats = feats if feats is not None else {r.id: features(r) for r in fresh}
    # Who else uses the fresh records' main titles: generic titles never merge on the title alone.
    dedup.know_titles(title_uses(state.keys_under(title_prefix(f) for f in feats.values())))
    wanted = {rid: lookup_keys(f) for rid, f in feats.items()}
    filed = state.keys_to_ids(k for keys in wanted.values() for k in keys)
    pairs = {
        (rid, other) for rid, keys in wanted.items() for k in keys for other in filed.get(k, ()) if other not in by_id
    }
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
    touched = upsert_keys | delete_ids
    state.apply([(r, file_keys(feats[r.id])) for r in fresh], removed, clusters, feats, dirty=touched if engine else ())
    if engine is not None:
        absorbed = {w: dedup.cluster_key(w) for w in delete_ids if w in dedup}  # merged into another work
        _write(engine, [dedup.merged(key) for key in sorted(upsert_keys)], delete_ids, summary, absorbed)
    return touched


def _write(
    engine: SearchEngine,
    merged: list[Record],
    delete_ids: Iterable[str],
    summary: IndexSummary,
    absorbed: dict[str, str] | None = None,
) -> None:
    """Send works to the engine (not committed yet); rejections go to the summary.

    Upserts go first: on an engine without multi-request commits (Elasticsearch), a kill in
    between leaves a record briefly in two works rather than in none. A deleted work leaves a
    departure (with the work that absorbed it, if any) before it goes, for the OAI-PMH
    provider's deleted records; a work that comes back loses its departure.
    """
    if merged:
        engine.departure_log().clear([r.id for r in merged])
        report = engine.upsert(merged)
        summary.written += report.indexed
        for err in report.errors:
            summary.errors.append(f"{err.id}: {err.reason}")
            log.error("engine rejected a record: %s", err.reason, extra={"record": err.id})
    delete_ids = sorted(delete_ids)
    if delete_ids:
        engine.note_departures(delete_ids, absorbed)
        engine.delete(delete_ids)
        summary.deleted += len(delete_ids)


# --- recovery ------------------------------------------------------------------------------


def recover(state: IndexState, store: RawStore, engine: SearchEngine, summary: IndexSummary) -> None:
    """Bring the engine and raw store back in line with the state after a killed run (cheap if none was).

    Call with the index lock held, before any other indexing.
    """
    if state.staging_exists():
        target = state.rebuild_generation()
        if target is not None and target == engine.generation():
            log.warning("finishing a reindex that was interrupted after the engine switched to %s", target)
            state.finish_rebuild()
        else:
            log.warning("dropping the state of a reindex that was interrupted before the engine switched")
            state.abandon_rebuild()
    _apply_marks(state, store)
    if state.blocking_version() != BLOCKING_VERSION:
        # Filed under an older blocking scheme: its keys would not find the candidates today's look up.
        refiled = state.refile(file_keys, BLOCKING_VERSION)
        if refiled:
            log.warning("re-filed %s records under the current blocking keys (version %s)", refiled, BLOCKING_VERSION)
    dirty = state.dirty_works()
    if dirty:
        log.warning("%s works were left uncommitted by an interrupted run; writing them again", len(dirty))
    size = batch_size()
    for start in range(0, len(dirty), size):
        chunk = dirty[start : start + size]
        present = state.works_of(chunk)
        gone = [w for w in chunk if w not in present]
        absorbed = {w: key for w, key in state.clusters_of(gone).items() if key != w}
        _write(engine, [merge(present[key]) for key in sorted(present)], gone, summary, absorbed)
        engine.commit()
        state.clean(chunk)
        summary.replayed += len(chunk)


def _apply_marks(state: IndexState, store: RawStore) -> None:
    """Mark indexed the raw records a finished rebuild read (each only if still as it was read)."""
    while marks := state.pending_marks(MARKS_CHUNK):
        store.mark_indexed(marks)
        state.drop_marks(marks)


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
        for batch, done in _normalized(normalizer, _batches(store.iter_changed(source), batch_size()), store, summary):
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
                touched = _update_works([], set(ids[i : i + size]), settings, state, engine, summary)
                engine.commit()
                state.clean(touched)
            engine.refresh()
        return len(ids)
    finally:
        state.close()
        if own:
            engine.close()


# --- commands --------------------------------------------------------------------------


class _RunPrinter:
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


def _clock(seconds: float) -> str:
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
        line += f", about {_clock(eta)} left"
    if summary.phase == "indexing":
        line += f"; {summary.written:,} works written"
    return line


def _print_index(summary: IndexSummary) -> None:
    print(progress_line(summary), file=sys.stderr, flush=True)


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
            progress=_RunPrinter() if progress else None,
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
            summary = index_changes(settings, store, engine, state, wanted, _print_index if progress else None)
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

    The served index and the live state are untouched until the engine switches; see the
    module docstring for what a kill at each moment leaves.
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
                with Normalizer(sources) as normalizer:
                    for batch, done in _normalized(normalizer, _batches(store.iter_all(), size), store, summary):
                        _update_works(done.fresh, done.removed, settings, staging, None, summary, done.feats)
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
            _apply_marks(state, store)
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
        summary = rebuild_index(settings, engine, _print_index)
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
