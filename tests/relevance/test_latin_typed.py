"""A word typed in Latin letters that meets a Cyrillic record through the cross-script key
is the same word transliterated: the Cyrillic record's title counts as much as an English
record's subject heading, on both engines (query.LATIN_SKELETON_WEIGHT)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fedsearch.engines import SearchEngine, SearchQuery
from tests.corpus import rec
from tests.fedsearch.engines.test_engine_conformance import ENGINES, _es_url_for, drop_engine

R = [
    rec("l", "title_ru", "Творчество Чингиза Айтматова", year=2015),
    rec("l", "title_ky", "Чыңгыз Айтматовдун чыгармачылыгы", lang="ky", year=2016),
    rec(
        "l",
        "subject_en",
        "Oral folk literature in the Kyrgyz Republic",
        lang="en",
        year=2017,
        subjects=("Chingiz Aitmatov", "folklore", "oral literature", "Kyrgyz Republic"),
    ),
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

        eng = ElasticsearchEngine(ElasticsearchConfig(hosts=[url], index_prefix=f"latin{uuid.uuid4().hex[:8]}"))
    eng.ensure_index()
    assert eng.upsert(R).errors == []
    eng.refresh()
    yield eng
    drop_engine(request.param, eng, url)


def ranked(engine: SearchEngine, q: str) -> list[str]:
    return [h.record.source_record_id for h in engine.search(SearchQuery(q=q, per_page=10)).hits]


def test_a_latin_typed_name_ranks_cyrillic_titles_above_an_english_subject(engine):
    assert ranked(engine, "Chingiz Aitmatov")[-1] == "subject_en"


def test_cyrillic_typed_words_keep_their_script_preference(engine):
    # Typed in Cyrillic, the Cyrillic titles match by stem: the English subject heading, met
    # only through the key, comes last as before.
    assert ranked(engine, "Чингиз Айтматов")[-1] == "subject_en"
