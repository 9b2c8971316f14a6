"""Elasticsearch engine: a versioned index behind an alias, built from one index template.

Layout (prefix = `elasticsearch.index_prefix`, see docs/engines.md):
- composable template `<prefix>-template` for indices `<prefix>-records-*`: mapping
  derived from fedsearch.engines.document.FIELDS, shards and replicas from config;
- concrete indices `<prefix>-records-<UTC timestamp>`; searches and writes go
  through the alias `<prefix>-records`, which points to exactly one of them;
- `rebuild` fills a new index, then moves the alias in one `_aliases` call.

Text arrives pre-analyzed (fedsearch/analysis.py), so text fields use the
built-in `whitespace` analyzer and queries are term, phrase and prefix queries
on those terms. User text never reaches Elasticsearch as query syntax.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from elasticsearch import (
    ApiError,
    BadRequestError,
    ConnectionTimeout,
    Elasticsearch,
    NotFoundError,
)
from elasticsearch import (
    ConnectionError as EsConnectionError,
)

from fedsearch.config import ElasticsearchConfig
from fedsearch.engines import es_changes
from fedsearch.engines.base import (
    BulkError,
    BulkReport,
    EngineError,
    EngineHealth,
    EngineHits,
    EngineUnavailable,
    FacetValue,
    InvalidCursor,
    SearchEngine,
)
from fedsearch.engines.changes import Change, ChangeQuery
from fedsearch.engines.document import FIELDS, index_document
from fedsearch.engines.document import bucket_value as _bucket_value
from fedsearch.engines.query import (
    MAX_PER_PAGE,
    MAX_WINDOW,
    Bool,
    Clause,
    Constant,
    Fuzzy,
    MatchAll,
    Phrase,
    Plan,
    Prefix,
    SearchQuery,
    Sort,
    Term,
)
from fedsearch.record import Record

# Text fields hold terms our own chain produced; Elasticsearch only splits on spaces.
# (The integration-test distribution has no analysis-common module, so no custom
# analyzer could do more here: its only tokenizer is `standard`, which splits
# code terms like `udc:551_5`. See docs/engines.md.)
TERMS_ANALYZER = "whitespace"
# A keyword longer than this (in characters; 4 bytes each at worst) would exceed
# Lucene's 32766-byte term limit and reject the whole record; it is left out of
# the facet instead, as tantivy drops overlong terms.
KEYWORD_IGNORE_ABOVE = 8191
TEMPLATE_PRIORITY = 200  # above the built-in templates (100), so no pattern clash
BULK_DOCS = 500
BULK_BYTES = 8 * 1024 * 1024
BULK_RETRIES = 3  # for documents the node answers 429 (too busy) to
WRITE_TIMEOUT = 120.0  # bulk writes, refreshes and index creation may take longer than a search
SOURCES_LIMIT = 10_000
# Before a switch, the new index's replicas get this long to be allocated (docs/operations.md).
# (After it, the old index is deleted `search_timeout` seconds later: searches that resolved the
# alias just before the switch have answered or given up by then.)
REPLICAS_WAIT_SECONDS = 120
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_MATCH_NONE: dict[str, Any] = {"match_none": {}}
_BUCKET_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
_SORTS: dict[Sort, list[dict[str, Any]]] = {
    Sort.relevance: [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
    Sort.newest: [{"year": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    Sort.oldest: [{"year": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    Sort.title: [{"title_sort": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
}


def mappings() -> dict[str, Any]:
    """The index mapping, one property per field of the index document."""
    kinds = {
        "text": {"type": "text", "analyzer": TERMS_ANALYZER},  # positions kept: phrases work
        "keyword": {"type": "keyword", "ignore_above": KEYWORD_IGNORE_ABOVE},
        "int": {"type": "long"},  # `updated` is epoch seconds: past 2038 in an integer
        "stored": {"type": "keyword", "index": False, "doc_values": False},  # in _source only
    }
    # strict: a document with a field the template doesn't know is rejected, not guessed at.
    return {"dynamic": "strict", "properties": {name: dict(kinds[kind]) for name, kind in FIELDS.items()}}


def index_settings(config: ElasticsearchConfig) -> dict[str, Any]:
    return {
        "number_of_shards": config.shards,
        "number_of_replicas": config.replicas,
        "refresh_interval": config.refresh_interval,
        # Page `MAX_WINDOW / per_page` asks for from + per_page + 1 hits (the +1 tells has_more).
        "max_result_window": MAX_WINDOW + MAX_PER_PAGE + 1,
        # Elasticsearch's default, stated because `commit` relies on it: a write is acknowledged
        # only once its translog entry is fsynced, so an acknowledged bulk survives a crash.
        "translog": {"durability": "request"},
    }


class ElasticsearchEngine(SearchEngine):
    name = "elasticsearch"

    def __init__(self, config: ElasticsearchConfig):
        self.config = config
        self.alias = f"{config.index_prefix}-records"
        self.template = f"{config.index_prefix}-template"
        self.hosts = ", ".join(config.hosts)
        auth = (config.username, config.password or "") if config.username else None
        self.client = Elasticsearch(
            config.hosts,
            basic_auth=auth,
            request_timeout=config.request_timeout,
            max_retries=2,
            retry_on_timeout=False,
        )
        self._writer = self.client.options(request_timeout=max(WRITE_TIMEOUT, config.request_timeout))
        # Reads get the short timeout (never retried on timeout): a hung node answers 503 in seconds.
        self._reader = self.client.options(request_timeout=config.search_timeout)
        self._ready = False
        self._departures: es_changes.EsDepartureLog | None = None

    def close(self) -> None:
        self.client.close()

    # --- errors --------------------------------------------------------------------
    @contextmanager
    def _calling(self, action: str) -> Iterator[None]:
        """Turn the client's exceptions into ours, naming the hosts and what we were doing."""
        try:
            yield
        except (EsConnectionError, ConnectionTimeout) as err:
            raise EngineUnavailable(
                f"Elasticsearch is not reachable at {self.hosts} ({action}): {err}. "
                "Start a node (scripts/es-node.sh start) or check `elasticsearch.hosts` in the configuration."
            ) from None
        except ApiError as err:
            if err.status_code in (429, 503):
                raise EngineUnavailable(
                    f"Elasticsearch at {self.hosts} is too busy or not ready ({action}): {_reason(err)}"
                ) from None
            raise EngineError(f"Elasticsearch at {self.hosts} refused {action}: {_reason(err)}") from err

    # --- index layout --------------------------------------------------------------
    def _put_template(self) -> None:
        self._writer.indices.put_index_template(
            name=self.template,
            index_patterns=[f"{self.alias}-*"],
            priority=TEMPLATE_PRIORITY,
            template={"settings": index_settings(self.config), "mappings": mappings()},
            meta={"description": "fedsearch records; the alias is managed by fedsearch (docs/engines.md)"},
        )

    def _new_index_name(self) -> str:
        return f"{self.alias}-{datetime.now(UTC):%Y%m%d%H%M%S%f}"

    def _alias_indices(self) -> list[str]:
        try:
            return sorted(self.client.indices.get_alias(name=self.alias))
        except NotFoundError:
            return []

    def ensure_index(self) -> None:
        with self._calling(f"creating index {self.alias}"):
            self._put_template()
            if self.client.indices.exists_alias(name=self.alias):
                # Fields added since the index was made (the mapping is strict): adding is allowed in place.
                self._writer.indices.put_mapping(index=self.alias, properties=mappings()["properties"])
                self._ready = True
                return
            index = self._new_index_name()
            self._writer.indices.create(index=index, aliases={self.alias: {}})
            # Two processes starting at once may each create one: the oldest name wins.
            indices = self._alias_indices()
            if len(indices) > 1 and indices[0] != index:
                self._writer.indices.update_aliases(actions=[{"remove_index": {"index": index}}])
        self._ready = True

    def _ensure_ready(self) -> None:
        if not self._ready:
            self.ensure_index()

    # --- write ---------------------------------------------------------------------
    def upsert(self, records: Iterable[Record]) -> BulkReport:
        self._ensure_ready()
        return self._write(records, self.alias, require_alias=True)

    def rebuild(self, records: Iterable[Record], before_switch: Callable[[str], None] | None = None) -> BulkReport:
        with self._calling(f"creating a new index for {self.alias}"):
            self._put_template()
            self._drop_orphans()
            new = self._new_index_name()
            # Few or no refreshes while filling it: nobody searches it yet.
            self._writer.indices.create(index=new, settings={"refresh_interval": self.config.bulk_refresh_interval})
        try:
            report = self._write(records, new, require_alias=False)
            with self._calling(f"switching {self.alias} to {new}"):
                self._writer.indices.put_settings(
                    index=new, settings={"index": {"refresh_interval": self.config.refresh_interval}}
                )
                self._writer.indices.refresh(index=new)
            old = self._switch(new, before_switch)
        except BaseException:
            self._drop_quietly(new)
            raise
        self._retire(old)
        return report

    def new_index_name(self) -> str:
        """A name for a new concrete index behind the alias (the template applies to it)."""
        with self._calling(f"writing the template of {self.alias}"):
            self._put_template()
        return self._new_index_name()

    def serve_index(self, new: str) -> None:
        """Point the alias at the filled index `new` (restored from a snapshot, say); delete the old one.
        If switching fails, `new` is deleted and the alias stays where it was."""
        try:
            old = self._switch(new, None)
        except BaseException:
            self._drop_quietly(new)
            raise
        self._retire(old)

    def _switch(self, new: str, before_switch: Callable[[str], None] | None) -> list[str]:
        """Once `new` has its replicas, move the alias to it in one step; the indices it left."""
        with self._calling(f"switching {self.alias} to {new}"):
            self._wait_for_copies(new)
            old = [i for i in self._alias_indices() if i != new]
        if before_switch is not None:
            before_switch(new)
        with self._calling(f"switching {self.alias} to {new}"):
            # One call: searches see the old index or the new one, never none or both.
            actions: list[dict[str, Any]] = [{"remove": {"index": i, "alias": self.alias}} for i in old]
            actions.append({"add": {"index": new, "alias": self.alias}})
            self._writer.indices.update_aliases(actions=actions)
        self._ready = True
        return old

    def _retire(self, old: list[str]) -> None:
        if old:
            time.sleep(self.config.search_timeout)
        with self._calling(f"deleting the previous index of {self.alias}"):
            for index in old:
                self._writer.indices.delete(index=index, ignore_unavailable=True)

    def _wait_for_copies(self, index: str) -> None:
        """Let the new index get its replicas before it serves: a node lost right after the
        switch must not take the only copy of a shard. Green if the data nodes can hold every
        copy, else (too few nodes for `replicas`) yellow: all primaries."""
        nodes = self._writer.cluster.health()["number_of_data_nodes"]
        want = "green" if nodes > self.config.replicas else "yellow"
        waiting = self.client.options(request_timeout=REPLICAS_WAIT_SECONDS + WRITE_TIMEOUT)
        health = waiting.cluster.health(index=index, wait_for_status=want, timeout=f"{REPLICAS_WAIT_SECONDS}s")
        if health.get("timed_out"):
            raise EngineError(
                f"Elasticsearch at {self.hosts}: the new index {index} was not {want} within {REPLICAS_WAIT_SECONDS} s "
                f"(status {health.get('status')}); the alias still points to the old index"
            )

    def _drop_orphans(self) -> None:
        """Delete indices a killed rebuild filled but never switched to (one rebuild at a time:
        the pipeline holds the data directory's index lock)."""
        try:
            listed = self._writer.indices.get(index=f"{self.alias}-*", expand_wildcards="all")
        except NotFoundError:
            return
        served = set(self._alias_indices())
        for index in sorted(set(listed) - served):
            self._writer.indices.delete(index=index, ignore_unavailable=True)

    def _drop_quietly(self, index: str) -> None:
        try:
            self._writer.indices.delete(index=index, ignore_unavailable=True)
        except Exception:  # noqa: BLE001 - already failing; the first error is the one to report
            pass

    def _write(self, records: Iterable[Record], index: str, *, require_alias: bool) -> BulkReport:
        errors: list[BulkError] = []
        analysed = [0.0]  # building index documents, for BulkReport.analyse_seconds

        def documents() -> Iterator[tuple[str, dict[str, Any]]]:
            for record in records:
                started = time.perf_counter()
                try:
                    doc = index_document(record)
                except Exception as err:  # noqa: BLE001 - one bad record must not stop the batch
                    errors.append(BulkError(id=record.id, reason=f"could not build its index document: {err}"))
                    continue
                finally:
                    analysed[0] += time.perf_counter() - started
                yield record.id, doc

        report = self._write_documents(documents(), index, require_alias=require_alias)
        return BulkReport(indexed=report.indexed, errors=errors + report.errors, analyse_seconds=analysed[0])

    def _write_documents(
        self, docs: Iterable[tuple[str, dict[str, Any]]], index: str, *, require_alias: bool
    ) -> BulkReport:
        """Bulk-index (id, document) pairs in chunks; every rejected document is reported."""
        report = BulkReport()
        chunk: list[tuple[str, str]] = []
        size = 0
        for doc_id, doc in docs:
            line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
            if chunk and (len(chunk) >= BULK_DOCS or size + len(line) > BULK_BYTES):
                report = report.merge(self._send(chunk, index, require_alias))
                chunk, size = [], 0
            chunk.append((doc_id, line))
            size += len(line)
        if chunk:
            report = report.merge(self._send(chunk, index, require_alias))
        return report

    def _send(self, chunk: list[tuple[str, str]], index: str, require_alias: bool) -> BulkReport:
        indexed, errors = 0, []
        pending = chunk
        for attempt in range(BULK_RETRIES + 1):
            ops: list[str] = []
            for doc_id, line in pending:
                ops.append(json.dumps({"index": {"_index": index, "_id": doc_id}}, ensure_ascii=False))
                ops.append(line)
            refused: BadRequestError | None = None
            with self._calling(f"bulk-indexing {len(pending)} documents into {index}"):
                try:
                    resp = self._writer.bulk(operations=ops, require_alias=require_alias, include_source_on_error=False)
                except BadRequestError as err:
                    refused = err
            if refused is not None:
                # The node refused the whole request because one document failed validation
                # (an id over 512 bytes, say): split it until each culprit stands alone.
                if len(pending) == 1:
                    return BulkReport(
                        indexed=indexed, errors=errors + [BulkError(id=pending[0][0], reason=_reason(refused))]
                    )
                half = len(pending) // 2
                rest = self._send(pending[:half], index, require_alias).merge(
                    self._send(pending[half:], index, require_alias)
                )
                return BulkReport(indexed=indexed + rest.indexed, errors=errors + rest.errors)
            busy = []
            for (doc_id, line), item in zip(pending, resp["items"], strict=True):
                result = item["index"]
                status = result.get("status", 500)
                if 200 <= status < 300:
                    indexed += 1
                elif status == 429 and attempt < BULK_RETRIES:
                    busy.append((doc_id, line))  # the node is busy: this one goes again
                else:
                    errors.append(BulkError(id=doc_id, reason=_item_reason(result)))
            if not busy:
                break
            pending = busy
            time.sleep(2**attempt)
        return BulkReport(indexed=indexed, errors=errors)

    def delete(self, ids: Iterable[str]) -> int:
        ids = list(dict.fromkeys(ids))
        if not ids:
            return 0
        self._ensure_ready()
        deleted = 0
        failures: list[str] = []
        for start in range(0, len(ids), BULK_DOCS * 2):
            ops = [{"delete": {"_index": self.alias, "_id": i}} for i in ids[start : start + BULK_DOCS * 2]]
            with self._calling(f"deleting {len(ops)} documents from {self.alias}"):
                resp = self._writer.bulk(operations=ops, require_alias=True)
            for item in resp["items"]:
                result = item["delete"]
                if result.get("result") == "deleted":
                    deleted += 1
                elif result.get("status") != 404:
                    failures.append(f"{result.get('_id')}: {_item_reason(result)}")
        if failures:
            raise EngineError(
                f"Elasticsearch at {self.hosts} did not delete {len(failures)} documents: " + "; ".join(failures[:5])
            )
        return deleted

    def commit(self) -> None:
        """Nothing to do: every acknowledged bulk is already durable (translog durability
        `request`, set in index_settings), and `_send` raises or reports unless acknowledged."""

    def generation(self) -> str:
        with self._calling(f"reading the alias {self.alias}"):
            return ",".join(self._alias_indices())

    def refresh(self) -> None:
        self._ensure_ready()
        with self._calling(f"refreshing {self.alias}"):
            self._writer.indices.refresh(index=self.alias)

    # --- read ----------------------------------------------------------------------
    def execute(self, plan: Plan, query: SearchQuery, after: list[Any] | None) -> EngineHits:
        sort = _SORTS[query.sort]
        if after is not None:
            _check_cursor(after, query.sort)
        filters = _filters(plan)
        body: dict[str, Any] = {
            "query": _clause(plan.clause),
            "sort": sort,
            "size": query.per_page + 1,  # one more than asked: is there another page?
            "track_total_hits": True,
            "source": ["record"],
        }
        if after is not None:
            body["search_after"] = after
        else:
            body["from_"] = query.offset
        if filters:
            body["post_filter"] = {"bool": {"filter": [clause for _, clause in filters]}}
        if query.facets:
            body["aggregations"] = {
                name: _facet_agg(name, filters, query.facet_size, self.config.shards) for name in query.facets
            }
        try:
            with self._calling(f"searching {self.alias}"):
                try:
                    resp = self._reader.search(index=self.alias, **body)
                except NotFoundError:  # no index yet: nothing is found
                    return EngineHits(total=0, hits=[], facets={name: [] for name in query.facets}, has_more=False)
        except EngineError as err:
            if after is not None and isinstance(err.__cause__, BadRequestError):
                raise InvalidCursor("this cursor is not valid; start again from the first page") from None
            raise
        raw = resp["hits"]["hits"]
        hits = [
            (Record.model_validate_json(h["_source"]["record"]), h.get("_score"), list(h["sort"]))
            for h in raw[: query.per_page]
        ]
        facets = {}
        for name in query.facets:
            buckets = resp["aggregations"][name]["values"]["buckets"]
            facets[name] = [FacetValue(value=_bucket_value(name, b["key"]), count=b["doc_count"]) for b in buckets]
        return EngineHits(
            total=resp["hits"]["total"]["value"], hits=hits, facets=facets, has_more=len(raw) > query.per_page
        )

    def get(self, record_id: str) -> Record | None:
        if not record_id or len(record_id.encode()) > 512:  # over Elasticsearch's id limit: never indexed
            return None
        with self._calling(f"reading {record_id} from {self.alias}"):
            try:
                resp = self._reader.get(index=self.alias, id=record_id, source_includes=["record"])
            except NotFoundError:
                return None
        return Record.model_validate_json(resp["_source"]["record"])

    # --- change feed (fedsearch/engines/es_changes.py) ---------------------------------
    def list_live(self, q: ChangeQuery) -> list[Change]:
        return es_changes.list_live(self._reader, self.alias, self._calling, q)

    def count_live(self, q: ChangeQuery) -> int:
        return es_changes.count_live(self._reader, self.alias, self._calling, q)

    def departure_log(self) -> es_changes.EsDepartureLog:  # type: ignore[override]
        if self._departures is None:
            index = f"{self.config.index_prefix}-departures"
            self._departures = es_changes.EsDepartureLog(self._writer, self._reader, index, self._calling)
        return self._departures

    def count_by_source(self) -> dict[str, int]:
        with self._calling(f"counting records by source in {self.alias}"):
            try:
                resp = self._reader.search(
                    index=self.alias,
                    size=0,
                    aggregations={"sources": {"terms": {"field": "source", "size": SOURCES_LIMIT}}},
                )
            except NotFoundError:
                return {}
        return {b["key"]: b["doc_count"] for b in resp["aggregations"]["sources"]["buckets"]}

    def health(self) -> EngineHealth:
        try:
            cluster = self._reader.cluster.health()
        except (EsConnectionError, ConnectionTimeout) as err:
            return EngineHealth(engine=self.name, reachable=False, detail=f"not reachable at {self.hosts}: {err}")
        except ApiError as err:
            return EngineHealth(
                engine=self.name, reachable=False, detail=f"{self.hosts} answered {err.status_code}: {_reason(err)}"
            )
        status = cluster.get("status", "unknown")
        colour = status if status in ("green", "yellow", "red") else None
        try:
            resp = self._reader.search(
                index=self.alias, size=0, track_total_hits=True, aggregations={"newest": {"max": {"field": "updated"}}}
            )
            behind = ", ".join(self._alias_indices())
        except NotFoundError:
            return EngineHealth(
                engine=self.name,
                reachable=True,
                documents=0,
                cluster=colour,
                detail=f"cluster {status}; no index {self.alias} yet",
            )
        except (EsConnectionError, ConnectionTimeout, ApiError) as err:
            return EngineHealth(
                engine=self.name,
                reachable=True,
                cluster=colour,
                detail=f"cluster {status}; searching {self.alias} failed: {err}",
            )
        newest = resp["aggregations"]["newest"]["value"]
        return EngineHealth(
            engine=self.name,
            reachable=True,
            documents=resp["hits"]["total"]["value"],
            last_update=float(newest) if newest else None,
            cluster=colour,
            detail=f"cluster {status}; {self.alias} -> {behind}",
        )


