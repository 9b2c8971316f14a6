"""The two metadata formats carry a work faithfully: oai_dc read back by Sickle's own parser,
marcxml read back by pymarc (the MARC library our connectors use)."""

from __future__ import annotations

import io

import pymarc
from lxml import etree

from fedsearch.record import Record
from search_api.oai.formats import marcxml, oai_dc

WORK = Record.model_validate(
    {
        "id": "vak-0123456789abcdef",
        "source": "vak",
        "source_record_id": "Д-2024-000001",
        "type": "dissertation",
        "title": [{"value": "Ысык-Көл облусунун суу ресурстары", "lang": "ky"}],
        "title_alt": [{"value": "Водные ресурсы Иссык-Кульской области", "lang": "ru"}],
        "abstract": [{"value": "Изучены ледники & реки <Тянь-Шаня>.", "lang": "ru"}],
        "authors": [{"name": "Осмонова, Айгүл", "orcid": "0000-0002-1825-0097", "affiliation": "КНУ"}],
        "contributors": [{"name": "Ким, А.", "role": "supervisor"}],
        "subjects": ["гидрология"],
        "classifications": [{"scheme": "udc", "code": "556.5"}, {"scheme": "vak", "code": "25.00.27"}],
        "year": 2018,
        "languages": ["ky", "ru"],
        "publisher": "КНУ",
        "container": {"title": "Вестник КНУ", "volume": "3", "issue": "2", "pages": "10-20"},
        "dissertation": {"degree": "кандидат географических наук", "specialty": "25.00.27", "council": "Д 25.18.577"},
        "identifiers": {"doi": ["10.1234/abc"], "isbn": ["9789967000001"], "issn": ["1694-8009"]},
        "access": "open",
        "links": [{"url": "https://repo.example.kg/f.pdf", "kind": "fulltext", "mime": "application/pdf"}],
    }
)
LANDING = "https://search.example.kg/records/vak-0123456789abcdef"


def test_marcxml_reads_back_with_pymarc():
    root = etree.Element("{http://www.loc.gov/MARC21/slim}collection")
    root.append(marcxml(WORK, LANDING))
    [rec] = pymarc.parse_xml_to_array(io.BytesIO(etree.tostring(root)))
    assert rec["001"].data == WORK.id
    assert rec["245"]["a"] == "Ысык-Көл облусунун суу ресурстары"
    assert rec["246"]["a"] == "Водные ресурсы Иссык-Кульской области"
    assert rec["100"]["a"] == "Осмонова, Айгүл" and rec["100"]["0"] == "https://orcid.org/0000-0002-1825-0097"
    assert rec["700"]["a"] == "Ким, А." and rec["700"]["e"] == "supervisor"
    assert rec["020"]["a"] == "9789967000001" and rec["022"]["a"] == "1694-8009"
    assert rec["024"]["a"] == "10.1234/abc" and rec["024"]["2"] == "doi"
    assert rec["080"]["a"] == "556.5" and rec["084"]["a"] == "25.00.27"
    assert rec["502"]["b"] == "кандидат географических наук" and rec["502"]["c"] == "Д 25.18.577"
    assert rec["520"]["a"] == "Изучены ледники & реки <Тянь-Шаня>."
    assert rec["773"]["t"] == "Вестник КНУ" and rec["773"]["g"] == "vol. 3, no. 2, pp. 10-20"
    assert [f["u"] for f in rec.get_fields("856")] == [LANDING, "https://repo.example.kg/f.pdf"]
    assert rec.leader[6:8] == "am"


def test_oai_dc_carries_every_title_identifier_and_the_access():
    dc = oai_dc(WORK, LANDING)
    ns = "{http://purl.org/dc/elements/1.1/}"

    def values(tag: str) -> list[str | None]:
        return [e.text for e in dc.iter(ns + tag)]

    assert values("title") == ["Ысык-Көл облусунун суу ресурстары", "Водные ресурсы Иссык-Кульской области"]
    assert [e.get("{http://www.w3.org/XML/1998/namespace}lang") for e in dc.iter(ns + "title")] == ["ky", "ru"]
    assert values("creator") == ["Осмонова, Айгүл"] and values("contributor") == ["Ким, А."]
    assert {LANDING, "https://doi.org/10.1234/abc", "urn:isbn:9789967000001"} <= set(values("identifier"))
    assert values("type") == ["info:eu-repo/semantics/doctoralThesis"]
    assert values("rights") == ["info:eu-repo/semantics/openAccess"]
    assert "UDC 556.5" in values("subject") and values("language") == ["ky", "ru"]
    assert values("source")[0] == "Вестник КНУ, vol. 3, no. 2, pp. 10-20"
