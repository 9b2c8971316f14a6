"""What only the Elasticsearch engine does: the template, the alias and its swap,
per-document bulk errors, and a clear error when the node can't be reached.

Runs against the node of `scripts/es-node.sh start` (FEDSEARCH_TEST_ES_URL).
Behaviour both engines share is in tests/fedsearch/engines/test_engine_conformance.py.
"""

from __future__ import annotations

import threading
from collections import Counter

import httpx
import pytest

from fedsearch.config import ElasticsearchConfig
from fedsearch.engines import EngineUnavailable, SearchQuery
from fedsearch.engines.document import index_document
from fedsearch.engines.elasticsearch import ElasticsearchEngine, bulk
from fedsearch.engines.elasticsearch.translate import translate
from fedsearch.engines.query import plan_for
from fedsearch.record import LangText
from tests.corpus import CORPUS
from tests.net import free_port

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def engine(es_config: ElasticsearchConfig):
    eng = ElasticsearchEngine(es_config)
    eng.ensure_index()
    yield eng
    eng.close()


def alias_targets(es_url: str, alias: str) -> list[str]:
    resp = httpx.get(f"{es_url}/_alias/{alias}", timeout=10)
    return sorted(resp.json()) if resp.status_code == 200 else []


def index_exists(es_url: str, index: str) -> bool:
    return httpx.head(f"{es_url}/{index}", timeout=10).status_code == 200


# --- the template and the alias --------------------------------------------------------


def test_ensure_index_creates_one_versioned_index_behind_the_alias(engine, es_url):
    prefix = engine.config.index_prefix
    targets = alias_targets(es_url, f"{prefix}-records")
    assert len(targets) == 1 and targets[0].startswith(f"{prefix}-records-")

    engine.ensure_index()  # a second call changes nothing
    assert alias_targets(es_url, f"{prefix}-records") == targets

    mapping = httpx.get(f"{es_url}/{targets[0]}/_mapping", timeout=10).json()[targets[0]]["mappings"]
    props = mapping["properties"]
    assert mapping["dynamic"] == "strict"
    assert props["title_stem"] == {"type": "text", "analyzer": "whitespace"}
    assert props["source"]["type"] == "keyword"
    assert props["year"]["type"] == "long"
    assert props["record"] == {"type": "keyword", "index": False, "doc_values": False}


def test_shards_and_replicas_come_from_the_config(es_config, es_url):
    config = es_config.model_copy(update={"shards": 3, "replicas": 0})
    eng = ElasticsearchEngine(config)
    eng.ensure_index()
    [index] = alias_targets(es_url, eng.alias)
    settings = httpx.get(f"{es_url}/{index}/_settings", timeout=10).json()[index]["settings"]["index"]
    assert (settings["number_of_shards"], settings["number_of_replicas"]) == ("3", "0")

    # Three shards each count their own terms; the facet still adds up exactly.
    assert eng.upsert(CORPUS).errors == []
    eng.refresh()
    result = eng.search(SearchQuery(facets=["source", "year"], facet_size=100, per_page=1))
    assert {f.value: f.count for f in result.facets["source"]} == dict(Counter(r.source for r in CORPUS))
    assert sum(f.count for f in result.facets["year"]) == sum(1 for r in CORPUS if r.year)
    eng.close()


def test_rebuild_swaps_the_alias_at_once_and_drops_the_old_index(engine, es_url):
    assert engine.upsert(CORPUS).errors == []
    engine.refresh()
    [old] = alias_targets(es_url, engine.alias)
    old_total, new_total = len(CORPUS), 5

    seen: list[int] = []
    failures: list[BaseException] = []
    stop = threading.Event()

    def keep_searching() -> None:
        reader = ElasticsearchEngine(engine.config)
        try:
            while not stop.is_set() and len(seen) < 5000:
                seen.append(reader.search(SearchQuery(per_page=1, highlight=False)).total)
        except BaseException as err:
            failures.append(err)
        finally:
            reader.close()

    def records():
        # While the new index fills, searches still answer from the old one.
        assert engine.search(SearchQuery(per_page=1)).total == old_total
        assert alias_targets(es_url, engine.alias) == [old]
        yield from CORPUS[:new_total]

    searcher = threading.Thread(target=keep_searching)
    searcher.start()
    try:
        report = engine.rebuild(records())
    finally:
        stop.set()
        searcher.join(timeout=30)

    assert report.indexed == new_total and report.errors == []
    [new] = alias_targets(es_url, engine.alias)
    assert new != old
    assert not index_exists(es_url, old)
    assert engine.search(SearchQuery()).total == new_total
    # Every search during the rebuild saw the old content or the new one, never none.
    assert failures == []
    assert seen and set(seen) <= {old_total, new_total}


