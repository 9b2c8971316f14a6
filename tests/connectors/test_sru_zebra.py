"""SRU against a real server: Index Data's Zebra (zebrasrv) serving MARCXML."""

from __future__ import annotations

import pytest
from lxml import etree

from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import marcxml_record

MARC = "{http://www.loc.gov/MARC21/slim}"
DC = "{http://purl.org/dc/elements/1.1/}"


def catalogue(url: str, **options) -> dict:
    return {"id": "catalog", "connector": "sru", "url": url, **options}


def books(n: int) -> dict[str, bytes]:
    return {f"kg{i:05d}": marcxml_record(f"kg{i:05d}", f"Манас эпосу, том {i}") for i in range(1, n + 1)}


@pytest.mark.parametrize("version", ["1.1", "1.2", "2.0"])
def test_harvest_pages_through_every_record(zebra, tmp_path, store, version):
    zebra.put(books(23))
    zebra.start()
    settings = make_settings(tmp_path, catalogue(zebra.url, version=version, page_size=5))
    run = harvest_source(settings, "catalog", store)

    assert run.status == "ok", run.error
    assert (run.records, run.new, run.pages) == (23, 23, 5)
    assert {r.local_id for r in store.iter_all("catalog")} == set(books(23))
    rec = store.get("catalog", "kg00007")
    root = etree.fromstring(rec.payload)
    assert rec.format == "marcxml" and root.tag == f"{MARC}record"
    assert root.findtext(f"{MARC}datafield[@tag='245']/{MARC}subfield") == "Манас эпосу, том 7"


def test_every_run_is_a_full_listing_and_vanished_records_become_deletions(zebra, tmp_path, store):
    zebra.put(books(12))
    zebra.start()
    settings = make_settings(tmp_path, catalogue(zebra.url, page_size=5))
    first = harvest_source(settings, "catalog", store)
    assert first.ok and first.new == 12

    zebra.put(
        {
            "kg00003": marcxml_record("kg00003", "Манас эпосу: жаңы басылыш"),
            "kg00099": marcxml_record("kg00099", "Семетей"),
        }
    )
    zebra.delete({"kg00004": books(12)["kg00004"]})
    second = harvest_source(settings, "catalog", store)

    assert second.status == "ok", second.error
    assert second.mode == "full"
    assert (second.records, second.new, second.changed, second.deleted, second.unchanged) == (12, 1, 1, 1, 10)
    assert store.get("catalog", "kg00004").deleted
    assert store.counts("catalog").live == 12


def test_query_and_dublin_core_schema(zebra, tmp_path, store):
    zebra.put(books(9) | {"kg00050": marcxml_record("kg00050", "Семетей")})
    zebra.start()
    settings = make_settings(
        tmp_path, catalogue(zebra.url, query="title=Семетей", record_schema="dc", id_element="identifier")
    )
    run = harvest_source(settings, "catalog", store)
    assert run.status == "ok", run.error
    assert run.records == 1
    (rec,) = store.iter_all("catalog")
    assert rec.format == "oai_dc" and rec.local_id == "kg00050"  # dc:identifier
    assert etree.fromstring(rec.payload).findtext(f"{DC}title") == "Семетей"


def test_a_query_the_server_rejects_fails_naming_the_diagnostic(zebra, tmp_path, store):
    zebra.put(books(3))
    zebra.start()
    settings = make_settings(tmp_path, catalogue(zebra.url, query="title=("))
    run = harvest_source(settings, "catalog", store)
    assert run.status == "failed"
    assert "info:srw/diagnostic/1/10" in run.error and "Query syntax error" in run.error
