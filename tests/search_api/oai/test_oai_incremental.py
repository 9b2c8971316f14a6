"""An incremental harvest of /oai sees exactly what changed in our index, deletions included.

Partners' exports go through the real pipeline (`harvest`: raw store -> normalize ->
dedup -> engine). Between two harvests one work changes, one is withdrawn at its source,
and one is merged into another by deduplication (the same ISBN). Sickle, harvesting from
the responseDate of its first harvest, must get exactly those: the changed work and the
work that absorbed the other, and the withdrawn and absorbed works as deleted records.
"""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest
from lxml import etree
from sickle import Sickle

from fedsearch.config import Settings, load_config
from fedsearch.engines import open_engine
from indexers.pipeline import harvest, reindex
from rawstore.store import RawStore
from tests.indexers.test_pipeline import partner_deployment, write_csv, write_jsonl
from tests.search_api.conftest import free_port, running

THESES = [
    {
        "Рег. номер": "D-1",
        "Тема диссертации": "Экономика сельского хозяйства Чуйской долины",
        "ФИО": "Токтогулов Бакыт",
        "Год защиты": "2015",
        "Шифр": "08.00.05",
    },
    {
        "Рег. номер": "D-2",
        "Тема диссертации": "Водные ресурсы Иссык-Кульской области",
        "ФИО": "Осмонова Айгүл",
        "Год защиты": "2018",
        "Шифр": "25.00.27",
    },
    {
        "Рег. номер": "D-3",
        "Тема диссертации": "Ледники Тянь-Шаня",
        "ФИО": "Ким Анна",
        "Год защиты": "2011",
        "Шифр": "25.00.31",
    },
]
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
LIBRARY = [{"id": "L-80", "title": "Орография Тянь-Шаня", "author": "Ким, А.", "year": 1987, "isbn": ""}]
SAME_AS_B1 = {
    "id": "L-80",
    "title": "История Кыргызстана.",
    "author": "Абдрахманов Т.",
    "year": 2005,
    "isbn": "9789967000001",
}
OAI = "{http://www.openarchives.org/OAI/2.0/}"


@pytest.fixture(params=["embedded", "elasticsearch"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path):
    port = free_port()
    server = {"port": port, "base_url": f"http://127.0.0.1:{port}", "rate_limit_per_minute": 100000}
    yield from partner_deployment(request, tmp_path, THESES, BOOKS, LIBRARY, server=server)


def works_by_local_id(settings: Settings) -> dict[str, str]:
    """Partner record id -> the id of the work holding it, read from the index."""
    engine = open_engine(settings)
    try:
        from fedsearch.engines import SearchQuery

        hits = engine.search(SearchQuery(q="", per_page=100)).hits
        return {h.source_record_id: hit.id for hit in hits for h in hit.record.holdings}
    finally:
        engine.close()


def response_date(url: str) -> str:
    return etree.fromstring(httpx.get(url, params={"verb": "Identify"}).content).findtext(f"{OAI}responseDate")


def harvest_all(url: str, **args: str) -> dict[str, object]:
    """Work id -> Sickle's record (deleted ones too)."""
    out = {}
    for record in Sickle(url).ListRecords(metadataPrefix="oai_dc", ignore_deleted=False, **args):
        wid = record.header.identifier.rsplit(":", 1)[1]
        assert wid not in out, "a work came twice in one list"
        out[wid] = record
    return out


def test_incremental_harvest_sees_exactly_the_changes(deployment):
    config_path, exports = deployment
    settings = load_config(config_path)
    assert harvest(settings, progress=False) == 0
    before = works_by_local_id(settings)
    assert len(set(before.values())) == 6  # 3 theses, 2 books, the library's own book
    time.sleep(1.1)  # what follows is stamped in a later second than the first harvest

    with running(settings) as base:
        url = f"{base}/oai"
        first = harvest_all(url)
        assert set(first) == set(before.values()) and not any(r.deleted for r in first.values())
        since = response_date(url)
        time.sleep(1.1)

        # At the partners: D-1 retitled, D-2 withdrawn, the library's record recatalogued as B-1 (its ISBN).
        write_csv(
            exports / "vak.csv", [dict(THESES[0], **{"Тема диссертации": "Экономика горного земледелия"}), THESES[2]]
        )
        write_jsonl(exports / "library.jsonl", [SAME_AS_B1])
        assert harvest(settings, progress=False) == 0
        after = works_by_local_id(settings)
        assert after["B-1"] == after["L-80"]  # merged into one work
        survivor = after["B-1"]
        absorbed = ({before["B-1"], before["L-80"]} - {survivor}).pop()

        changes = harvest_all(url, **{"from": since})
        live = {wid for wid, r in changes.items() if not r.deleted}
        deleted = {wid for wid, r in changes.items() if r.deleted}
        assert live == {after["D-1"], survivor}
        assert deleted == {before["D-2"], absorbed}
        assert changes[after["D-1"]].metadata["title"] == ["Экономика горного земледелия"]
        assert "source:vak" in changes[before["D-2"]].header.setSpecs  # a deleted record keeps its sets
        assert {"source:press", "source:library"} <= set(changes[survivor].header.setSpecs)

        # Persistent: a full harvest lists the deleted works too; GetRecord answers them as deleted.
        full = harvest_all(url)
        assert {w for w, r in full.items() if not r.deleted} == set(after.values())
        assert {w for w, r in full.items() if r.deleted} == {before["D-2"], absorbed}
        gone = Sickle(url).GetRecord(identifier=f"oai:127.0.0.1:{absorbed}", metadataPrefix="oai_dc")
        assert gone.deleted and gone.xml.find(f"{OAI}metadata") is None

        # Nothing changes: the next incremental harvest is empty.
        time.sleep(1.1)
        quiet_since = response_date(url)
        assert harvest(settings, progress=False) == 0
        assert (
            httpx.get(
                url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "from": quiet_since}
            ).text.count('code="noRecordsMatch"')
            == 1
        )


def test_a_reindex_that_drops_works_reports_them_deleted(deployment):
    """`fedsearch reindex` replaces the whole index: works it no longer writes (here: a source's raw
    records gone from the raw store) must still reach harvesters as deleted records, with their sets."""
    config_path, _ = deployment
    settings = load_config(config_path)
    assert harvest(settings, progress=False) == 0
    before = works_by_local_id(settings)
    theses = {before[k] for k in ("D-1", "D-2", "D-3")}
    time.sleep(1.1)

    with running(settings) as base:
        url = f"{base}/oai"
        since = response_date(url)
        time.sleep(1.1)
        with RawStore.for_settings(settings) as store:
            store.delete_source("vak")
        assert reindex(settings) == 0

        changes = harvest_all(url, **{"from": since})
        deleted = {wid for wid, r in changes.items() if r.deleted}
        assert deleted == theses
        assert all("source:vak" in changes[w].header.setSpecs for w in theses)
        full = harvest_all(url)
        assert {w for w, r in full.items() if not r.deleted} == set(before.values()) - theses

        # The source comes back: its works are live again and no longer reported deleted.
        assert harvest(settings, progress=False) == 0
        again = harvest_all(url)
        assert {w for w, r in again.items() if not r.deleted} == set(before.values())
        assert not any(r.deleted for r in again.values())
