"""Normalizers on records made here for cases the captured ones lack: unsafe XML, ISO 2709
in UTF-8 and Windows-1251, IRBIS-style RUSMARC, spreadsheets, Kyrgyz text."""

from __future__ import annotations

import json

import pytest

from connectors.base import RawRecord
from fedsearch.config import SourceConfig
from fedsearch.record import Access, DatePrecision, RecordType
from indexers.normalize import NormalizationError, normalize, normalize_with_warnings
from indexers.normalize.tabular import mapping_problems

DC = '<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">{}</oai_dc:dc>'


def dc(body: str, local_id: str = "oai:x:1") -> RawRecord:
    return RawRecord(local_id=local_id, format="oai_dc", payload=DC.format(body).encode())


# ------------------------------------------------------------------ refusals


def test_doctype_and_entities_are_refused(source):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
        + DC.format("<dc:title>&lol2;</dc:title>").encode()
    )
    with pytest.raises(NormalizationError, match="DOCTYPE"):
        normalize(RawRecord(local_id="x", format="oai_dc", payload=bomb), source)
    external = b'<!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]><r>&e;</r>'
    with pytest.raises(NormalizationError, match="DOCTYPE"):
        normalize(RawRecord(local_id="x", format="marcxml", payload=external), source)


@pytest.mark.parametrize(
    "raw, reason",
    [
        (dc("<dc:creator>Smith, J.</dc:creator><dc:date>2019</dc:date>"), "no title"),
        (dc("<dc:title>   </dc:title>"), "no title"),
        (RawRecord(local_id="x", format="oai_dc", payload=b"<oai_dc:dc><dc:title>x</oai_dc:dc>"), "not well-formed"),
        (RawRecord(local_id="x", format="oai_dc", payload=b"%PDF-1.4"), "not XML"),
        (RawRecord(local_id="x", format="oai_dc", payload=b""), "empty"),
        (RawRecord(local_id="x", format="mods", payload=b"<mods/>"), "unknown raw format 'mods'"),
        (RawRecord(local_id="x", format="oai_dc", payload=b"<a/>", deleted=True), "deleted"),
        (RawRecord(local_id="x", format="marc21", payload=b"not a marc record at all"), "ISO 2709"),
        (RawRecord(local_id="x", format="tabular", payload=b"[1, 2]"), "JSON object"),
    ],
)
def test_records_that_cannot_be_normalized(raw, reason, source):
    with pytest.raises(NormalizationError, match=reason):
        normalize(raw, source)


# ------------------------------------------------------------------ Dublin Core details


def test_dc_warnings_for_the_mapping_preview(source):
    record, warnings = normalize_with_warnings(
        dc("<dc:title>Манас эпосу</dc:title><dc:type>Gizmo</dc:type><dc:language>xx-lang</dc:language>"), source
    )
    assert record.type is RecordType.other and record.year is None and record.languages == []
    assert "unknown type: 'Gizmo'" in warnings
    assert "no year" in warnings
    assert "unknown language 'xx-lang'" in warnings
    assert any(w.startswith("no language") for w in warnings)


def test_dc_languages_titles_and_kyrgyz_detection(source):
    record = normalize(
        dc(
            '<dc:title xml:lang="ky">Ысык-Көл көлүнүн экологиясы</dc:title>'
            '<dc:title xml:lang="ru">Экология озера Иссык-Куль</dc:title>'
            "<dc:description>Макалада Ысык-Көл көлүнүн экологиялык абалы жана аны коргоонун жолдору каралат.</dc:description>"
            "<dc:date>2020</dc:date><dc:type>info:eu-repo/semantics/article</dc:type>"
        ),
        source,
    )
    assert record.main_title == "Ысык-Көл көлүнүн экологиясы" and record.title[0].lang == "ky"
    assert [(t.value, t.lang) for t in record.title_alt] == [("Экология озера Иссык-Куль", "ru")]
    assert record.languages == ["ky"] and record.language_detected
    assert record.abstract[0].lang == "ky"


