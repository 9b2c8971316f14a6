"""The SRU server at /sru, asked by real clients: sruthi (PyPI, SRU 1.2), Debian's yaz-client
(1.2 and 2.0), and plain HTTP for the diagnostics, on both engines. Expected hits come from
the corpus itself (tests/corpus.py)."""

from __future__ import annotations

import shutil
import subprocess

import httpx
import pytest
import sruthi
from lxml import etree

from tests.corpus import CORPUS, rid
from tests.search_api.conftest import Live

SRW = "http://www.loc.gov/zing/srw/"
SRU2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
DIAG12 = "http://www.loc.gov/zing/srw/diagnostic/"
DIAG20 = "http://docs.oasis-open.org/ns/search-ws/diagnostic"
DC = "http://purl.org/dc/elements/1.1/"
MARC = "http://www.loc.gov/MARC21/slim"


def ids_of(live: Live, query: str) -> list[str]:
    """Every record a query finds, through sruthi's paging (7 a page), as record ids."""
    found = sruthi.searchretrieve(f"{live.base}/sru", query=query, maximum_records=7, record_schema="dc")
    out = []
    for record in found:
        ident = _find(record, "identifier")  # sruthi flattens the record data into dicts its own way
        first = ident[0] if isinstance(ident, list) else ident
        out.append(first.rsplit("/", 1)[-1])
    assert len(out) == found.count
    return out


def _find(data: dict, key: str):
    if key in data:
        return data[key]
    for value in data.values():
        if isinstance(value, dict) and (found := _find(value, key)) is not None:
            return found
    return None


def get(live: Live, **params: str) -> etree._Element:
    r = httpx.get(f"{live.base}/sru", params=params, timeout=30)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    return etree.fromstring(r.content)


def diagnostic(root: etree._Element) -> str:
    uri = root.find(f".//{{{DIAG12}}}uri")
    if uri is None:
        uri = root.find(f".//{{{DIAG20}}}uri")
    assert uri is not None, etree.tostring(root)
    return uri.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('dc.title all "climate change"', {"oai:auca:10"}),
        ('dc.title any "climate change"', {"oai:auca:10", "oai:auca:11", "oai:auca:12"}),
        ('dc.title adj "climate change"', {"oai:auca:10"}),
        ('dc.title adj "change climate"', set()),
        ("dc.creator = smith", {"oai:auca:10", "oai:auca:11"}),
        ("bath.isbn = 9789967000001", {"marc:100"}),
        ('dc.identifier exact "10.1234/ca.2021.7"', {"oai:auca:10"}),  # quoted: "/" starts a modifier
        ("(dc.title = water or dc.title = glacier) and dc.date = 2012", {"oai:auca:13", "oai:auca:14"}),
        ("dc.title = glaci*", {"oai:auca:11"}),
        ("dc.subject = ecology not dc.creator = lee", set()),
        ('"water resources" and dc.date < 2013', {"oai:auca:13", "oai:auca:14"}),
        ('"water resources" and dc.date < 2012', set()),
        ('creator any "brown lee"', {"oai:auca:12", "oai:knu:4", "oai:knu:5"}),  # no context set: Dublin Core's
    ],
)
def test_cql_finds_what_the_corpus_holds(live: Live, query: str, expected: set[str]) -> None:
    assert set(ids_of(live, query)) == {rid(x) for x in expected}


def test_date_ranges_and_paging_cover_the_corpus(live: Live) -> None:
    newer = ids_of(live, "dc.date > 2020")
    assert sorted(newer) == sorted(r.id for r in CORPUS if r.year and r.year > 2020)
    everything = ids_of(live, "cql.allRecords = 1")  # several pages of 7
    assert sorted(everything) == sorted(r.id for r in CORPUS)
    older = ids_of(live, "dc.date <= 2005 or dc.date >= 2022")
    assert sorted(older) == sorted(r.id for r in CORPUS if r.year and (r.year <= 2005 or r.year >= 2022))


def test_start_record_and_sortby(live: Live) -> None:
    root = get(
        live,
        version="1.2",
        operation="searchRetrieve",
        query="cql.allRecords = 1 sortby dc.date/sort.descending",
        startRecord="3",
        maximumRecords="4",
    )
    positions = [int(p.text) for p in root.iterfind(f".//{{{SRW}}}recordPosition")]
    assert positions == [3, 4, 5, 6]
    assert root.findtext(f"{{{SRW}}}nextRecordPosition") == "7"
    years = [int(d.text) for d in root.iterfind(f".//{{{DC}}}date")]
    newest = sorted((r.year for r in CORPUS if r.year), reverse=True)
    assert years == newest[2:6]


