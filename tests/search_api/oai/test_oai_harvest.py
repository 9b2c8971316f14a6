"""Aggregators harvest our works over OAI-PMH: Sickle and pyoai's client against /oai, on both engines.

A full harvest must equal the index, in every format and set, across many resumption
tokens (the page size is made small here so a list takes dozens of them).
"""

from __future__ import annotations

import pytest
from oaipmh.client import (
    Client,  # tests/search_api/oai/pyoai_compat.py makes it run on lxml 6
)
from oaipmh.metadata import MetadataReader, MetadataRegistry, oai_dc_reader
from sickle import Sickle

from search_api.oai import verbs
from tests.search_api.conftest import Served
from tests.search_api.oai import pyoai_compat  # noqa: F401 - before pyoai's client runs

MARC_READER = MetadataReader(
    fields={
        "title": ("textList", "marc:record/marc:datafield[@tag='245']/marc:subfield[@code='a']/text()"),
        "control": ("textList", "marc:record/marc:controlfield[@tag='001']/text()"),
    },
    namespaces={"marc": "http://www.loc.gov/MARC21/slim"},
)


@pytest.fixture(autouse=True)
def small_pages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(verbs.PAGE, "ListRecords", 7)
    monkeypatch.setitem(verbs.PAGE, "ListIdentifiers", 11)


def work_id(identifier: str) -> str:
    return identifier.rsplit(":", 1)[1]


def pyoai(served: Served) -> Client:
    registry = MetadataRegistry()
    registry.registerReader("oai_dc", oai_dc_reader)
    registry.registerReader("marcxml", MARC_READER)
    return Client(served.url, registry)


def test_sickle_full_harvest_equals_the_index(served: Served):
    harvested = {}
    for record in Sickle(served.url).ListRecords(metadataPrefix="oai_dc", ignore_deleted=False):
        assert not record.deleted
        assert record.header.identifier not in harvested, "a work came twice"
        harvested[record.header.identifier] = record
    ids = {work_id(i) for i in harvested}
    assert ids == served.live_ids()
    assert len(ids) > 3 * verbs.PAGE["ListRecords"]  # many pages were followed
    for identifier, record in harvested.items():
        work = served.engine.get(work_id(identifier))
        assert work is not None
        assert record.metadata["title"][0] == work.title[0].value
        assert [p.name for p in work.authors] == record.metadata.get("creator", [])
        assert f"source:{work.sources[0]}" in record.header.setSpecs


def test_pyoai_harvests_both_formats(served: Served):
    client = pyoai(served)
    identify = client.identify()
    assert identify.deletedRecord() == "persistent"
    assert identify.granularity() == "YYYY-MM-DDThh:mm:ssZ"
    assert {f[0] for f in client.listMetadataFormats()} == {"oai_dc", "marcxml"}
    dc = {work_id(h.identifier()): m.getField("title") for h, m, _ in client.listRecords(metadataPrefix="oai_dc")}
    marc = {
        work_id(h.identifier()): (m.getField("title"), m.getField("control"))
        for h, m, _ in client.listRecords(metadataPrefix="marcxml")
    }
    assert set(dc) == set(marc) == served.live_ids()
    for wid, (title, control) in marc.items():
        assert control == [wid]
        assert title[0] == dc[wid][0] == served.engine.get(wid).title[0].value


@pytest.mark.parametrize("spec", ["source:knu", "source:bulk", "type:book", "openaccess", "type"])
def test_sets_select_exactly_their_works(served: Served, spec: str):
    got = {work_id(h.identifier) for h in Sickle(served.url).ListIdentifiers(metadataPrefix="oai_dc", set=spec)}
    everything = [served.engine.get(w) for w in served.live_ids()]
    head, _, value = spec.partition(":")
    if spec == "openaccess":
        want = {r.id for r in everything if r.access.value in ("open", "free")}
    elif head == "source":
        want = {r.id for r in everything if value in r.sources}
    elif value:
        want = {r.id for r in everything if r.type.value == value}
    else:  # the parent set holds every work
        want = {r.id for r in everything}
    assert want and got == want


def test_sets_are_listed_with_the_configured_names(served: Served):
    listed = {s.setSpec: s.setName for s in Sickle(served.url).ListSets()}
    assert listed["source:knu"] == "KNU repository"
    assert {"source", "type", "type:dissertation", "openaccess"} <= set(listed)
    used = {f"source:{s}" for w in served.live_ids() for s in served.engine.get(w).sources}
    assert used <= set(listed)


def test_get_record_in_both_formats(served: Served):
    wid = min(served.live_ids())
    work = served.engine.get(wid)
    sickle = Sickle(served.url)
    dc = sickle.GetRecord(identifier=f"oai:127.0.0.1:{wid}", metadataPrefix="oai_dc")
    assert dc.metadata["title"][0] == work.title[0].value
    assert f"http://127.0.0.1:{served.url.split(':')[2].split('/')[0]}/records/{wid}" in dc.metadata["identifier"]
    header, metadata, _ = pyoai(served).getRecord(identifier=f"oai:127.0.0.1:{wid}", metadataPrefix="marcxml")
    assert metadata.getField("control") == [wid] and not header.isDeleted()


def test_from_and_until_bound_the_datestamps(served: Served):
    stamps = sorted(h.datestamp for h in Sickle(served.url).ListIdentifiers(metadataPrefix="oai_dc"))
    first, last = stamps[0], stamps[-1]
    assert len(
        list(Sickle(served.url).ListIdentifiers(metadataPrefix="oai_dc", **{"from": first, "until": last}))
    ) == len(stamps)
    day = first[:10]
    by_day = list(Sickle(served.url).ListIdentifiers(metadataPrefix="oai_dc", **{"from": day, "until": day}))
    assert len(by_day) == sum(1 for s in stamps if s.startswith(day))
    after = [s for s in stamps if s > first]
    if after:  # the corpus was written across more than one second
        later = list(Sickle(served.url).ListIdentifiers(metadataPrefix="oai_dc", **{"from": after[0]}))
        assert len(later) == len(after)