def test_dc_identifiers_classifications_and_rights(source):
    record, warnings = normalize_with_warnings(
        dc(
            "<dc:title>Plough for mountain slopes</dc:title>"
            "<dc:identifier>ISBN 978-5-02-013850-0</dc:identifier>"
            "<dc:identifier>https://repo.kg/files/plough.pdf</dc:identifier>"
            "<dc:identifier>https://doi.org/10.1234/ABC.5</dc:identifier>"
            "<dc:subject>УДК 631.31</dc:subject><dc:subject>ГРНТИ 68.85.35</dc:subject><dc:subject>tillage</dc:subject>"
            "<dc:rights>info:eu-repo/semantics/restrictedAccess</dc:rights>"
            "<dc:date>[199-?]</dc:date><dc:language>eng</dc:language>"
        ),
        source,
    )
    assert record.identifiers.isbn == [] and record.identifiers.other == ["isbn:978-5-02-013850-0"]
    assert any("invalid ISBN" in w for w in warnings)
    assert record.identifiers.doi == ["10.1234/abc.5"]
    assert [(c.scheme, c.code) for c in record.classifications] == [("udc", "631.31"), ("grnti", "68.85.35")]
    assert record.subjects == ["tillage"]
    assert record.access is Access.restricted  # the statement wins over the PDF link
    assert record.links[0].kind == "fulltext"
    assert (record.year, record.date, record.date_precision) == (None, "199X", DatePrecision.decade)


def test_dc_over_long_abstract_is_cut_not_refused(source):
    record = normalize(dc("<dc:title>T</dc:title><dc:description>" + "word " * 6000 + "</dc:description>"), source)
    assert len(record.abstract[0].value) <= 20_000 and record.abstract[0].value.endswith("…")


# ------------------------------------------------------------------ ISO 2709


def iso2709(leader: str, fields: list[tuple[str, str, list[tuple[str, str]] | str]], encoding: str) -> bytes:
    """A minimal ISO 2709 writer: (tag, indicators, subfields or control value)."""
    directory, data = b"", b""
    for tag, indicators, content in fields:
        if isinstance(content, str):
            body = content.encode(encoding) + b"\x1e"
        else:
            body = (
                indicators.encode() + b"".join(b"\x1f" + c.encode() + v.encode(encoding) for c, v in content) + b"\x1e"
            )
        directory += f"{tag}{len(body):04d}{len(data):05d}".encode()
        data += body
    base = 24 + len(directory) + 1
    total = base + len(data) + 1
    head = f"{total:05d}{leader[5:12]}{base:05d}{leader[17:]}".encode()
    return head + directory + b"\x1e" + data + b"\x1d"


def test_marc21_iso2709_utf8(source):
    payload = iso2709(
        "00000nam a2200000 i 4500",
        [
            ("001", "", "kg-000123"),
            ("008", "", "190305s2019    kz            000 0 rus d"),
            ("020", "  ", [("a", "9967-11-852-0 (pbk.)")]),
            ("041", "0 ", [("a", "rus"), ("a", "kir")]),
            ("080", "  ", [("a", "556.5")]),
            ("100", "1 ", [("a", "Мамбетов, Канатбек Бейшеевич,"), ("e", "автор")]),
            (
                "245",
                "10",
                [
                    ("a", "Водные ресурсы Кыргызской Республики :"),
                    ("b", "использование и охрана /"),
                    ("c", "К. Б. Мамбетов"),
                ],
            ),
            ("264", " 1", [("a", "Бишкек :"), ("b", "Илим,"), ("c", "2019.")]),
            ("502", "  ", [("a", "Дис. ... канд. геогр. наук")]),
            ("650", " 7", [("a", "Водные ресурсы"), ("z", "Кыргызстан")]),
            ("700", "1 ", [("a", "Асанов, Б."), ("4", "ths")]),
            ("856", "40", [("u", "https://lib.kg/files/123.pdf")]),
        ],
        "utf-8",
    )
    record = normalize(RawRecord(local_id="kg-000123", format="marc21", payload=payload), source)
    assert record.main_title == "Водные ресурсы Кыргызской Республики : использование и охрана"
    assert record.identifiers.isbn == ["9789967118522"]
    assert record.languages == ["ru", "ky"]
    assert record.authors[0].family == "Мамбетов"
    assert record.contributors[0].role == "supervisor"
    assert record.type is RecordType.dissertation  # the 502 note
    assert record.subjects == ["Водные ресурсы -- Кыргызстан"]
    assert record.classifications[0].code == "556.5"
    assert (record.year, record.publisher) == (2019, "Илим")
    assert record.access is Access.free


