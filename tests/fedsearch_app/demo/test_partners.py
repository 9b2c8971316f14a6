"""The demo's partners serve exactly what the corpus generator wrote, over their real protocols."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import httpx
import pytest
from lxml import etree

from fedsearch_app.corpus import FILES, generate
from fedsearch_app.demo.oai import OaiPmhPartner
from fedsearch_app.demo.partners import FileServer
from fedsearch_app.demo.zebra import INSTALL_HINT, ZebraCatalogue, port_open, zebra_installed

OAI = "{http://www.openarchives.org/OAI/2.0/}"
SRW = "{http://www.loc.gov/zing/srw/}"
MARC = "{http://www.loc.gov/MARC21/slim}"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("partners")
    return out, generate(out, 700, seed=3)


@pytest.fixture(scope="module")
def repository(corpus):
    root, _ = corpus
    partner = OaiPmhPartner(root / FILES["oai"], page_size=50).start()
    yield partner
    partner.stop()


def oai(partner: OaiPmhPartner, **params: str) -> etree._Element:
    resp = httpx.get(partner.url, params=params, timeout=10)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/xml")
    return etree.fromstring(resp.content)


def test_oai_listrecords_pages_through_every_record_the_generator_wrote(corpus, repository):
    root, manifest = corpus
    written = re.findall(r"<identifier>([^<]+)</identifier>", (root / FILES["oai"]).read_text(encoding="utf-8"))
    seen, pages = [], 0
    params = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
    while True:
        page = oai(repository, **params)
        pages += 1
        seen += [h.text for h in page.iter(f"{OAI}identifier")]
        token = page.find(f".//{OAI}resumptionToken")
        if token is None or not (token.text or "").strip():
            break
        params = {"verb": "ListRecords", "resumptionToken": token.text}
    assert len(seen) == manifest["records_by_partner"]["oai"] == len(written)
    assert sorted(seen) == sorted(written)
    assert pages == -(-len(written) // 50)


def test_oai_metadata_is_the_stored_oai_dc(corpus, repository):
    root, _ = corpus
    first = (root / FILES["oai"]).read_text(encoding="utf-8").splitlines()[2]
    ident = re.search(r"<identifier>([^<]+)</identifier>", first).group(1)
    title = re.search(r"<dc:title xml:lang=\"(\w+)\">([^<]+)</dc:title>", first)
    rec = oai(repository, verb="GetRecord", metadataPrefix="oai_dc", identifier=ident)
    got = rec.find(".//{http://purl.org/dc/elements/1.1/}title")
    assert got.text == title.group(2).replace("&amp;", "&")
    assert got.get("{http://www.w3.org/XML/1998/namespace}lang") == title.group(1)


def test_oai_selective_harvest_and_errors(repository):
    identify = oai(repository, verb="Identify")
    assert identify.findtext(f".//{OAI}baseURL") == repository.url
    assert identify.findtext(f".//{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    # Nothing changed after the corpus's date: an incremental harvest finds nothing.
    empty = oai(repository, verb="ListRecords", metadataPrefix="oai_dc", **{"from": "2026-01-01T00:00:00Z"})
    assert empty.find(f"{OAI}error").get("code") == "noRecordsMatch"
    recent = oai(repository, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": "2025-01-01"})
    assert all(h.findtext(f"{OAI}datestamp") >= "2025-01-01" for h in recent.iter(f"{OAI}header"))
    assert oai(repository, verb="Nonsense").find(f"{OAI}error").get("code") == "badVerb"
    bad = oai(repository, verb="ListRecords", metadataPrefix="marc21")
    assert bad.find(f"{OAI}error").get("code") == "cannotDisseminateFormat"


@pytest.fixture(scope="module")
def catalogue(corpus, tmp_path_factory):
    if not zebra_installed():
        pytest.fail(f"zebrasrv is not installed; install it with `{INSTALL_HINT}`", pytrace=False)
    root, _ = corpus
    zebra = ZebraCatalogue(root / FILES["sru"], tmp_path_factory.mktemp("zebra"))
    assert zebra.index() is True
    assert zebra.index() is False  # the same file is not indexed twice
    zebra.start()
    yield zebra
    zebra.stop()
    assert not port_open(zebra.port)


def sru(zebra: ZebraCatalogue, query: str, start: int = 1, size: int = 0) -> etree._Element:
    resp = httpx.get(
        zebra.url,
        timeout=10,
        params={
            "operation": "searchRetrieve",
            "version": "1.2",
            "query": query,
            "startRecord": start,
            "maximumRecords": size,
            "recordSchema": "marcxml",
        },
    )
    assert resp.status_code == 200
    root = etree.fromstring(resp.content)
    assert root.find(f"{SRW}diagnostics") is None, resp.text[:500]
    return root


def test_sru_number_of_records_is_what_the_generator_wrote(corpus, catalogue):
    root, manifest = corpus
    written = re.findall(
        r'<controlfield tag="001">(\d+)</controlfield>', (root / FILES["sru"]).read_text(encoding="utf-8")
    )
    answer = sru(catalogue, "cql.allRecords=1")
    assert int(answer.findtext(f"{SRW}numberOfRecords")) == manifest["records_by_partner"]["sru"] == len(written)
    got = []
    for start in range(1, len(written) + 1, 200):
        page = sru(catalogue, "cql.allRecords=1", start, 200)
        got += [cf.text for cf in page.iter(f"{MARC}controlfield") if cf.get("tag") == "001"]
    assert sorted(got) == sorted(written)


def test_sru_searches_words_ids_and_modification_dates(catalogue):
    assert int(sru(catalogue, "rec.id=1000001").findtext(f"{SRW}numberOfRecords")) == 1
    hits = int(sru(catalogue, "dc.title=Кыргызстандагы OR Кыргыз OR кыргызского").findtext(f"{SRW}numberOfRecords"))
    assert hits > 0
    assert int(sru(catalogue, 'rec.lastModificationDate>="2026-01-01"').findtext(f"{SRW}numberOfRecords")) == 0
    recent = int(
        sru(catalogue, 'cql.allRecords=1 and rec.lastModificationDate>="2024-01-01"').findtext(f"{SRW}numberOfRecords")
    )
    everything = int(sru(catalogue, "cql.allRecords=1").findtext(f"{SRW}numberOfRecords"))
    assert 0 < recent < everything


def test_registers_are_served_byte_for_byte(corpus):
    root, manifest = corpus
    files = FileServer(root).start()
    try:
        csv_resp = httpx.get(files.url(FILES["csv"]), timeout=10)
        assert csv_resp.content == (root / FILES["csv"]).read_bytes()
        assert csv_resp.text.splitlines()[0].startswith("Рег. номер,Тема диссертации,ФИО соискателя")
        jsonl = httpx.get(files.url(FILES["patents"]), timeout=10)
        lines = jsonl.text.splitlines()
        assert len(lines) == manifest["records_by_partner"]["patents"]
        assert {"patent_number", "title", "ipc", "applicants", "year"} <= set(json.loads(lines[0]))
        again = httpx.get(
            files.url(FILES["csv"]), timeout=10, headers={"If-Modified-Since": csv_resp.headers["Last-Modified"]}
        )
        assert again.status_code == 304
    finally:
        files.stop()
    assert not port_open(files.port)


def test_zebra_missing_is_explained(monkeypatch, corpus):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    from fedsearch_app.demo import zebra

    with pytest.raises(zebra.ZebraNotInstalled, match="apt-get install idzebra-2.0"):
        zebra.ZebraCatalogue(corpus[0] / FILES["sru"], corpus[0] / "z")


def test_without_zebra_the_other_partners_still_run_and_the_catalogue_is_explained(monkeypatch, corpus):
    from fedsearch_app.demo import partners as partners_module

    monkeypatch.setattr(partners_module, "zebra_installed", lambda: False)
    root, _ = corpus
    with partners_module.SamplePartners(root, root, say=lambda m: None) as running:
        ids = [s["id"] for s in running.sources()]
        assert ids == ["demo-repository", "demo-dissertations", "demo-patents"]
        assert "apt-get install idzebra-2.0" in running.missing["sru"]
        ports = running.ports_in_use()
        assert all(port_open(p) for p in ports)
    assert not any(port_open(p) for p in ports)
