"""Both engines: a merged-away record id finds the work that absorbed it, and `scan` walks a
slice of the index page by page after the last hit (the sitemaps' walk), each record once."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsearch.engines import SearchEngine
from fedsearch.engines.document import shard_terms
from fedsearch.record import LangText, Match, Record, make_record_id
from tests.corpus import CORPUS
from tests.fedsearch.engines.test_engine_conformance import ENGINES, _es_url_for, drop_engine, make_engine

ABSORBED = make_record_id("knu", "oai:absorbed")


def _merged_work() -> Record:
    base = CORPUS[0]
    work_id = base.id
    return base.model_copy(update={"match": Match(members=[work_id, ABSORBED], rule="doi", evidence="10.1/x")})


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    url = _es_url_for(request.param, request)
    eng = make_engine(request.param, tmp_path, url)
    assert eng.upsert([_merged_work()]).errors == []
    eng.refresh()
    yield eng
    drop_engine(request.param, eng, url)


def test_a_merged_away_id_finds_its_work(engine: SearchEngine) -> None:
    assert engine.get(ABSORBED) is None
    work = engine.work_absorbing(ABSORBED)
    assert work is not None and work.id == CORPUS[0].id
    # The work itself is no member merged away, and an unknown id belongs to no work.
    assert engine.work_absorbing(CORPUS[0].id) is None
    assert engine.work_absorbing(make_record_id("knu", "never-seen")) is None


def test_scan_walks_every_record_once_in_id_order(engine: SearchEngine) -> None:
    walked = [r.id for r in engine.scan({}, page_size=3)]
    assert walked == sorted(r.id for r in CORPUS)
    # The shards of one digit partition the index: together they hold every record once.
    by_shard = [r.id for d in "0123456789abcdef" for r in engine.scan({"shard": [d]}, page_size=2)]
    assert sorted(by_shard) == sorted(walked)
    for d in "0123456789abcdef":
        assert all(shard_terms(i)[0] == d for i in (r.id for r in engine.scan({"shard": [d]})))


def test_a_record_with_a_new_title_stays_one_record(engine: SearchEngine) -> None:
    changed = CORPUS[1].model_copy(update={"title": [LangText(value="Жаңы аталыш")]})
    engine.upsert([changed])
    engine.refresh()
    assert [r.id for r in engine.scan({})].count(changed.id) == 1


def test_an_older_elasticsearch_index_gains_the_new_fields_in_place(es_url: str) -> None:
    """An index made before `members` and `shard` existed (strict mapping) takes records again
    once ensure_index has run: the fields are added to its mapping, no reindex needed to write."""
    import uuid

    import httpx

    from fedsearch.config import ElasticsearchConfig
    from fedsearch.engines.elasticsearch import ElasticsearchEngine, mappings
    from tests.conftest import delete_es_indices

    prefix = f"old{uuid.uuid4().hex[:8]}"
    old = mappings()
    old["properties"] = {k: v for k, v in old["properties"].items() if k not in ("members", "shard")}
    httpx.put(
        f"{es_url}/{prefix}-records-1", json={"mappings": old, "aliases": {f"{prefix}-records": {}}}, timeout=30
    ).raise_for_status()
    engine = ElasticsearchEngine(ElasticsearchConfig(hosts=[es_url], index_prefix=prefix))
    try:
        engine.ensure_index()
        assert engine.upsert([_merged_work()]).errors == []
        engine.refresh()
        assert engine.work_absorbing(ABSORBED).id == CORPUS[0].id
    finally:
        engine.close()
        delete_es_indices(es_url, prefix)
