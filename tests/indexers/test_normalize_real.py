"""Normalizers on records captured from real partners (../shared/fixtures/real, see SOURCES.md)."""

from __future__ import annotations

from fedsearch.record import Access, DatePrecision, RecordType, make_record_id
from indexers.normalize import normalize, normalize_with_warnings

# ------------------------------------------------------------------ oai_dc


def test_zenodo_oai_dc(oai, source):
    (raw,) = oai("oai-zenodo-getrecord-oai_dc.xml")
    record, warnings = normalize_with_warnings(raw, source)
    assert record.id == make_record_id("repo", "oai:zenodo.org:10357859")
    assert record.main_title == "Research Data Management Organiser (RDMO)"
    assert [a.family for a in record.authors][:3] == ["Klar", "Michaelis", "Wallace"]
    assert record.authors[6].family == "Martínez Muñoz" and record.authors[6].given == "David"
    # The DOI comes from the resolver URL; the related concept DOI in dc:relation is not this record's.
    assert record.identifiers.doi == ["10.5281/zenodo.10357859"]
    assert record.source_url == "https://doi.org/10.5281/zenodo.10357859"
    assert (record.year, record.date, record.date_precision) == (2023, "2023-12-11", DatePrecision.day)
    assert record.access is Access.open  # info:eu-repo/semantics/openAccess
    assert record.type is RecordType.other  # info:eu-repo/semantics/other: known, so no warning
    assert not any(w.startswith("unknown type") for w in warnings)
    # Zenodo escapes the HTML twice; the abstract becomes plain text.
    abstract = record.abstract[0].value
    assert abstract.startswith("RDMO 2.1.0 (Dec 11, 2023)")
    assert "<" not in abstract and "&lt;" not in abstract and "&amp;" not in abstract
    assert record.publisher == "Zenodo"
    assert record.institution == "Test University"  # from the source, the record names none
    assert record.updated_at is not None and record.updated_at.year == 2023


def test_cyberleninka_russian_records(oai, source):
    raws = oai("oai-cyberleninka-listrecords-oai_dc-russian-truncated.xml")
    records = [normalize(r, source) for r in raws]
    assert len(records) == 15
    first = records[0]
    assert first.main_title == "О ВЫЧИСЛЕНИИ ПОСТОЯННЫХ, ВХОДЯЩИХ В ОЦЕНКИ ЛИНЕЙНЫХ ФОРМ"  # kept as given
    assert (first.authors[0].family, first.authors[0].given) == ("ИВАНКОВ", "П.Л.")
    assert first.type is RecordType.article  # rdf:type bibo:AcademicArticle; dc:type "text" says nothing
    assert first.identifiers.issn == ["0021-3446", "2076-4626"]
    assert first.container.title == "ИЗВЕСТИЯ ВЫСШИХ УЧЕБНЫХ ЗАВЕДЕНИЙ. МАТЕМАТИКА"
    assert (first.container.issue, first.container.pages) == ("1", "31-36")
    assert first.languages == ["ru"] and first.language_detected
    assert first.access is Access.free  # a full-text link, no licence
    assert first.links[0].kind == "fulltext"
    assert all("article_covers" not in link.url for r in records for link in r.links)  # thumbnails dropped

    second = records[1]
    assert second.subjects[:3] == ["БОЛЬШЕБЕРЦОВАЯ КОСТЬ", "ОСТЕОНЕКРОЗ", "РАННЯЯ НЕКРЭКТОМИЯ"]
    assert len(second.subjects) == 8
    assert [a.lang for a in second.abstract] == ["ru", "en"]
    assert second.authors[0].family == "РЫБДЫЛОВ" and second.authors[0].given == "ДАНЗАН ДОРЖИЕВИЧ"
    assert all(r.year for r in records)


