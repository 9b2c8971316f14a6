"""The engines used directly, as the baseline our overhead is measured against.

Bulk load: the records the pipeline indexed are read back and turned into the
engine's own documents first (not timed); then only the engine's bulk write is
timed: tantivy `IndexWriter.add_document` + commit, or Elasticsearch `_bulk`
of pre-serialized NDJSON + refresh, into a fresh index with our schema/mapping.

Search: for each benchmark query, the engine's own query is prepared once
(tantivy: the very Query objects EmbeddedEngine builds; Elasticsearch: the JSON
body ElasticsearchEngine sends, captured), then timed as a direct call: top 20
hits by score, their stored records, and the same facet aggregations.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx

from bench.common import ES_URL, self_peak_rss_mib
from fedsearch.engines.document import index_document
from fedsearch.engines.query import SearchQuery, plan_for
from fedsearch.record import Record

# --- reading back what was indexed -------------------------------------------------------


def iter_indexed_records(settings) -> Iterator[Record]:
    """Every record in the settings' engine, read back one at a time."""
    if settings.engine == "elasticsearch":
        from elasticsearch import Elasticsearch, helpers

        client = Elasticsearch(settings.elasticsearch.hosts, request_timeout=120)
        alias = f"{settings.elasticsearch.index_prefix}-records"
        try:
            for h in helpers.scan(
                client, index=alias, query={"query": {"match_all": {}}}, _source=["record"], size=2000
            ):
                yield Record.model_validate_json(h["_source"]["record"])
        finally:
            client.close()
        return
    import tantivy

    from fedsearch.engines.embedded import EmbeddedEngine

    engine = EmbeddedEngine(Path(settings.data_dir) / "index")
    try:
        _, searcher = engine._searcher()
        hits = searcher.search(tantivy.Query.all_query(), max(searcher.num_docs, 1), count=False).hits
        for _, addr in hits:
            yield Record.model_validate_json(searcher.doc(addr).get_first("record"))
    finally:
        engine.close()


def indexed_records(settings, say: Callable[[str], None]) -> list[Record]:
    return list(iter_indexed_records(settings))


# --- bulk load ------------------------------------------------------------------------------


def bulk_load(settings, say: Callable[[str], None]) -> dict[str, Any]:
    t = time.perf_counter()
    records = indexed_records(settings, say)
    say(f"  raw bulk: read back {len(records):,} indexed records in {time.perf_counter() - t:.1f}s")
    if settings.engine == "elasticsearch":
        result = _es_bulk(settings, records, say)
    else:
        result = _tantivy_bulk(records, say)
    result.update(engine=settings.engine, documents=len(records), peak_rss_mib=self_peak_rss_mib())
    result["docs_per_s"] = len(records) / result["seconds"] if result["seconds"] else None
    return result


def _tantivy_bulk(records: list[Record], say: Callable[[str], None]) -> dict[str, Any]:
    import tantivy

    from fedsearch.engines.embedded import documents, layout

    tmp = Path(tempfile.mkdtemp(prefix="fsbench-tantivy-"))
    try:
        builder = documents.DocumentBuilder()
        t = time.perf_counter()
        docs = [builder.build(r)[1] for r in records]
        prebuild = time.perf_counter() - t
        index = tantivy.Index(layout.build_schema(), path=str(tmp))
        index.register_tokenizer(layout.TERMS_TOKENIZER, layout.terms_analyzer())
        writer = index.writer(layout.WRITER_HEAP, layout.WRITER_THREADS)
        say(f"  raw bulk: {len(docs):,} tantivy documents pre-built in {prebuild:.1f}s; loading")
        t = time.perf_counter()
        for doc in docs:
            writer.add_document(doc)
        writer.commit()
        writer.wait_merging_threads()
        seconds = time.perf_counter() - t
        index.reload()
        assert index.searcher().num_docs == len(docs)
        return {"seconds": seconds, "prebuild_seconds": prebuild}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _es_bulk(settings, records: list[Record], say: Callable[[str], None]) -> dict[str, Any]:
    from fedsearch.engines.elasticsearch import BULK_DOCS, index_settings, mappings

    name = f"{settings.elasticsearch.index_prefix}-rawbulk"
    t = time.perf_counter()
    bodies = []
    for start in range(0, len(records), BULK_DOCS):
        lines = []
        for r in records[start : start + BULK_DOCS]:
            lines.append(json.dumps({"index": {"_index": name, "_id": r.id}}))
            lines.append(json.dumps(index_document(r), ensure_ascii=False, separators=(",", ":")))
        bodies.append(("\n".join(lines) + "\n").encode("utf-8"))
    prebuild = time.perf_counter() - t
    with httpx.Client(base_url=ES_URL, timeout=300) as es:
        es.delete(f"/{name}")
        es.put(
            f"/{name}", json={"settings": index_settings(settings.elasticsearch), "mappings": mappings()}
        ).raise_for_status()
        say(
            f"  raw bulk: {len(bodies)} _bulk bodies ({sum(map(len, bodies)) / 1e6:.0f} MB) pre-built in {prebuild:.1f}s; loading"
        )
        try:
            t = time.perf_counter()
            for body in bodies:
                resp = es.post("/_bulk", content=body, headers={"Content-Type": "application/x-ndjson"})
                resp.raise_for_status()
                if resp.json().get("errors"):
                    raise RuntimeError("the raw _bulk load had item errors")
            es.post(f"/{name}/_refresh").raise_for_status()
            seconds = time.perf_counter() - t
            count = es.get(f"/{name}/_count").json()["count"]
            assert count == len(records), (count, len(records))
        finally:
            es.delete(f"/{name}")
    return {"seconds": seconds, "prebuild_seconds": prebuild}


