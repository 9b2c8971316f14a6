"""SRU against captured answers of real catalogues (LoC, DNB, ZDB, LIBRIS, Alma, ...), replayed locally.

A captured answer is one page of a long result; the replaying server sets its
numberOfRecords to the records it holds (and drops nextRecordPosition), so one
page is the whole list. Paging itself is tested against Zebra.
"""

from __future__ import annotations

import re

import pytest
from lxml import etree

from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import LocalHTTPServer, Reply

MARC = "{http://www.loc.gov/MARC21/slim}"


def as_whole_list(body: bytes) -> bytes:
    count = len(re.findall(rb"<(?:\w+:)?recordData\b", body))
    body = re.sub(rb"(<(?:\w+:)?numberOfRecords>)\d+(</)", rb"\g<1>%d\g<2>" % count, body)
    return re.sub(rb"<(?:\w+:)?nextRecordPosition>\d+</(?:\w+:)?nextRecordPosition>", b"", body)


def harvest(tmp_path, store, body: bytes, status: int = 200, **options):
    with LocalHTTPServer(lambda req: Reply(body=body, status=status)) as server:
        settings = make_settings(tmp_path, {"id": "cat", "connector": "sru", "url": server.url + "/db", **options})
        run = harvest_source(settings, "cat", store)
        return run, server.requests


@pytest.mark.parametrize(
    "fixture,version,count,some_id",
    [
        ("sru11-loc-searchretrieve-marcxml-zs-prefix.xml", "1.1", 1, "536510"),
        ("sru12-loc-searchretrieve-marcxml-multi.xml", "1.2", 10, "14254861"),
        ("sru11-zdb-dnb-searchretrieve-marc21-xml-slim-prefix.xml", "1.1", 8, "1008300616"),
        ("sru12-libris-kth-searchretrieve-marcxml-resultsetid.xml", "1.2", 10, "13694531"),
        ("sru12-alma-searchretrieve-marcxml-empty-ns.xml", "1.2", 3, "999401461934702201"),
    ],
)
def test_marcxml_from_real_catalogues(real_fixtures, tmp_path, store, fixture, version, count, some_id):
    run, requests = harvest(tmp_path, store, as_whole_list((real_fixtures / fixture).read_bytes()), version=version)
    assert run.status == "ok", run.error
    assert (run.records, run.new) == (count, count)
    rec = store.get("cat", some_id)
    assert rec.format == "marcxml" and etree.QName(etree.fromstring(rec.payload)).localname == "record"
    assert requests[0].params == {
        "operation": "searchRetrieve",
        "version": version,
        "query": "cql.allRecords=1",
        "startRecord": "1",
        "maximumRecords": "50",
        "recordSchema": "marcxml",
        "recordPacking": "xml",
    }


def test_dublin_core_records_without_an_id_are_keyed_by_position(real_fixtures, tmp_path, store):
    body = as_whole_list((real_fixtures / "sru11-dnb-searchretrieve-oai_dc.xml").read_bytes())
    run, _ = harvest(tmp_path, store, body, version="1.1", record_schema="oai_dc")
    assert run.status == "ok", run.error
    assert run.new == 12 and all(r.format == "oai_dc" for r in store.iter_all("cat"))
    assert store.get("cat", "position:10") is not None  # no id in the record: its recordPosition


def test_wrong_srw_namespace_and_missing_positions(real_fixtures, tmp_path, store):
    body = as_whole_list((real_fixtures / "sru11-swiss-catalogue-searchretrieve-dc-wrong-namespace.xml").read_bytes())
    run, _ = harvest(tmp_path, store, body, version="1.1", record_schema="dc", id_element="id")
    assert run.status == "ok", run.error
    assert run.new == 10 and store.get("cat", "10723971X") is not None


@pytest.mark.parametrize(
    "fixture,count",
    [
        ("sru12-staatsarchiv-zh-searchretrieve-isad-bom.xml", 22),
        ("sru20-searchretrieve-isad-adapted-sample.xml", 1),
    ],
)
def test_other_schemas_bom_and_sru_2_0(real_fixtures, tmp_path, store, fixture, count):
    version = "2.0" if fixture.startswith("sru20") else "1.2"
    run, requests = harvest(
        tmp_path, store, as_whole_list((real_fixtures / fixture).read_bytes()), version=version, record_schema="isad"
    )
    assert run.status == "ok", run.error
    assert run.records == count and store.get("cat", "position:1").format == "isad"
    if version == "2.0":
        assert requests[0].params["recordXMLEscaping"] == "xml" and "recordPacking" not in requests[0].params