def test_eprints_doi_licence_and_pdf(oai, source):
    raws = oai("oai-eprints-lshtm-listrecords-oai_dc-with-deleted-truncated.xml")
    records = [normalize(r, source) for r in raws]
    assert len(records) == 9  # ten records, one deleted
    first = records[0]
    assert first.identifiers.doi == ["10.1212/nxi.0000000000000158"]  # bare DOI from dc:relation
    assert first.access is Access.open  # "cc_by_nc_nd"
    assert first.links[0].kind == "fulltext" and first.links[0].url.endswith(".pdf")
    assert first.languages == ["en"] and not first.language_detected
    altmann = first.authors[2]
    assert (altmann.family, altmann.given) == ("Altmann", "DR")  # initials, not a "Dr." title
    # The citation in dc:identifier is not mistaken for an identifier.
    assert first.identifiers.other == []


def test_dspace_handles_isbn_and_dates(oai, source):
    raws = oai("oai-dspace-2003-erasmus-listrecords-oai_dc.xml")
    record, warnings = normalize_with_warnings(raws[0], source)
    assert record.identifiers.handle == ["1765/308"]
    assert record.identifiers.isbn == ["9789058920362"]  # from ISBN-10 90-5892-036-4
    assert record.source_url == "https://hdl.handle.net/1765/308"
    assert record.contributors[0].name == "Smidts, A." and record.contributors[0].role == "contributor"
    assert record.date == "2003-04-15"
    # dc:language "other" names no language: the Dutch text is recognized instead.
    assert record.languages == ["nl"] and record.language_detected
    assert "language guessed from the text: nl" in warnings
    assert record.title[0].lang == "nl"
    assert [a.lang for a in record.abstract] == ["nl", "en"]


def test_ugent_embargo_and_inverted_double_names(oai, source):
    raws = oai("oai-librecat-ugent-listrecords-oai_dc-complete-list-token-truncated.xml")
    by_title = {r.main_title: r for r in (normalize(x, source) for x in raws)}
    thesis = by_title["Towards a sociology of nursing: an ethnography in Chile"]
    assert [a.name for a in thesis.authors] == ["Ayala Valenzuela, Ricardo Alexis"]
    assert thesis.access is Access.restricted  # info:eu-repo/semantics/embargoedAccess
    plastics = by_title[
        "Characterization of barrier properties and temperature resistance of biobased plastics for food packaging"
    ]
    assert plastics.identifiers.isbn == ["9789059898011"]  # urn:isbn:


def test_datacite_oai_dc_lowercases_dois_and_skips_embargo_dates(oai, source):
    raws = oai("oai-datacite-2015-listrecords-oai_dc-truncated.xml")
    records = [normalize(r, source) for r in raws]
    dois = [d for r in records for d in r.identifiers.doi]
    assert "10.5062/f43j39xh" in dois
    assert all(d == d.lower() for d in dois)
    assert all(r.year is None or r.year < 2018 for r in records)  # embargoEnd/2018 is no publication date


# ------------------------------------------------------------------ DataCite


def test_zenodo_datacite(oai, source):
    (raw,) = oai("oai-zenodo-getrecord-datacite.xml", "datacite")
    record = normalize(raw, source)
    assert record.main_title == "Research Data Management Organiser (RDMO)"
    assert record.authors[0].orcid == "0000-0002-5883-4273"
    assert record.authors[1].orcid == "0000-0002-5282-703X"
    assert record.authors[6].orcid is None
    assert record.identifiers.doi == ["10.5281/zenodo.10357859"]
    assert record.type is RecordType.other  # resourceTypeGeneral Software
    assert record.access is Access.open
    assert record.year == 2023
    assert record.abstract[0].value.startswith("RDMO 2.1.0")


# ------------------------------------------------------------------ MARC 21


def test_rsl_marcxml_multipart_book(raw_file, source):
    record = normalize(raw_file("marcxml-rsl-rumorgb-002988236-cyrillic-collection.xml", "marcxml"), source)
    assert record.main_title.startswith("История XVIII столетия, или Обстоятельное описание всех важнейших")
    assert "\n" not in record.main_title and "  " not in record.main_title
    assert (record.year, record.date, record.date_precision) == (1804, "1804/1807", DatePrecision.range)
    assert record.languages == ["ru"]
    assert record.type is RecordType.book
    assert record.authors == []
    assert [(c.family, c.role) for c in record.contributors] == [
        ("Озеров", "translator"),
        ("Паренаго", "translator"),
        ("Дмитревский", "translator"),
    ]
    assert record.publisher == "В типографии С. Селивановскаго"