# --- translating a plan ----------------------------------------------------------------


def _clause(clause: Clause) -> dict[str, Any]:
    if isinstance(clause, MatchAll):
        return {"match_all": {}}
    if isinstance(clause, Term):
        value: Any = clause.term
        if FIELDS.get(clause.field) == "int":
            value = _as_long(clause.term)
            if value is None:  # "year:99999999999999999999" can match nothing
                return _MATCH_NONE
        return {"term": {clause.field: {"value": value, "boost": clause.boost}}}
    if isinstance(clause, Phrase):
        terms = [t for t in clause.terms if t]
        if not terms:
            return _MATCH_NONE
        # The terms are already analyzed; the whitespace analyzer keeps them as they are.
        return {
            "match_phrase": {
                clause.field: {"query": " ".join(terms), "analyzer": TERMS_ANALYZER, "slop": 0, "boost": clause.boost}
            }
        }
    if isinstance(clause, Prefix):
        if not clause.prefix:  # a prefix with no letters left after folding matches nothing
            return _MATCH_NONE
        return {"prefix": {clause.field: {"value": clause.prefix, "boost": clause.boost}}}
    if isinstance(clause, Fuzzy):
        if not clause.term:
            return _MATCH_NONE
        return {
            "fuzzy": {
                clause.field: {"value": clause.term, "fuzziness": 1, "transpositions": True, "boost": clause.boost}
            }
        }
    if isinstance(clause, Constant):
        return {"constant_score": {"filter": _clause(clause.clause), "boost": clause.score}}
    if isinstance(clause, Bool):
        if not clause.must and not clause.should:  # "at least one should" of none: nothing
            return _MATCH_NONE
        bool_: dict[str, Any] = {}
        if clause.must:
            bool_["must"] = [_clause(c) for c in clause.must]
        if clause.should:
            bool_["should"] = [_clause(c) for c in clause.should]
            if not clause.must:
                bool_["minimum_should_match"] = 1
        if clause.must_not:
            bool_["must_not"] = [_clause(c) for c in clause.must_not]
        return {"bool": bool_}
    raise TypeError(f"unknown plan clause {clause!r}")


