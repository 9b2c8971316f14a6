"""Re-clustering the works a batch of changes touches, writing them to the engine, and recovery.

`update_works` is the heart of indexing (see pipeline.py for how a batch goes and
what a crash at each step leaves); `recover` replays the state's journal after a
killed run. Everything here runs in the indexer's own process: with two cores it
is the bottleneck, so what can be computed per record (features, blocking keys,
engine documents) comes ready from the workers (indexers/parallel.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from fedsearch.config import Settings
from fedsearch.engines import SearchEngine
from fedsearch.engines.prepared import Prepared
from fedsearch.record import Record
from indexers.dedup import (
    BLOCKING_VERSION,
    Deduplicator,
    features,
    file_keys,
    lookup_keys,
    merge,
    title_prefix,
    title_uses,
)
from indexers.locking import batch_size
from indexers.parallel import NormalizedBatch
from indexers.progress import IndexSummary
from indexers.state import IndexState
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.indexer")

MARKS_CHUNK = 5000


def update_works(
    done: NormalizedBatch,
    settings: Settings,
    state: IndexState,
    engine: SearchEngine | None,
    summary: IndexSummary,
) -> set[str]:
    """Re-cluster the works that new, changed and removed records touch; write them (engine None: state only).

    Returns the work ids written; with an engine they are journaled until the caller commits it.
    """
    fresh, removed = done.fresh, done.removed
    # Load only the works this can touch: the old clusters of changed and removed records, and the
    # clusters of stored records that match a fresh one (candidates come from the blocking keys).
    # Features (and keys) come once per fresh record from the workers; stored records' compact from the state.
    dedup = Deduplicator(settings.dedup, state.decisions())
    by_id = {r.id: r for r in fresh}
    feats = {r.id: done.feats.get(r.id) or features(r) for r in fresh}
    # Who else uses the fresh records' main titles: generic titles never merge on the title alone.
    dedup.know_titles(title_uses(state.keys_under(title_prefix(f) for f in feats.values())))
    wanted = {rid: done.lookups.get(rid) or lookup_keys(f) for rid, f in feats.items()}
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
        rid = record.id
        dedup.assign(record, feats[rid], (done.filed.get(rid) or file_keys(feats[rid]), wanted[rid]))
    changes = dedup.take_changes()
    live = set(dedup.cluster_keys())
    upsert_keys = set(changes.upsert) | {dedup.cluster_key(rid) for rid in stale if rid in dedup}
    delete_ids = (set(changes.delete) | set(stale.values()) | (removed & set(old_clusters.values()))) - live

    clusters = {m.id: key for key in upsert_keys for m in dedup.members(key)}
    touched = upsert_keys | delete_ids
    put = [(r, done.filed.get(r.id) or file_keys(feats[r.id])) for r in fresh]
    # The record's JSON is the one its engine document stores: serialized once, in the worker.
    json_of = {rid: doc["record"] for rid, doc in done.docs.items()}
    state.apply(put, removed, clusters, feats, dirty=touched if engine else (), json_of=json_of)
    if engine is not None:
        absorbed = {w: dedup.cluster_key(w) for w in delete_ids if w in dedup}  # merged into another work
        works = [dedup.merged(key) for key in sorted(upsert_keys)]
        write_works(engine, [_prepared(w, by_id, done) for w in works], delete_ids, summary, absorbed)
    return touched


def _prepared(work: Record, by_id: dict[str, Record], done: NormalizedBatch) -> Record | Prepared:
    """A work that is one fresh record alone (merge returns that very record) goes with the document
    the worker built from it; any other work is analysed by the engine."""
    doc = done.docs.get(work.id)
    return Prepared(work, doc) if doc is not None and by_id.get(work.id) is work else work


def write_works(
    engine: SearchEngine,
    merged: Sequence[Record | Prepared],
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
        engine.departure_log().clear([w.record.id if isinstance(w, Prepared) else w.id for w in merged])
        report = engine.upsert(merged)  # type: ignore[arg-type]  # the engines take Prepared works too
        summary.written += report.indexed
        for err in report.errors:
            summary.errors.append(f"{err.id}: {err.reason}")
            log.error("engine rejected a record: %s", err.reason, extra={"record": err.id})
    delete_ids = sorted(delete_ids)
    if delete_ids:
        engine.note_departures(delete_ids, absorbed)
        engine.delete(delete_ids)
        summary.deleted += len(delete_ids)


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
    apply_marks(state, store)
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
        write_works(engine, [merge(present[key]) for key in sorted(present)], gone, summary, absorbed)
        engine.commit()
        state.clean(chunk)
        summary.replayed += len(chunk)


def apply_marks(state: IndexState, store: RawStore) -> None:
    """Mark indexed the raw records a finished rebuild read (each only if still as it was read)."""
    while marks := state.pending_marks(MARKS_CHUNK):
        store.mark_indexed(marks)
        state.drop_marks(marks)
