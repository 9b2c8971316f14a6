"""A person's name typed as words ranks that person's works above works whose co-authors
share the words between them (issue 13: "Медведев Вадим"), on both engines."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fedsearch.engines import SearchEngine, SearchQuery
from tests.corpus import rec
from tests.fedsearch.engines.test_engine_conformance import ENGINES, _es_url_for, drop_engine

R = [
    # The two words on two co-authors, and a title the query's surname would otherwise favour.
    rec("p", "coauthors", "Качество воздуха", year=2020, authors=("Белов, Вадим Петрович", "Медведев, Владимир")),
    rec(
        "p",
        "person",
        "Способ очистки воды",
        type="patent",
        year=2012,
        authors=("Исаков, Нурлан Токтогулович", "Медведев, Вадим Григорьевич", "Петрова, Анна Сергеевна"),
    ),
    rec("p", "kyrgyz", "Тоо суулары", lang="ky", year=2019, authors=("Осмонова, Айгүл", "Асанов, Бакыт")),
    rec("p", "kyrgyz_apart", "Тоо токойлору", lang="ky", year=2019, authors=("Асанов, Айгүл", "Осмонова, Айпери")),
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

        eng = ElasticsearchEngine(ElasticsearchConfig(hosts=[url], index_prefix=f"person{uuid.uuid4().hex[:8]}"))
    eng.ensure_index()
    assert eng.upsert(R).errors == []
    eng.refresh()
    yield eng
    drop_engine(request.param, eng, url)


def ranked(engine: SearchEngine, q: str) -> list[str]:
    return [h.record.source_record_id for h in engine.search(SearchQuery(q=q, per_page=10)).hits]


@pytest.mark.parametrize(
    "q, first, second",
    [
        ("Медведев Вадим", "person", "coauthors"),
        ("Вадим Медведев", "person", "coauthors"),  # given name first
        ("Medvedev Vadim", "person", "coauthors"),  # typed in Latin letters
        ("Осмонова Айгүл", "kyrgyz", "kyrgyz_apart"),
        ("Osmonova Aigul", "kyrgyz", "kyrgyz_apart"),
    ],
)
def test_the_person_named_ranks_above_coauthors_sharing_the_words(engine, q, first, second):
    assert ranked(engine, q)[:2] == [first, second]


def test_one_word_is_not_a_person_phrase(engine):
    # A single surname scores by the word alone: both Медведевs are found, the bonus adds nothing.
    assert set(ranked(engine, "Медведев")) == {"person", "coauthors"}
