"""A merged work says where it comes from: the API's record and the record page show its members and rule."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.record import Identifiers, LangText, Person, Record, RecordType, make_record_id
from fedsearch_app.app import create_app
from indexers.dedup import Deduplicator
from tests.search_api.conftest import make_settings

DOI = "10.24412/1694-5220-2019-3-15"


def record(source: str, local: str, title: str, **extra) -> Record:
    return Record(
        id=make_record_id(source, local),
        source=source,
        source_record_id=local,
        type=RecordType.article,
        title=[LangText(value=title, lang="ru")],
        authors=[Person(name="Айтматова, Асель", family="Айтматова")],
        year=2019,
        **extra,
    )


@pytest.fixture(scope="module")
def merged_client(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("provenance")
    dedup = Deduplicator()
    for r in (
        record("knu", "1", "Экология озера Иссык-Куль", identifiers=Identifiers(doi=[DOI])),
        record("nlkr", "2", "ЭКОЛОГИЯ ОЗЕРА ИССЫК-КУЛЬ", identifiers=Identifiers(doi=[DOI])),
    ):
        dedup.assign(r)
    (key,) = dedup.cluster_keys()
    work = dedup.merged(key)
    engine = EmbeddedEngine(data_dir / "index", writer=True)
    engine.ensure_index()
    assert engine.upsert([work]).errors == []
    engine.refresh()
    with TestClient(create_app(make_settings("embedded", data_dir), engine=engine)) as client:
        yield client, work
    engine.close()


def test_the_api_record_carries_the_merge_and_its_schema(merged_client):
    client, work = merged_client
    body = client.get(f"/api/v1/records/{work.id}").json()
    assert body["match"]["members"] == sorted([make_record_id("knu", "1"), make_record_id("nlkr", "2")])
    assert body["match"]["rule"] == "doi" and body["match"]["evidence"] == DOI
    schema = client.get("/api/v1/openapi.json").json()["components"]["schemas"]
    assert "match" in schema["Record"]["properties"] and "Match" in schema and "MatchLink" in schema


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", f"One work from 2 records: same DOI {DOI}"),
        ("ru", f"Одна работа из 2 записей: совпадает DOI {DOI}"),
        ("ky", f"2 жазуудан бир эмгек: DOI бирдей: {DOI}"),
    ],
)
def test_the_record_page_says_why_it_is_one_work(merged_client, lang, text):
    client, work = merged_client
    html = client.get(f"/records/{work.id}?lang={lang}").text
    assert text in html