def test_rsl_marcxml_print_with_bbk_and_broken_008(raw_file, source):
    record = normalize(raw_file("marcxml-rsl-rumorgb-006643617-cyrillic-record-no-xmldecl.xml", "marcxml"), source)
    assert (
        record.main_title == 'Разбитие японского отряда казаками : Телеграмма, полученная газетой "Daily Telegraph"...'
    )
    assert [(c.scheme, c.code) for c in record.classifications] == [("bbk", "Щ8-1(2)522")]
    assert record.type is RecordType.other  # leader/06 k: a picture (a lubok)
    assert record.container.title == "Война России с Японией"
    assert record.year == 1904
    assert "Казачество" in record.subjects


def test_rsl_marcxml_pdf_link_and_host(raw_file, source):
    record = normalize(raw_file("marcxml-rsl-rumorgb-003345174-mixed-prefix-collection.xml", "marcxml"), source)
    assert record.main_title == "за 1906 год"
    assert record.links[0].kind == "fulltext" and record.links[0].mime == "application/pdf"
    assert record.access is Access.free
    assert record.container.title.startswith("Отчет Государственного контроля")
    assert "[Текст]" not in record.container.title
    assert record.year == 1907
    assert [(c.scheme, c.code) for c in record.classifications] == [("bbk", "У03(2)530.261.38-04")]


def test_bibsys_marcxchange(oai, source):
    raws = oai("oai-bibsys-listrecords-marcxchange.xml", "marcxchange")
    records = [normalize(r, source) for r in raws]
    assert len(records) == len(raws) == 7
    first = records[0]
    assert first.main_title == "Sprøytvarsel : vitenskapelige feil og antivitenskapelig tøv i media"
    assert first.identifiers.isbn == ["9788200424420"]  # ISBN-10 8200424421
    assert first.languages == ["nb"]
    assert first.type is RecordType.book and first.year == 1998
    assert ("udc", "001.3") in [(c.scheme, c.code) for c in first.classifications]
    assert ("ddc", "070.4") in [(c.scheme, c.code) for c in first.classifications]
    assert first.authors[0].name == "Ystenes, Martin"


# ------------------------------------------------------------------ RUSMARC


def test_nlr_rusmarc(raw_file, source):
    raw = raw_file("rusmarc-marcxml-rnb-NLR005177748-cyrillic.xml", "rusmarc", local_id="v19\\rc\\2104622")
    record, warnings = normalize_with_warnings(raw, source)
    assert record.main_title.startswith("История XVIII столетия или Обстоятельное описание")
    assert record.main_title.endswith(": Пер. с нем. Ч. 1")
    assert [(a.family, a.given) for a in record.authors] == [
        ("Штефер", "Дитрих Генрих"),
        ("Штефер", "Иоганн Герман"),
        ("Фосс", "Кристиан Даниель"),
    ]
    assert (record.year, record.date, record.date_precision) == (1805, "1805/1807", DatePrecision.range)
    assert record.languages == ["ru"]  # 101$c (translated from German) is not the item's language
    assert any(t.value.startswith("История восемнадцатого столетия") for t in record.title_alt)
    assert record.publisher == "тип. Селивановского"
    assert record.type is RecordType.book
    assert warnings == []


def test_rusmarc_sent_as_marcxml_is_recognized(raw_file, source):
    raw = raw_file("rusmarc-marcxml-rnb-NLR005177748-cyrillic.xml", "marcxml")
    record, warnings = normalize_with_warnings(raw, source)
    assert record.authors[0].family == "Штефер"
    assert any("read as UNIMARC" in w for w in warnings)
