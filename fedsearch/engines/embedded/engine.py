"""The embedded engine: a tantivy index on disk, no server to run (docs/engines.md).

This module ties the parts together; each has its own home beside it:
- layout.py: generations, the pointer to the live one, the writer lock, the schema;
- keys.py: sort keys and cursors; ordering.py: pages in order, ties broken by id;
- translate.py: our query plan as tantivy queries; facets.py: exact facet counts;
- documents.py: records as tantivy documents; changes.py: the change feed.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import orjson
import tantivy
from tantivy import Query as TQ

from fedsearch.engines.base import (
    BulkError,
    BulkReport,
    EngineError,
    EngineHealth,
    EngineHits,
    EngineUnavailable,
    FacetValue,
    SearchEngine,
)
from fedsearch.engines.changes import Change, ChangeQuery, DepartureLog
from fedsearch.engines.embedded import changes
from fedsearch.engines.embedded.documents import DocumentBuilder, _Rejected
from fedsearch.engines.embedded.facets import EXACT_SEGMENT_SIZE, cached_facets
from fedsearch.engines.embedded.keys import SORT_FIELDS, id_cursor, key_cursor, score_cursor
from fedsearch.engines.embedded.layout import (
    DEPARTURES_FILE,
    POINTER,
    WRITER_HEAP,
    WRITER_THREADS,
    Generation,
    build_schema,
    create_generation,
    live_generation,
    open_generation,
    point_first,
    remove_generations,
    signature,
    switch_to,
    take_writer_lock,
)
from fedsearch.engines.embedded.ordering import by_key, by_score
from fedsearch.engines.embedded.translate import constant_score, filter_queries, translate, with_filters
from fedsearch.engines.facetcache import FacetCache
from fedsearch.engines.query import Clause, Plan, Sort
from fedsearch.engines.stored import StoredHits
from fedsearch.record import Record

TRANSLATED_QUERIES = 1024  # tantivy Query objects kept per reader, by clause (EmbeddedEngine._translated)
SOURCES_LIMIT = 10_000


class EmbeddedEngine(SearchEngine):
    name = "embedded"

    def __init__(self, path: Path, writer: bool = False):
        self.path = Path(path)
        self.writable = writer
        self._lock = threading.RLock()  # the opened generation (searches take it briefly)
        self._write_lock = threading.RLock()  # writes, commits and rebuilds, one at a time
        self._gen: Generation | None = None
        self._pointer_sig: tuple[int, int, int] | None = None
        self._writer: tantivy.IndexWriter | None = None
        self._writer_gen: Generation | None = None
        self._lock_fd: int | None = None
        self._pending: dict[str, bool] = {}  # id -> present, for writes not yet committed
        self._documents = DocumentBuilder()  # counts analyse time, for BulkReport.analyse_seconds
        self._schema = build_schema()
        self._facet_cache = FacetCache()
        self._queries: OrderedDict[tuple[str, Clause], tantivy.Query] = OrderedDict()  # see _translated
        self._departures: DepartureLog | None = None

    # --- layout ----------------------------------------------------------------------
    def ensure_index(self) -> None:
        with self._lock:
            self.path.mkdir(parents=True, exist_ok=True)
            if (self.path / POINTER).exists():
                self._sync()
                return
            name, _ = create_generation(self.path, self._schema)
            if not point_first(self.path, name):
                shutil.rmtree(self.path / name, ignore_errors=True)
            self._sync()

    def _sync(self) -> Generation:
        """Open or reload the live generation if another process (or we) changed it."""
        with self._lock:
            for attempt in range(20):
                sig = signature(self.path / POINTER)
                if sig is None:
                    if self._gen is not None:
                        raise EngineError(f"the index pointer {self.path / POINTER} disappeared")
                    try:
                        self.ensure_index()  # nothing harvested yet: an empty index
                    except OSError as err:
                        raise EngineUnavailable(
                            f"there is no index in {self.path} yet and none can be created there: {err}"
                        ) from err
                    return self._gen  # type: ignore[return-value]
                if sig != self._pointer_sig or self._gen is None:
                    name = (self.path / POINTER).read_text().strip()
                    if self._gen is None or self._gen.directory.name != name:
                        try:
                            gen = open_generation(self.path, name)
                        except (FileNotFoundError, ValueError, OSError) as err:
                            # A rebuild may have switched and deleted it meanwhile: look again.
                            if attempt == 19:
                                raise EngineError(f"cannot open the index {self.path / name}: {err}") from err
                            time.sleep(0.01 * (attempt + 1))
                            continue
                        self._gen = gen
                    self._pointer_sig = sig
                gen = self._gen
                meta = signature(gen.directory / "meta.json")
                if meta != gen.meta_sig:
                    try:
                        gen.index.reload()
                    except Exception as err:
                        if attempt == 19:
                            raise EngineError(f"cannot reload the index {gen.directory}: {err}") from err
                        self._pointer_sig = None
                        time.sleep(0.01 * (attempt + 1))
                        continue
                    gen.meta_sig = meta
                return gen
            raise EngineError(f"the index in {self.path} keeps changing; try again")

    def _searcher(self) -> tuple[Generation, tantivy.Searcher]:
        gen = self._sync()
        return gen, gen.index.searcher()

    # --- writing ---------------------------------------------------------------------
    def _require_writer(self) -> tantivy.IndexWriter:
        if not self.writable:
            raise EngineError(f"the index in {self.path} was opened read-only; writes go through the writer process")
        with self._write_lock:
            self._take_lock()
            gen = self._sync()
            if self._writer is not None and self._writer_gen is not gen:
                self._drop_writer()  # the generation we wrote to was replaced
            if self._writer is None:
                try:
                    self._writer = gen.index.writer(WRITER_HEAP, WRITER_THREADS)
                except ValueError as err:
                    raise EngineError(f"cannot write to the index in {gen.directory}: {err}") from err
                self._writer_gen = gen
            return self._writer

    def _take_lock(self) -> None:
        if self._lock_fd is not None:
            return
        self._lock_fd = take_writer_lock(self.path)
        self._remove_orphans()

    def _remove_orphans(self) -> None:
        """Delete generation directories a killed rebuild left (we hold the writer lock: no rebuild runs)."""
        live = self.generation()
        if not live:
            return
        remove_generations(self.path, keep=live)

    def _drop_writer(self) -> None:
        writer, self._writer, self._writer_gen = self._writer, None, None
        if writer is not None:
            try:
                writer.rollback()
                writer.wait_merging_threads()
            except Exception:  # noqa: BLE001 - the writer of a generation we leave
                pass
        self._pending.clear()

    def upsert(self, records: Iterable[Record]) -> BulkReport:
        with self._write_lock:
            writer = self._require_writer()
            return self._add(writer, records, track=True)

    def _add(self, writer: tantivy.IndexWriter, records: Iterable[Record], *, track: bool) -> BulkReport:
        """Add or replace each record; `track` remembers the ids for `delete` until the commit."""
        indexed = 0
        errors: list[BulkError] = []
        analysed_before = self._documents.analyse_seconds
        for item in records:
            try:
                record, doc = self._documents.build(item)
            except _Rejected as err:
                errors.append(BulkError(id=err.record_id, reason=err.reason))
                continue
            try:
                writer.delete_documents_by_term("id", record.id)
                writer.add_document(doc)
            except Exception as err:  # noqa: BLE001 - tantivy refused this one document
                errors.append(BulkError(id=record.id, reason=f"tantivy refused it: {err}"))
                continue
            if track:
                self._pending[record.id] = True
            indexed += 1
        return BulkReport(
            indexed=indexed, errors=errors, analyse_seconds=self._documents.analyse_seconds - analysed_before
        )

    def delete(self, ids: Iterable[str]) -> int:
        ids = [i for i in dict.fromkeys(ids) if isinstance(i, str) and i]
        if not ids:
            return 0
        with self._write_lock:
            writer = self._require_writer()
            gen, searcher = self._searcher()
            unknown = [i for i in ids if i not in self._pending]
            existed = sum(1 for i in ids if self._pending.get(i))
            if unknown:
                for start in range(0, len(unknown), 1000):
                    chunk = unknown[start : start + 1000]
                    existed += searcher.search(TQ.term_set_query(gen.schema, "id", chunk), 1, count=True).count
            for i in ids:
                writer.delete_documents_by_term("id", i)
                self._pending[i] = False
            return existed

    def commit(self) -> None:
        """tantivy's commit: the segments and meta.json are fsynced before it returns."""
        with self._write_lock:
            if self._writer is not None:
                try:
                    self._writer.commit()
                except ValueError as err:
                    raise EngineError(f"could not commit to the index in {self.path}: {err}") from err
                self._pending.clear()

    def refresh(self) -> None:
        with self._write_lock:
            self.commit()
            self._sync()

    def generation(self) -> str:
        return live_generation(self.path)

    def rebuild(self, records: Iterable[Record], before_switch: Callable[[str], None] | None = None) -> BulkReport:
        if not self.writable:
            raise EngineError(f"the index in {self.path} was opened read-only; rebuild from the writer process")
        with self._write_lock:
            self._take_lock()
            self.path.mkdir(parents=True, exist_ok=True)
            name, index = create_generation(self.path, self._schema)
            directory = self.path / name
            try:
                writer = index.writer(WRITER_HEAP, WRITER_THREADS)
                # Ids repeated in `records` must still end up once: replace as we go.
                report = self._add(writer, records, track=False)
                writer.commit()
                writer.wait_merging_threads()  # merges done: fewer segments to search
                del writer, index
                if before_switch is not None:
                    before_switch(name)
                switch_to(self.path, name)  # readers see the old generation or the new one, never none
            except BaseException:
                shutil.rmtree(directory, ignore_errors=True)
                raise
            self._drop_writer()  # writes to the old generation not committed are gone with it
            self._sync()
            remove_generations(self.path, keep=name)
            return report

    # --- reading ---------------------------------------------------------------------
    def execute(self, plan: Plan) -> EngineHits:
        hits, facets, total, has_more = self._run(plan, stored=False)
        return EngineHits(total=total, hits=hits, facets=facets, has_more=has_more)

    def execute_stored(self, plan: Plan) -> StoredHits:
        """`execute` with each record as its stored JSON, parsed, not validated (fedsearch/engines/stored.py)."""
        hits, facets, total, has_more = self._run(plan, stored=True)
        return StoredHits(total=total, hits=hits, facets=facets, has_more=has_more)

    def _run(self, plan: Plan, *, stored: bool) -> tuple[list[Any], dict[str, list[FacetValue]], int, bool]:
        gen, searcher = self._searcher()
        schema = gen.schema
        text = self._translated(gen, plan.clause)
        filters = filter_queries(plan, schema)
        main = with_filters(text, list(filters.values()))
        after = plan.after
        if plan.sort == Sort.relevance:
            if constant_score(plan.clause):
                picked, total, before = by_key(gen, searcher, main, "id", plan, id_cursor(after), score=1.0)
            else:
                picked, total, before = by_score(searcher, main, plan, score_cursor(after))
        else:
            picked, total, before = by_key(gen, searcher, main, SORT_FIELDS[plan.sort], plan, key_cursor(after))
        hits = []
        for n, (score, addr, key) in enumerate(picked):
            raw = searcher.doc(addr).get_first("record")
            record: Any = orjson.loads(raw) if stored else Record.model_validate_json(raw)
            if plan.sort == Sort.relevance:
                values: list[Any] = [score, record["id"] if stored else record.id, before + n]
            else:
                values = [key]
            hits.append((record, score, values))
        facets = cached_facets(self._facet_cache, gen, searcher, plan, text, filters) if plan.facets else {}
        return hits, facets, total, bool(hits) and total > before + len(hits)

    def _translated(self, gen: Generation, clause: Clause) -> tantivy.Query:
        """tantivy's Query for a clause, built once per generation (Query objects are immutable and reusable)."""
        key = (gen.directory.name, clause)
        with self._lock:
            found = self._queries.get(key)
            if found is not None:
                self._queries.move_to_end(key)
                return found
        found = translate(clause, gen.schema)
        with self._lock:
            self._queries[key] = found
            while len(self._queries) > TRANSLATED_QUERIES:
                self._queries.popitem(last=False)
        return found

    def get(self, record_id: str) -> Record | None:
        if not isinstance(record_id, str) or not record_id:
            return None
        gen, searcher = self._searcher()
        hits = searcher.search(TQ.term_query(gen.schema, "id", record_id), 1, count=False).hits
        if not hits:
            return None
        return Record.model_validate_json(searcher.doc(hits[0][1]).get_first("record"))

    # --- change feed (changes.py) ---------------------------
    def list_live(self, q: ChangeQuery) -> list[Change]:
        gen, searcher = self._searcher()
        return changes.list_live(gen, searcher, q)

    def count_live(self, q: ChangeQuery) -> int:
        gen, searcher = self._searcher()
        return changes.count_live(gen, searcher, q)

    def departure_log(self) -> DepartureLog:
        if self._departures is None:
            self._departures = DepartureLog(self.path.parent / DEPARTURES_FILE)
        return self._departures

    def count_by_source(self) -> dict[str, int]:
        _, searcher = self._searcher()
        agg = {"sources": {"terms": {"field": "source", "size": SOURCES_LIMIT, "segment_size": EXACT_SEGMENT_SIZE}}}
        buckets = searcher.aggregate(TQ.all_query(), agg)["sources"]["buckets"]
        return {b["key"]: b["doc_count"] for b in buckets}

    def health(self) -> EngineHealth:
        try:
            gen, searcher = self._searcher()
            newest = searcher.aggregate(TQ.all_query(), {"newest": {"max": {"field": "updated"}}})["newest"]["value"]
        except Exception as err:  # noqa: BLE001 - health reports, never raises
            return EngineHealth(
                engine=self.name, reachable=False, detail=f"cannot open the index in {self.path}: {err}"
            )
        return EngineHealth(
            engine=self.name,
            reachable=True,
            documents=searcher.num_docs,
            last_update=float(newest) if newest else None,
            detail=f"{gen.directory} ({searcher.num_segments} segments{', writer' if self.writable else ''})",
        )

    def close(self) -> None:
        """Commit what is pending, release the writer lock; the engine may be used again."""
        with self._write_lock, self._lock:
            writer, self._writer, self._writer_gen = self._writer, None, None
            try:
                if writer is not None:
                    writer.commit()
                    writer.wait_merging_threads()
            except ValueError as err:
                raise EngineError(f"could not commit to the index in {self.path}: {err}") from err
            finally:
                self._pending.clear()
                if self._lock_fd is not None:
                    os.close(self._lock_fd)
                    self._lock_fd = None
                self._gen = None
                self._pointer_sig = None