def _filters(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """(facet name, filter) pairs; the year range belongs to the `year` facet."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, values in plan.filters.items():
        if not values:
            continue
        if FIELDS.get(name) == "int":
            numbers = [n for v in values if (n := _as_long(v)) is not None]
            out.append((name, {"terms": {name: numbers}} if numbers else _MATCH_NONE))
        else:
            out.append((name, {"terms": {name: list(values)}}))
    if plan.year_from is not None or plan.year_to is not None:
        bounds = {k: v for k, v in (("gte", plan.year_from), ("lte", plan.year_to)) if v is not None}
        out.append(("year", {"range": {"year": bounds}}))
    return out


def _facet_agg(name: str, filters: list[tuple[str, dict[str, Any]]], size: int, shards: int) -> dict[str, Any]:
    """Disjunctive facet: counts under every filter except the facet's own."""
    others = [clause for facet, clause in filters if facet != name]
    terms: dict[str, Any] = {"field": name, "size": size, "order": _BUCKET_ORDER}
    if shards > 1:
        # Each shard returns its own top buckets; asking for more makes the merged counts
        # (nearly) exact on a multi-shard index. One shard is exact (docs/engines.md).
        terms["shard_size"] = max(size * 5, 100)
    return {
        "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
        "aggregations": {"values": {"terms": terms}},
    }


def _check_cursor(after: list[Any], sort: Sort) -> None:
    """Sort values from a cursor must have the shape this sort returns."""
    first_ok = {
        Sort.relevance: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        Sort.newest: lambda v: isinstance(v, int) and not isinstance(v, bool) and _LONG_MIN <= v <= _LONG_MAX,
        Sort.oldest: lambda v: isinstance(v, int) and not isinstance(v, bool) and _LONG_MIN <= v <= _LONG_MAX,
        Sort.title: lambda v: isinstance(v, str) or v is None,
    }[sort]
    if len(after) != 2 or not first_ok(after[0]) or not isinstance(after[1], str):
        raise InvalidCursor("this cursor is not valid; start again from the first page")


def _as_long(value: str) -> int | None:
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if _LONG_MIN <= n <= _LONG_MAX else None


def _reason(err: ApiError) -> str:
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    if isinstance(error, dict):
        causes = error.get("root_cause") or [error]
        return "; ".join(f"{c.get('type')}: {c.get('reason')}" for c in causes)
    return str(error or err.message or err)


def _item_reason(result: dict[str, Any]) -> str:
    error = result.get("error")
    if not isinstance(error, dict):
        return f"status {result.get('status')}: {error or 'rejected'}"
    reason = f"{error.get('type')}: {error.get('reason')}"
    cause = error.get("caused_by")
    if isinstance(cause, dict) and cause.get("reason"):
        reason += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return reason