def test_rusmarc_iso2709_windows1251_irbis_style(source):
    payload = iso2709(
        "00000nam0 2200000   450 ",
        [
            ("001", "", "RU\\IRBIS\\555"),
            ("010", "  ", [("a", "978-9967-03-045-9"), ("d", "200 сом")]),
            ("100", "  ", [("a", "20180101d2018    u  y0rusy50      ca")]),
            ("101", "0 ", [("a", "kir")]),
            ("200", "1 ", [("a", "Кыргыз тилинин грамматикасы"), ("e", "окуу куралы"), ("f", "С. Кудайбергенов")]),
            ("210", "  ", [("a", "Бишкек"), ("c", "Мектеп"), ("d", "2018")]),
            ("330", "  ", [("a", "Китепте кыргыз тилинин морфологиясы жана синтаксиси баяндалат.")]),
            ("606", "  ", [("a", "Кыргыз тили"), ("x", "Грамматика")]),
            ("610", "0 ", [("a", "морфология"), ("a", "синтаксис")]),
            ("675", "  ", [("a", "811.512.154")]),
            ("686", "  ", [("a", "16.21.47")]),
            ("700", " 1", [("a", "Кудайбергенов"), ("b", "С."), ("g", "Сапар")]),
            ("856", "4 ", [("u", "http://lib.kg/irbis/555.pdf")]),
        ],
        "cp1251",
    )
    record = normalize(RawRecord(local_id="RU\\IRBIS\\555", format="rusmarc", payload=payload), source)
    assert record.main_title == "Кыргыз тилинин грамматикасы : окуу куралы"
    assert record.authors[0].name == "Кудайбергенов, Сапар"
    assert record.identifiers.isbn == ["9789967030459"]
    assert record.languages == ["ky"] and record.year == 2018
    assert {(c.scheme, c.code) for c in record.classifications} == {("udc", "811.512.154"), ("grnti", "16.21.47")}
    assert record.subjects == ["Кыргыз тили -- Грамматика", "морфология", "синтаксис"]
    assert record.abstract[0].value.startswith("Китепте кыргыз тилинин")
    assert record.type is RecordType.book and record.publisher == "Мектеп"
    assert record.links[0].url == "http://lib.kg/irbis/555.pdf"


def test_unimarc_dissertation_and_analytic(source):
    diss = iso2709(
        "00000nam0 2200000   450 ",
        [
            ("200", "1 ", [("a", "Экономика сельского хозяйства Чуйской долины")]),
            ("210", "  ", [("d", "2015")]),
            ("328", "  ", [("a", "Дис. ... канд. экон. наук"), ("e", "НАН КР")]),
            ("700", " 1", [("a", "Токтогулов"), ("b", "Б. Ж.")]),
        ],
        "utf-8",
    )
    record = normalize(RawRecord(local_id="d1", format="unimarc", payload=diss), source)
    assert record.type is RecordType.dissertation and record.institution == "НАН КР"
    article = iso2709(
        "00000naa0 2200000   450 ",
        [
            ("200", "1 ", [("a", "Ледники Тянь-Шаня")]),
            ("210", "  ", [("d", "2018")]),
            (
                "463",
                " 1",
                [
                    ("1", "2001 "),
                    ("a", "Вестник КНУ"),
                    ("1", "011  "),
                    ("a", "1694-8033"),
                    ("v", "Т. 3, № 2. С. 15-20"),
                ],
            ),
        ],
        "utf-8",
    )
    record = normalize(RawRecord(local_id="a1", format="rusmarc", payload=article), source)
    assert record.type is RecordType.article
    assert record.container.title == "Вестник КНУ"
    assert (record.container.volume, record.container.issue, record.container.pages) == ("3", "2", "15-20")


# ------------------------------------------------------------------ tabular


def tabular_source(**options) -> SourceConfig:
    return SourceConfig(id="vak", connector="tabular", institution="ВАК КР", **options)


def row(**columns) -> RawRecord:
    return RawRecord(
        local_id=str(columns.get("№", "1")), format="tabular", payload=json.dumps(columns, ensure_ascii=False).encode()
    )


