"""Payloads cut from the page bytes (connectors/oaipmh/slices.py) are the same XML as lxml's re-serialization.

Checked on every well-formed ListRecords page among the captured real partner responses and on the
benchmark's generated pages; and the cases where slicing must give way to serializing.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from connectors import xmlsafe
from connectors.oaipmh.slices import cut_metadata


def _canonical(payload: bytes) -> bytes:
    return etree.tostring(xmlsafe.parse(payload), method="c14n", exclusive=True)


def _records(body: bytes) -> tuple[etree._Element, list[etree._Element]]:
    root = xmlsafe.parse(body)
    return root, list(root.iterfind("{*}ListRecords/{*}record"))


def _first_child(record: etree._Element) -> etree._Element | None:
    meta = record.find("{*}metadata")
    return None if meta is None else next((c for c in meta if isinstance(c.tag, str)), None)


def _check_page(body: bytes) -> int:
    """Compare every sliced payload with the serialized one; the number compared (0: page not sliced)."""
    root, records = _records(body)
    sliced = cut_metadata(body, root, records)
    if sliced is None:
        return 0
    assert len(sliced) == len(records)
    compared = 0
    for rec, payload in zip(records, sliced, strict=True):
        child = _first_child(rec)
        if child is None:
            assert payload is None
            continue
        assert payload is not None
        assert _canonical(payload) == _canonical(xmlsafe.serialize(child))
        compared += 1
    return compared


def _listrecords_pages(real_fixtures: Path) -> list[bytes]:
    pages = []
    for path in sorted(real_fixtures.glob("oai-*listrecords*.xml")):
        body = path.read_bytes()
        try:
            xmlsafe.parse(body)
        except xmlsafe.BadXML:
            continue  # truncated captures: salvaged record by record, never sliced
        pages.append(body)
    return pages


def test_real_partner_pages_slice_to_the_same_xml(real_fixtures: Path) -> None:
    pages = _listrecords_pages(real_fixtures)
    assert len(pages) >= 5
    compared = sum(_check_page(body) for body in pages)
    # oai_dc, MARCXML, marcxchange, DIDL from DSpace, EPrints, Zenodo, Invenio...: all 24 pages slice.
    assert compared >= 150


def test_benchmark_pages_slice_to_the_same_xml() -> None:
    from bench.oai_pages import build_pages

    pages = build_pages(60, 30)
    assert sum(_check_page(body) for body in pages) == 60


PAGE = b"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<responseDate>2026-01-01T00:00:00Z</responseDate><ListRecords>
<record><header><identifier>a</identifier></header><metadata>
  <oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"><dc:title a='1'>T &amp; &#1050;</dc:title>BODY</oai_dc:dc>
</metadata></record>
<record><header status="deleted"><identifier>b</identifier></header></record>
</ListRecords></OAI-PMH>
"""


def test_inherited_namespaces_are_declared_on_the_payload() -> None:
    body = PAGE.replace(b"BODY", b"")
    root, records = _records(body)
    sliced = cut_metadata(body, root, records)
    assert sliced is not None and sliced[1] is None
    payload = sliced[0]
    assert payload is not None
    assert b'xmlns:dc="http://purl.org/dc/elements/1.1/"' in payload  # declared on the envelope only
    assert b"xmlns=" not in payload  # the OAI default namespace is not used inside
    assert xmlsafe.parse(payload).findtext("{http://purl.org/dc/elements/1.1/}title") == "T & \u041a"
    assert _check_page(body) == 1


@pytest.mark.parametrize(
    "body",
    [
        PAGE.replace(b"BODY", b"<!-- </metadata> -->"),  # a comment could hide a tag
        PAGE.replace(b"BODY", b"<dc:x><![CDATA[</metadata>]]></dc:x>"),  # so could CDATA
        PAGE.replace(b"BODY", b"").replace(b"</oai_dc:dc>\n", b"</oai_dc:dc><dc:extra/>\n"),  # two payloads
        PAGE.replace(b"BODY", b"").replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"'),  # not UTF-8
    ],
    ids=["comment", "cdata", "two-children", "latin1"],
)
def test_pages_that_cannot_be_sliced_safely_are_left_to_the_serializer(body: bytes) -> None:
    root, records = _records(body)
    assert cut_metadata(body, root, records) is None


def test_an_unprefixed_payload_gets_the_default_namespace_it_inherits() -> None:
    body = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>'
        b"<record><header><identifier>a</identifier></header><metadata><dc><title>x</title></dc></metadata>"
        b"</record></ListRecords></OAI-PMH>"
    )
    root, records = _records(body)
    sliced = cut_metadata(body, root, records)
    assert sliced is not None and sliced[0] is not None
    assert sliced[0].startswith(b'<dc xmlns="http://www.openarchives.org/OAI/2.0/">')
    assert _check_page(body) == 1
