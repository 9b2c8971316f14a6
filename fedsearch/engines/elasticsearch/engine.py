"""Elasticsearch engine: a versioned index behind an alias, built from one index template.

Layout (prefix = `elasticsearch.index_prefix`, see docs/engines.md):
- composable template `<prefix>-template` for indices `<prefix>-records-*`: mapping
  derived from fedsearch.engines.document.FIELDS, shards and replicas from config;
- concrete indices `<prefix>-records-<UTC timestamp>`; searches and writes go
  through the alias `<prefix>-records`, which points to exactly one of them;
- `rebuild` fills a new index, then moves the alias in one `_aliases` call.

This module ties the parts beside it: mapping.py (the mapping and index settings),
translate.py (plan -> query DSL, sorts, facets, cursors), bulk.py (bulk writes),
errors.py (the client's exceptions as ours) and changes.py (the change feed).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any

import orjson
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
from fedsearch.engines.base import (
    BulkReport,
    EngineError,
    EngineHealth,
    EngineHits,
    FacetValue,
    InvalidCursor,
    SearchEngine,
)
from fedsearch.engines.changes import Change, ChangeQuery
from fedsearch.engines.document import bucket_value
from fedsearch.engines.elasticsearch import bulk, changes
from fedsearch.engines.elasticsearch.bulk import BULK_DOCS
from fedsearch.engines.elasticsearch.errors import calling, item_reason, reason
from fedsearch.engines.elasticsearch.mapping import TEMPLATE_PRIORITY, index_settings, mappings
from fedsearch.engines.elasticsearch.serializers import orjson_serializers
from fedsearch.engines.elasticsearch.translate import SORTS, check_cursor, facet_agg, filter_clauses, translate
from fedsearch.engines.query import Plan
from fedsearch.engines.stored import StoredHits
from fedsearch.record import Record

WRITE_TIMEOUT = 120.0  # bulk writes, refreshes and index creation may take longer than a search
SOURCES_LIMIT = 10_000
# Before a switch, the new index's replicas get this long to be allocated (docs/operations.md).
# (After it, the old index is deleted `search_timeout` seconds later: searches that resolved the
# alias just before the switch have answered or given up by then.)
REPLICAS_WAIT_SECONDS = 120


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
            serializers=orjson_serializers(),  # the standard json module cost ~1 ms of CPU per search
        )
        self._writer = self.client.options(request_timeout=max(WRITE_TIMEOUT, config.request_timeout))
        # Reads get the short timeout (never retried on timeout): a hung node answers 503 in seconds.
        self._reader = self.client.options(request_timeout=config.search_timeout)
        self._ready = False
        self._departures: changes.EsDepartureLog | None = None

    def close(self) -> None:
        self.client.close()

    # --- errors --------------------------------------------------------------------
    def _calling(self, action: str) -> AbstractContextManager[None]:
        """Turn the client's exceptions into ours, naming the hosts and what we were doing (errors.py)."""
        return calling(self.hosts, action)

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
        """Bulk-index `records` (bulk.py), through the writer client with the long timeout."""
        return bulk.write_records(self._writer, self._calling, records, index, require_alias=require_alias)

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
                    failures.append(f"{result.get('_id')}: {item_reason(result)}")
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
    def execute(self, plan: Plan) -> EngineHits:
        raw, total, facets = self._search(plan)
        hits = [
            (Record.model_validate_json(h["_source"]["record"]), h.get("_score"), list(h["sort"]))
            for h in raw[: plan.per_page]
        ]
        return EngineHits(total=total, hits=hits, facets=facets, has_more=len(raw) > plan.per_page)

    def execute_stored(self, plan: Plan) -> StoredHits:
        """`execute` with each record as its stored JSON, parsed, not validated (fedsearch/engines/stored.py)."""
        raw, total, facets = self._search(plan)
        hits = [(orjson.loads(h["_source"]["record"]), h.get("_score"), list(h["sort"])) for h in raw[: plan.per_page]]
        return StoredHits(total=total, hits=hits, facets=facets, has_more=len(raw) > plan.per_page)

    def _search(self, plan: Plan) -> tuple[list[dict[str, Any]], int, dict[str, list[FacetValue]]]:
        """The hits Elasticsearch found (one more than a page), the total and the facets."""
        after = plan.after
        sort = SORTS[plan.sort]
        if after is not None:
            check_cursor(after, plan.sort)
        filters = filter_clauses(plan)
        body: dict[str, Any] = {
            "query": translate(plan.clause),
            "sort": sort,
            "size": plan.per_page + 1,  # one more than asked: is there another page?
            "track_total_hits": True,
            "source": ["record"],
        }
        if after is not None:
            body["search_after"] = after
        else:
            body["from_"] = plan.offset
        if filters:
            body["post_filter"] = {"bool": {"filter": [clause for _, clause in filters]}}
        if plan.facets:
            body["aggregations"] = {
                name: facet_agg(name, filters, plan.facet_size, self.config.shards) for name in plan.facets
            }
        try:
            with self._calling(f"searching {self.alias}"):
                try:
                    resp = self._reader.search(index=self.alias, **body)
                except NotFoundError:  # no index yet: nothing is found
                    return [], 0, {name: [] for name in plan.facets}
        except EngineError as err:
            if after is not None and isinstance(err.__cause__, BadRequestError):
                raise InvalidCursor("this cursor is not valid; start again from the first page") from None
            raise
        facets: dict[str, list[FacetValue]] = {}
        for name in plan.facets:
            buckets = resp["aggregations"][name]["values"]["buckets"]
            facets[name] = [FacetValue(value=bucket_value(name, b["key"]), count=b["doc_count"]) for b in buckets]
        return resp["hits"]["hits"], resp["hits"]["total"]["value"], facets

    def get(self, record_id: str) -> Record | None:
        if not record_id or len(record_id.encode()) > 512:  # over Elasticsearch's id limit: never indexed
            return None
        with self._calling(f"reading {record_id} from {self.alias}"):
            try:
                resp = self._reader.get(index=self.alias, id=record_id, source_includes=["record"])
            except NotFoundError:
                return None
        return Record.model_validate_json(resp["_source"]["record"])

    # --- change feed (changes.py) ---------------------------------
    def list_live(self, q: ChangeQuery) -> list[Change]:
        return changes.list_live(self._reader, self.alias, self._calling, q)

    def count_live(self, q: ChangeQuery) -> int:
        return changes.count_live(self._reader, self.alias, self._calling, q)

    def departure_log(self) -> changes.EsDepartureLog:  # type: ignore[override]
        if self._departures is None:
            index = f"{self.config.index_prefix}-departures"
            self._departures = changes.EsDepartureLog(self._writer, self._reader, index, self._calling)
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
                engine=self.name, reachable=False, detail=f"{self.hosts} answered {err.status_code}: {reason(err)}"
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