def test_a_failed_rebuild_leaves_the_live_index_alone(engine, es_url):
    assert engine.upsert(CORPUS[:3]).errors == []
    engine.refresh()
    [live] = alias_targets(es_url, engine.alias)

    def records():
        yield from CORPUS[3:6]
        raise RuntimeError("the raw store went away")

    with pytest.raises(RuntimeError, match="raw store"):
        engine.rebuild(records())
    assert alias_targets(es_url, engine.alias) == [live]
    listed = httpx.get(f"{es_url}/_cat/indices/{engine.alias}-*", params={"h": "index"}, timeout=10).text.split()
    assert listed == [live], "the half-built index is dropped"
    assert engine.search(SearchQuery()).total == 3


# --- bulk errors -----------------------------------------------------------------------


def test_every_rejected_document_is_reported_with_its_reason(engine):
    good = CORPUS[:4]
    # A valid Record whose id is over Elasticsearch's 512-byte limit: the node refuses
    # the whole bulk request for it, and the engine narrows the refusal down to it.
    too_long = CORPUS[4].model_copy(update={"id": "x" * 600 + "-0123456789abcdef"})
    report = engine.upsert([good[0], good[1], too_long, good[2], good[3]])
    engine.refresh()

    assert report.indexed == 4
    assert [e.id for e in report.errors] == [too_long.id]
    assert "is too long, must be no longer than 512 bytes" in report.errors[0].reason
    assert engine.search(SearchQuery()).total == 4


def test_documents_the_mapping_refuses_are_reported_one_by_one(engine):
    ok = CORPUS[0]
    bad_year = dict(index_document(CORPUS[1]), year="last spring")
    unknown_field = dict(index_document(CORPUS[2]), colour="green")
    docs = [(ok.id, index_document(ok)), (CORPUS[1].id, bad_year), (CORPUS[2].id, unknown_field)]
    report = bulk.write_documents(engine._writer, engine._calling, docs, engine.alias, require_alias=True)
    engine.refresh()

    assert report.indexed == 1
    reasons = {e.id: e.reason for e in report.errors}
    assert set(reasons) == {CORPUS[1].id, CORPUS[2].id}
    assert "document_parsing_exception" in reasons[CORPUS[1].id] and "[year]" in reasons[CORPUS[1].id]
    assert "strict_dynamic_mapping_exception" in reasons[CORPUS[2].id] and "colour" in reasons[CORPUS[2].id]
    assert engine.get(ok.id) == ok and engine.get(CORPUS[1].id) is None


def test_upsert_of_many_records_goes_in_chunks(engine, monkeypatch):
    monkeypatch.setattr("fedsearch.engines.elasticsearch.bulk.BULK_DOCS", 4)
    calls = []
    real_bulk = engine._writer.bulk
    monkeypatch.setattr(engine._writer, "bulk", lambda **kw: calls.append(kw) or real_bulk(**kw))
    report = engine.upsert(CORPUS)
    assert report.indexed == len(CORPUS) and report.errors == []
    assert len(calls) == -(-len(CORPUS) // 4)


# --- the node is down ------------------------------------------------------------------


def closed_port() -> int:
    return free_port()  # nothing listens there


def test_unreachable_node_raises_engine_unavailable_naming_the_host():
    url = f"http://127.0.0.1:{closed_port()}"
    eng = ElasticsearchEngine(ElasticsearchConfig(hosts=[url], index_prefix="nowhere", request_timeout=2))
    for call in (
        eng.ensure_index,
        lambda: eng.search(SearchQuery(q="climate")),
        lambda: eng.get("knu-0123456789abcdef"),
        lambda: eng.upsert(CORPUS[:1]),
        eng.count_by_source,
    ):
        with pytest.raises(EngineUnavailable, match=url.replace(".", r"\.")):
            call()
    health = eng.health()
    assert not health.reachable and url in health.detail


# --- user text is never query syntax ---------------------------------------------------


@pytest.mark.parametrize("q", ["*:*", "title:(a OR b)^5", "/.*/", "climate~2", '{"query_string": 1}', "a AND NOT b"])
def test_user_text_becomes_term_queries_only(q):
    used = set(_query_types(translate(plan_for(SearchQuery(q=q)).clause)))
    assert used <= {"bool", "term", "match_phrase", "prefix", "match_all", "match_none"}, used


def _query_types(query: dict):
    [(kind, body)] = query.items()
    yield kind
    if kind == "bool":
        for occur in ("must", "should", "must_not"):
            for child in body.get(occur, []):
                yield from _query_types(child)


def test_titles_with_query_syntax_are_found_as_words(engine):
    record = CORPUS[5].model_copy(update={"title": [LangText(value="Rates (2020): 5% + growth^2 ~ AND/OR")]})
    engine.upsert([record])
    engine.refresh()
    assert [h.id for h in engine.search(SearchQuery(q="growth^2 AND/OR")).hits] == [record.id]