# --- direct search ------------------------------------------------------------------------


class RawTantivy:
    """Direct tantivy searches with the query objects EmbeddedEngine builds for a SearchQuery."""

    def __init__(self, settings):
        from fedsearch.engines.embedded import EmbeddedEngine

        self.engine = EmbeddedEngine(Path(settings.data_dir) / "index")
        self.gen, self.searcher = self.engine._searcher()

    def prepare(self, query: SearchQuery) -> Any:
        from fedsearch.engines.embedded.facets import EXACT_SEGMENT_SIZE
        from fedsearch.engines.embedded.translate import filter_queries, translate, with_filters

        plan = plan_for(query)
        schema = self.gen.schema
        text = translate(plan.clause, schema)
        filters = filter_queries(plan, schema)
        main = with_filters(text, list(filters.values()))
        groups: dict[str | None, list[str]] = {}
        for name in query.facets:
            groups.setdefault(name if name in filters else None, []).append(name)
        aggs = []
        for excluded, names in groups.items():
            scope = with_filters(text, [f for facet, f in filters.items() if facet != excluded])
            spec = {
                n: {"terms": {"field": n, "size": query.facet_size + 1, "segment_size": EXACT_SEGMENT_SIZE}}
                for n in names
            }
            aggs.append((scope, spec))
        return main, query.per_page, aggs

    def run(self, prepared: Any) -> int:
        main, per_page, aggs = prepared
        res = self.searcher.search(main, per_page, count=True)
        for _, addr in res.hits:
            self.searcher.doc(addr).get_first("record")
        for scope, spec in aggs:
            self.searcher.aggregate(scope, spec)
        return res.count

    def close(self) -> None:
        self.engine.close()


class RawElasticsearch:
    """Direct `_search` calls with the JSON body ElasticsearchEngine sends for a SearchQuery."""

    def __init__(self, settings):
        from fedsearch.engines.elasticsearch import ElasticsearchEngine

        self.engine = ElasticsearchEngine(settings.elasticsearch)
        self.alias = self.engine.alias
        self.url = f"{ES_URL}/{self.alias}/_search"

    def prepare(self, query: SearchQuery) -> bytes:
        captured: dict[str, Any] = {}
        # Searches go through the engine's reader client (its own search timeout) when it has one.
        client = getattr(self.engine, "_reader", None) or self.engine.client
        real = client.search

        def capture(**kwargs: Any) -> Any:
            captured.update(kwargs)
            return real(**kwargs)

        client.search = capture  # type: ignore[method-assign]
        try:
            self.engine.execute(plan_for(query))
        finally:
            client.search = real  # type: ignore[method-assign]
        if not captured:
            raise RuntimeError("the Elasticsearch adapter sent no _search: the benchmark's capture needs updating")
        body = {k: v for k, v in captured.items() if k != "index"}
        if "from_" in body:
            body["from"] = body.pop("from_")
        if "source" in body:
            body["_source"] = body.pop("source")
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def client(self) -> httpx.Client:
        return httpx.Client(timeout=60, headers={"Content-Type": "application/json"})

    def run(self, prepared: bytes, client: httpx.Client) -> int:
        resp = client.post(self.url, content=prepared)
        resp.raise_for_status()
        return resp.json()["hits"]["total"]["value"]

    def close(self) -> None:
        self.engine.close()