def test_tabular_mapping_record_field_to_column():
    source = tabular_source(
        mapping={
            "title.ru": "Тема",
            "title.ky": "Тема (кырг.)",
            "authors": "Соискатель",
            "contributors.supervisor": "Научный руководитель",
            "year": "Год",
            "classifications.vak": "Шифр",
            "identifiers.isbn": "ISBN",
            "institution": "Совет",
            "fulltext_url": "Файл",
            "access": "Доступ",
            "subjects": "Ключевые слова",
        },
        id_column="№",
        type="dissertation",
    )
    record, warnings = normalize_with_warnings(
        row(
            **{
                "№": 17,
                "Тема": "Экономика малого бизнеса в Оше",
                "Тема (кырг.)": "Оштогу чакан бизнестин экономикасы",
                "Соискатель": "Токтогулова Жылдыз Бакытовна",
                "Научный руководитель": "Асанов, Б.; Петров, П.",
                "Год": 2015.0,
                "Шифр": "08.00.05",
                "ISBN": "123",
                "Совет": "Д 08.15.503",
                "Файл": "https://vak.kg/d/17.pdf",
                "Доступ": "open",
                "Ключевые слова": "экономика; малый бизнес",
            }
        ),
        source,
    )
    assert record.main_title == "Экономика малого бизнеса в Оше" and record.title[0].lang == "ru"
    assert record.title_alt[0].lang == "ky"
    assert record.authors[0].family == "Токтогулова"
    assert [(c.family, c.role) for c in record.contributors] == [("Асанов", "supervisor"), ("Петров", "supervisor")]
    assert record.year == 2015  # a spreadsheet's 2015.0
    assert record.type is RecordType.dissertation  # the source's default type
    assert [(c.scheme, c.code) for c in record.classifications] == [("vak", "08.00.05")]
    assert record.identifiers.other == ["isbn:123"] and any("invalid ISBN" in w for w in warnings)
    assert record.institution == "Д 08.15.503"
    assert record.access is Access.open and record.links[0].kind == "fulltext"
    assert record.subjects == ["экономика", "малый бизнес"]


def test_tabular_without_mapping_uses_field_named_columns():
    record = normalize(
        row(
            title="Water resources of Kyrgyzstan",
            authors="Petrov, Ivan",
            year="2012",
            type="Article",
            language="English",
        ),
        tabular_source(),
    )
    assert record.type is RecordType.article and record.languages == ["en"] and record.year == 2012


def test_tabular_mapping_problems_are_named():
    assert mapping_problems({"title": "A", "classifications.udc": "B", "identifiers.doi": "C"}) == []
    assert mapping_problems({"titel": "A", "classifications.xyz": "B"}) == [
        "unknown record field 'titel' in mapping",
        "unknown record field 'classifications.xyz' in mapping",
    ]
    source = tabular_source(mapping={"title": "Name", "authors": "Missing column"})
    record, warnings = normalize_with_warnings(row(Name="Some title"), source)
    assert record.authors == [] and "columns not in the row: Missing column" in warnings


# ------------------------------------------------------------------ DataCite


def test_datacite_bare_resource_with_subtitle_and_classification(source):
    payload = b"""<resource xmlns="http://datacite.org/schema/kernel-4">
      <identifier identifierType="DOI">10.48550/KG.2020.1</identifier>
      <creators><creator><creatorName nameType="Organizational">National Academy of Sciences</creatorName></creator></creators>
      <titles><title xml:lang="en">Snow cover of the Chon-Kemin basin</title><title titleType="Subtitle">2000-2020</title></titles>
      <publisher>NAS KR</publisher><publicationYear>2020</publicationYear>
      <subjects><subject subjectScheme="UDC">551.578.4</subject><subject>snow</subject></subjects>
      <contributors><contributor contributorType="Supervisor"><contributorName>Aizen, Vladimir</contributorName></contributor></contributors>
      <language>en</language>
      <resourceType resourceTypeGeneral="Dataset">Time series</resourceType>
      <rightsList><rights rightsURI="https://creativecommons.org/licenses/by/4.0/">CC BY 4.0</rights></rightsList>
    </resource>"""
    record = normalize(RawRecord(local_id="kg:1", format="datacite", payload=payload), source)
    assert record.main_title == "Snow cover of the Chon-Kemin basin : 2000-2020"
    assert record.authors[0].name == "National Academy of Sciences" and record.authors[0].family is None
    assert record.contributors[0].role == "supervisor"
    assert record.type is RecordType.dataset and record.access is Access.open
    assert record.identifiers.doi == ["10.48550/kg.2020.1"]
    assert [(c.scheme, c.code) for c in record.classifications] == [("udc", "551.578.4")]
    assert record.subjects == ["snow"]


