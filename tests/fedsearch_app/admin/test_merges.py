"""A librarian sees merged works by rule, takes a record out of a work or joins two; rebuilds keep the decision."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fedsearch.engines import SearchQuery, open_engine
from fedsearch.record import make_record_id
from fedsearch_app.app import create_app
from indexers.pipeline import harvest, reindex
from tests.fedsearch_app.admin.conftest import AdminClient, add_user, admin_settings, http_client

BOOKS = [
    {
        "id": "B-1",
        "title": "История Кыргызстана",
        "author": "Абдрахманов, Т.",
        "year": 2005,
        "isbn": "978-9967-00000-1",
    },
    {"id": "B-2", "title": "Манас эпосу", "author": "Жирмунский, В.", "year": 1995, "isbn": ""},
]
LIBRARY = [
    {"id": "L-77", "title": "История Кыргызстана.", "author": "Абдрахманов Т.", "year": 2005, "isbn": "9789967000001"},
    {"id": "L-78", "title": "Манас эпосу жана анын изилдениши", "author": "Жирмунский В.", "year": 1996, "isbn": ""},
]
MAPPING = {"title": "title", "authors": "author", "year": "year", "identifiers.isbn": "isbn"}


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


@pytest.fixture
def site(tmp_path: Path):
    write_jsonl(tmp_path / "books.jsonl", BOOKS)
    write_jsonl(tmp_path / "library.jsonl", LIBRARY)
    settings = admin_settings(
        tmp_path / "data",
        {
            "id": "press",
            "connector": "tabular",
            "path": str(tmp_path / "books.jsonl"),
            "id_column": "id",
            "type": "book",
            "mapping": MAPPING,
        },
        {
            "id": "library",
            "connector": "tabular",
            "path": str(tmp_path / "library.jsonl"),
            "id_column": "id",
            "type": "book",
            "mapping": MAPPING,
        },
    )
    add_user(settings, "aigul", "librarian")
    add_user(settings, "boss", "admin")
    assert harvest(settings, progress=False) == 0
    app = create_app(settings)
    client = AdminClient(http_client(app))
    assert client.login("aigul").status_code == 303
    return settings, app, client


def works(settings) -> dict[str, list[str]]:
    """Each record id -> the record ids of the searchable work holding it."""
    engine = open_engine(settings)
    try:
        hits = engine.search(SearchQuery(q="", per_page=100)).hits
    finally:
        engine.close()
    out = {}
    for h in hits:
        members = sorted(x.record_id for x in h.record.holdings)
        out.update({m: members for m in members})
    return out


def wait(app, source: str) -> None:
    job = app.state.admin.harvests.wait(source, timeout=120)
    assert job is not None and job.status == "ok", job and job.error


B1, L77 = make_record_id("press", "B-1"), make_record_id("library", "L-77")
B2, L78 = make_record_id("press", "B-2"), make_record_id("library", "L-78")


def test_split_and_join_by_hand_survive_a_rebuild_and_are_audited(site):
    settings, app, client = site
    assert sorted(works(settings)[B1]) == sorted([B1, L77])  # one work: the same ISBN
    page = client.get("/admin/merges").text
    assert "same ISBN" in page and "9789967000001" in page and B1 in page

    r = client.post("/admin/merges/split", {"record": L77, "work": min(B1, L77)})
    assert r.status_code == 303 and "done=merge-split" in r.headers["location"]
    wait(app, "library")
    assert works(settings)[B1] == [B1] and works(settings)[L77] == [L77]

    r = client.post("/admin/merges/join", {"a": B2, "b": L78})  # another title, another year: the rules keep them apart
    assert r.status_code == 303
    wait(app, "press")
    assert works(settings)[B2] == sorted([B2, L78])

    assert reindex(settings) == 0  # a rebuild from the raw store keeps both decisions
    after = works(settings)
    assert after[B1] == [B1] and after[L77] == [L77] and after[B2] == sorted([B2, L78])
    engine = open_engine(settings)
    try:
        assert engine.get(min(B2, L78)).match.rule == "manual"
    finally:
        engine.close()

    boss = AdminClient(http_client(app))
    assert boss.login("boss").status_code == 303
    audit = boss.get("/admin/audit").text
    assert "dedup.split" in audit and "dedup.join" in audit

    r = client.post("/admin/merges/forget", {"a": B1, "b": L77})  # the rules decide again
    assert r.status_code == 303
    wait(app, "press")
    assert sorted(works(settings)[B1]) == sorted([B1, L77])


def test_a_join_of_unknown_records_is_refused(site):
    settings, app, client = site
    r = client.post("/admin/merges/join", {"a": B1, "b": "nope-0000000000000000"})
    assert r.status_code == 400 and "two different records" in r.text
    assert works(settings)[B1] == sorted([B1, L77])