DIAG_12 = b"""<?xml version="1.0"?>
<srw:searchRetrieveResponse xmlns:srw="http://www.loc.gov/zing/srw/" xmlns:diag="http://www.loc.gov/zing/srw/diagnostic/">
<srw:version>1.2</srw:version><srw:numberOfRecords>0</srw:numberOfRecords>
<srw:diagnostics><diag:diagnostic><diag:uri>info:srw/diagnostic/1/16</diag:uri>
<diag:details>dc.subjekt</diag:details></diag:diagnostic></srw:diagnostics></srw:searchRetrieveResponse>"""

DIAG_20 = b"""<?xml version="1.0"?>
<searchRetrieveResponse xmlns="http://docs.oasis-open.org/ns/search-ws/sruResponse">
<numberOfRecords>0</numberOfRecords><diagnostics>
<diagnostic xmlns="http://docs.oasis-open.org/ns/search-ws/diagnostic"><uri>info:srw/diagnostic/1/66</uri>
<message>Unknown schema for retrieval</message><details>marc21</details></diagnostic></diagnostics>
</searchRetrieveResponse>"""


@pytest.mark.parametrize(
    "body,status,words",
    [
        (DIAG_12, 200, "diagnostic info:srw/diagnostic/1/16 (unsupported index): dc.subjekt"),
        (DIAG_20, 400, "diagnostic info:srw/diagnostic/1/66: Unknown schema for retrieval; marc21"),
    ],
)
def test_diagnostics_fail_the_run_naming_the_source_and_diagnostic(tmp_path, store, body, status, words):
    run, _ = harvest(tmp_path, store, body, status=status)
    assert run.status == "failed"
    assert words in run.error and "URL: http://127.0.0.1" in run.error


def test_a_record_level_diagnostic_is_quarantined(tmp_path, store):
    body = b"""<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/"><zs:version>1.2</zs:version>
    <zs:numberOfRecords>2</zs:numberOfRecords><zs:records>
    <zs:record><zs:recordSchema>info:srw/schema/1/marcxml-v1.1</zs:recordSchema><zs:recordPacking>xml</zs:recordPacking>
      <zs:recordData><record xmlns="http://www.loc.gov/MARC21/slim"><controlfield tag="001">ok1</controlfield></record>
      </zs:recordData><zs:recordPosition>1</zs:recordPosition></zs:record>
    <zs:record><zs:recordSchema>info:srw/schema/1/diagnostics-v1.1</zs:recordSchema><zs:recordPacking>xml</zs:recordPacking>
      <zs:recordData><diagnostic xmlns="http://www.loc.gov/zing/srw/diagnostic/"><uri>info:srw/diagnostic/1/64</uri>
      <message>Record temporarily unavailable</message></diagnostic></zs:recordData>
      <zs:recordPosition>2</zs:recordPosition></zs:record></zs:records></zs:searchRetrieveResponse>"""
    run, _ = harvest(tmp_path, store, body)
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (1, 1)
    (q,) = store.quarantined("cat")
    assert "Record temporarily unavailable" in q.reason and q.location == "page 1, position 2"


def test_string_packed_records_are_parsed(tmp_path, store):
    record = '<record xmlns="http://www.loc.gov/MARC21/slim"><controlfield tag="001">s1</controlfield></record>'
    escaped = record.replace("<", "&lt;").replace(">", "&gt;")
    body = (
        f'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"><numberOfRecords>1</numberOfRecords>'
        f"<records><record><recordSchema>marcxml</recordSchema><recordPacking>string</recordPacking>"
        f"<recordData>{escaped}</recordData></record></records></searchRetrieveResponse>"
    ).encode()
    run, _ = harvest(tmp_path, store, body)
    assert run.ok and store.get("cat", "s1").payload.startswith(b"<record")