def test_sru_2_0_and_marcxml(live: Live) -> None:
    root = get(live, query="bath.isbn = 978-9967-00-000-1", recordSchema="marcxml")  # no version: 2.0
    assert root.tag == f"{{{SRU2}}}searchRetrieveResponse"
    assert root.findtext(f"{{{SRU2}}}numberOfRecords") == "1"
    assert root.findtext(f".//{{{SRU2}}}recordXMLEscaping") == "xml"
    marc = root.find(f".//{{{MARC}}}record")
    book = CORPUS[[r.id for r in CORPUS].index(rid("marc:100"))]
    assert marc.findtext(f"{{{MARC}}}controlfield[@tag='001']") == book.id
    assert marc.findtext(f"{{{MARC}}}datafield[@tag='245']/{{{MARC}}}subfield[@code='a']") == book.main_title
    assert marc.findtext(f"{{{MARC}}}datafield[@tag='020']/{{{MARC}}}subfield[@code='a']") == "9789967000001"


def test_untrusted_titles_come_back_as_text_even_packed_as_string(live: Live) -> None:
    root = get(live, version="1.2", operation="searchRetrieve", query="dc.title = script", recordPacking="string")
    data = root.findtext(f".//{{{SRW}}}recordData")
    inner = etree.fromstring(data.encode())
    assert inner.findtext(f"{{{DC}}}title") == "<script>alert(1)</script> Экология"


def test_explain_in_both_versions(live: Live) -> None:
    for params, ns in (({"version": "1.2", "operation": "explain"}, SRW), ({}, SRU2)):
        root = get(live, **params)
        assert root.tag == f"{{{ns}}}explainResponse"
        names = {(n.get("set"), n.text) for n in root.iter("{http://explain.z3950.org/dtd/2.0/}name")}
        assert {("dc", "title"), ("dc", "creator"), ("bath", "isbn"), ("cql", "serverChoice")} <= names
    info = sruthi.explain(f"{live.base}/sru")
    assert info.database["title"] == "fedsearch" and set(info.schema) == {"dc", "marcxml"}
    assert info.index["bath"] == {"isbn": "ISBN"}


@pytest.mark.parametrize(
    ("params", "number"),
    [
        ({"query": "dc.foo = x"}, 16),
        ({"query": "foo.title = x"}, 15),
        ({"query": "dc.title < x"}, 19),
        ({"query": "dc.title =/stem x"}, 20),
        ({"query": 'dc.title = ""'}, 27),
        ({"query": "dc.title = a*b"}, 28),
        ({"query": "dc.date = soon"}, 36),
        ({"query": "a prox b"}, 37),
        ({"query": "a and"}, 10),
        ({"query": "x", "recordSchema": "mods"}, 66),
        ({"query": "x", "startRecord": "0"}, 6),
        ({"query": "cql.allRecords = 1", "startRecord": "999"}, 61),
        ({"query": "x", "recordXMLEscaping": "base64"}, 71),
        ({"query": "x", "sortKeys": "title"}, 80),
        ({"query": "x", "bogus": "1"}, 8),
        ({"operation": "searchRetrieve", "version": "1.2"}, 7),
        ({"operation": "scan", "version": "1.2", "scanClause": "x"}, 8),
        ({"operation": "scan", "version": "1.2"}, 4),
        ({"version": "3.0", "query": "x"}, 5),
    ],
)
def test_diagnostics_carry_the_standard_uris(live: Live, params: dict[str, str], number: int) -> None:
    assert diagnostic(get(live, **params)) == f"info:srw/diagnostic/1/{number}"


def test_diagnostics_in_the_1_2_schema(live: Live) -> None:
    root = get(live, version="1.2", operation="searchRetrieve", query="dc.foo = x")
    assert root.tag == f"{{{SRW}}}searchRetrieveResponse"
    assert root.find(f".//{{{DIAG12}}}diagnostic/{{{DIAG12}}}details").text == "dc.foo"
    with pytest.raises(sruthi.errors.SruError, match="Unsupported index"):
        list(sruthi.searchretrieve(f"{live.base}/sru", query="dc.foo = x"))


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_yaz_client(live: Live, version: str) -> None:
    if shutil.which("yaz-client") is None:
        pytest.fail("yaz-client is not installed: apt-get install yaz", pytrace=False)
    script = (
        f'open {live.base}/sru\nsru get {version}\nfind dc.title all "climate change"\nshow 1\n'
        "schema marcxml\nfind dc.creator = smith\nshow 1\nfind dc.foo = x\nquit\n"
    )
    out = subprocess.run(["yaz-client"], check=False, input=script, capture_output=True, text=True, timeout=60).stdout
    assert "Number of hits: 1" in out and "Climate change in Central Asia" in out
    assert "Number of hits: 2" in out and 'controlfield tag="001"' in out
    assert "info:srw/diagnostic/1/16" in out


def test_the_widest_date_ranges(live: Live) -> None:
    dated = sorted(r.id for r in CORPUS if r.year)
    assert sorted(ids_of(live, "dc.date > 1000")) == dated
    assert sorted(ids_of(live, "dc.date >= 1000 and dc.date <= 2100")) == dated
    assert ids_of(live, "dc.date > 2100 or dc.date < 1000") == []
