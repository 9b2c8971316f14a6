"""A query read through its hits' parallel titles (fedsearch/engines/parallel.py), on both engines:
records holding the typed words first, then records holding the words their parallel titles
share, then records holding only some of the typed words."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fedsearch import analysis
from fedsearch.engines import SearchEngine, SearchQuery, parallel
from tests.corpus import rec
from tests.fedsearch.engines.test_engine_conformance import ENGINES, _es_url_for, drop_engine

R = [
    rec(
        "p",
        "bi1",
        "Тиричилик калдыктарынын көйгөйлөрү",
        lang="ky",
        year=2020,
        title_alt=(("Проблемы бытовых отходов", "ru"),),
    ),
    rec("p", "bi2", "Катуу тиричилик калдыктары", lang="ky", year=2021, title_alt=(("Твердые бытовые отходы", "ru"),)),
    rec("p", "ru_only", "Бытовые отходы города Оша", year=2019),
    rec("p", "partial", "Урандык калдыктардын сактагычтары", lang="ky", year=2018),
    rec("p", "other", "Проблемы водных ресурсов", year=2017),
]


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    url = _es_url_for(request.param, request)
    tmp: Path = tmp_path_factory.mktemp(request.param)
    if request.param == "embedded":
        from fedsearch.engines.embedded import EmbeddedEngine

        eng: SearchEngine = EmbeddedEngine(tmp / "index", writer=True)
    else:
        from fedsearch.config import ElasticsearchConfig
        from fedsearch.engines.elasticsearch import ElasticsearchEngine

        eng = ElasticsearchEngine(ElasticsearchConfig(hosts=[url], index_prefix=f"par{uuid.uuid4().hex[:8]}"))
    eng.ensure_index()
    assert eng.upsert(R).errors == []
    eng.refresh()
    yield eng
    drop_engine(request.param, eng, url)


def order(engine: SearchEngine, q: str, **kw) -> list[str]:
    return [h.record.source_record_id for h in engine.search(SearchQuery(q=q, highlight=False, **kw)).hits]


def test_the_parallel_titles_words_find_a_record_in_the_other_language(engine):
    assert order(engine, "тиричилик калдыктары", relax=False) == order(engine, "тиричилик AND калдыктары")
    assert set(order(engine, "тиричилик калдыктары", relax=False)) == {"bi1", "bi2"}
    result = engine.search(SearchQuery(q="тиричилик калдыктары", highlight=False))
    ids = [h.record.source_record_id for h in result.hits]
    # As typed, then the Russian reading (бытовые отходы), then one typed word of two.
    assert set(ids[:2]) == {"bi1", "bi2"} and ids[2:] == ["ru_only", "partial"]
    assert result.relaxed is not None  # the reading, as one of its titles spells it
    assert [analysis.stem(w) for w in result.relaxed.translated] == ["бытов", "отход"]
    assert (result.relaxed.all_words, result.relaxed.required, result.relaxed.of) == (2, 1, 2)


def test_the_reading_is_what_every_parallel_title_shares():
    assert parallel.translation("тиричилик калдыктары", R[:2]) == ("бытовых", "отходов")
    assert parallel.translation("тиричилик калдыктары", R[:1]) == ()  # one title is no agreement
    assert parallel.translation('"тиричилик калдыктары"', R[:2]) == ()  # quotes: as typed only
    assert parallel.translation("тиричилик OR калдыктары", R[:2]) == ()


def test_a_record_found_outside_its_titles_lends_no_words():
    found_by_abstract = rec(
        "p",
        "abs",
        "Тоо тектеринин тарыхы",
        lang="ky",
        year=2020,
        title_alt=(("История горных пород", "ru"),),
        abstract="тиричилик калдыктары",
    )
    assert parallel.translation("тиричилик калдыктары", [found_by_abstract, found_by_abstract.model_copy()]) == ()


def test_a_later_page_reads_the_same_parallel_titles(engine):
    whole = order(engine, "тиричилик калдыктары")
    pages = [order(engine, "тиричилик калдыктары", per_page=1, page=p)[0] for p in range(1, len(whole) + 1)]
    assert pages == whole