def test_dissertation_details_are_kept_and_cited_as_gost_requires():
    """Defence date, degree, specialty and council survive normalization (issue 14)."""
    from search_api import exports

    source = tabular_source(
        id_column="№",
        type="dissertation",
        mapping={
            "title": "Тема",
            "authors": "Соискатель",
            "year": "Год защиты",
            "date": "Дата защиты",
            "dissertation.defence_date": "Дата защиты",
            "dissertation.degree": "Ученая степень",
            "dissertation.specialty": "Шифр",
            "dissertation.specialty_name": "Специальность",
            "dissertation.council": "Совет",
            "institution": "Организация",
        },
    )
    assert mapping_problems(source.options["mapping"]) == []
    record = normalize(
        row(
            **{
                "№": 3,
                "Тема": "Модели управления водными ресурсами",
                "Соискатель": "Канат Шаршен уулу",
                "Год защиты": "2024",
                "Дата защиты": "27.08.2024",
                "Ученая степень": "кандидат технических наук",
                "Шифр": "05.13.01",
                "Специальность": "Системный анализ, управление и обработка информации",
                "Совет": "Д 05.23.677",
                "Организация": "КГТУ им. И. Раззакова",
            }
        ),
        source,
    )
    d = record.dissertation
    assert (d.defence_date, d.degree, d.specialty, d.council) == (
        "2024-08-27",
        "кандидат технических наук",
        "05.13.01",
        "Д 05.23.677",
    )
    assert record.date == "2024-08-27" and record.year == 2024  # not shrunk to the year
    gost = exports.reference_gost(record)
    assert gost == (
        "Канат Шаршен уулу Модели управления водными ресурсами : специальность 05.13.01 «Системный анализ, "
        "управление и обработка информации» : диссертация на соискание ученой степени кандидата технических "
        "наук / Канат Шаршен уулу ; КГТУ им. И. Раззакова. – 2024."
    )
    assert "канд. наук" not in gost
    assert "type = {кандидат технических наук}" in exports.bibtex_entry(record)
    assert "M3  - кандидат технических наук" in exports.ris_entry(record)
    item = exports.csl_item(record)
    assert item["genre"] == "кандидат технических наук" and item["issued"] == {"date-parts": [[2024, 8, 27]]}
    bad = normalize_with_warnings(row(**{"№": 4, "Тема": "Т", "Год защиты": "2020", "Дата защиты": "скоро"}), source)
    assert bad[0].dissertation is None and any("defence date 'скоро'" in w for w in bad[1])


def test_the_degree_is_read_from_a_catalogue_dissertation_note(source):
    diss = iso2709(
        "00000nam0 2200000   450 ",
        [
            ("200", "1 ", [("a", "Геология Тянь-Шаня")]),
            ("210", "  ", [("d", "2016")]),
            (
                "328",
                "  ",
                [("a", "Дис. на соискание ученой степени доктора геолого-минералогических наук"), ("e", "НАН КР")],
            ),
        ],
        "utf-8",
    )
    record = normalize(RawRecord(local_id="d2", format="unimarc", payload=diss), source)
    assert record.dissertation.degree == "доктор геолого-минералогических наук"


def test_a_subtitle_joined_with_a_full_stop_gets_its_colon_back(source):
    """A repository's "Title. a textbook" (issue 14); abbreviations keep their full stops."""
    for given, kept in (
        ("Monitoring of anti-corruption policy. a textbook", "Monitoring of anti-corruption policy : a textbook"),
        ("Экология озера. учебное пособие", "Экология озера : учебное пособие"),
        ("Вестник КНУ им. Ж. Баласагына и т. д.", "Вестник КНУ им. Ж. Баласагына и т. д."),
        ("Proc. of the conference", "Proc. of the conference"),
        ("Climate change. Part 2", "Climate change. Part 2"),
    ):
        record = normalize(dc(f"<dc:title>{given}</dc:title><dc:date>2019</dc:date>"), source)
        assert record.main_title == kept
