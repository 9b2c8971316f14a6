"""The citation formatters (search_api/exports.py) on records built to stress them."""

from __future__ import annotations

import json

from fedsearch.record import Container, Identifiers, LangText, Person, Record, RecordType, make_record_id
from search_api import exports
from search_api.alternatives import other_layout, transliterated


def record(**kw) -> Record:
    base = dict(id=make_record_id("x", "1"), source="x", source_record_id="1", title=[LangText(value="T", lang="en")])
    base.update(kw)
    return Record(**base)


NASTY = "50% of {R&D} costs $5 #1 a_b ^ ~ \\ <b>"


def test_bibtex_escapes_every_special_character():
    escaped = exports.bibtex_escape(NASTY)
    assert escaped == r"50\% of \{R\&D\} costs \$5 \#1 a\_b \^{} \~{} \textbackslash{} \textless{}b\textgreater{}"
    entry = exports.bibtex_entry(record(title=[LangText(value=NASTY)], authors=[Person(name="O'Brien, } Evil {")]))
    body = entry
    depth = 0
    for i, ch in enumerate(body):  # braces balance: no field can end early or swallow the next
        if ch in "{}" and (i == 0 or body[i - 1] != "\\"):
            depth += 1 if ch == "{" else -1
            assert depth >= 0
            if depth == 0:
                assert body[i + 1 :].strip() == "", "the entry closed before its end"
    assert depth == 0


def test_bibtex_keys_are_ascii_and_unique_within_a_file():
    a = record(title=[LangText(value="Экология озера")], authors=[Person(name="Айтматов, Чингиз")], year=2019)
    b = a.model_copy(update={"id": make_record_id("x", "2")})
    text = exports.to_bibtex([a, b])
    assert "@misc{aitmatov2019ekologia," in text and "@misc{aitmatov2019ekologiab," in text
    assert text.isascii() is False  # titles stay in UTF-8; only keys are ASCII


def test_bibtex_types_names_and_fields():
    r = record(
        type=RecordType.dissertation,
        title=[LangText(value="Экономика")],
        year=2015,
        authors=[Person(name="Токтогулов, Бакыт"), Person(name="UNESCO")],
        institution="НАН КР",
        container=Container(pages="10-20"),
        identifiers=Identifiers(doi=["10.1/x_y"]),
    )
    entry = exports.bibtex_entry(r)
    assert entry.startswith("@phdthesis{")
    assert "author = {Токтогулов, Бакыт and {UNESCO}}" in entry
    assert "school = {НАН КР}" in entry and "pages = {10--20}" in entry and r"doi = {10.1/x\_y}" in entry


def test_ris_values_stay_on_one_line():
    r = record(
        title=[LangText(value="Line one\nER  - injected")],
        authors=[Person(name="Smith, John")],
        year=2020,
        container=Container(title="J", volume="3", issue="2", pages="5–9"),
    )
    text = exports.ris_entry(r)
    lines = text.split("\r\n")
    assert lines[0] == "TY  - GEN" and "TI  - Line one ER - injected" in lines
    assert sum(1 for ln in lines if ln.startswith("ER  -")) == 1
    assert "SP  - 5" in lines and "EP  - 9" in lines and "AU  - Smith, John" in lines


def test_csl_json_items():
    r = record(
        type=RecordType.article,
        authors=[Person(name="Smith, John"), Person(name="Plato")],
        year=2021,
        container=Container(title="Nature", volume="1"),
        identifiers=Identifiers(doi=["10.1/a"]),
    )
    item = json.loads(exports.to_csl_json([r]))[0]
    assert item["type"] == "article-journal" and item["issued"] == {"date-parts": [[2021]]}
    assert item["author"] == [{"family": "Smith", "given": "John"}, {"literal": "Plato"}]
    assert item["container-title"] == "Nature" and item["DOI"] == "10.1/a"


def test_formatted_references():
    r = record(
        type=RecordType.article,
        title=[LangText(value="Экология озера", lang="ru")],
        year=2019,
        authors=[Person(name="Айтматов, Чингиз Торекулович")],
        container=Container(title="Вестник КНУ", volume="5", issue="2", pages="10-20"),
    )
    assert exports.reference_gost(r) == "Айтматов Ч. Т. Экология озера // Вестник КНУ. – 2019. – Т. 5, № 2. – С. 10-20."
    assert exports.reference_apa(r) == "Айтматов, Ч. Т. (2019). Экология озера. Вестник КНУ, 5(2), 10-20."


def test_transliteration_and_keyboard_layout():
    assert transliterated("Бишкек") == "Bishkek"
    assert transliterated("Aitmatov") == "Аитматов"
    assert transliterated("1234") is None
    assert other_layout("'rjkjubz") == "экология"
    assert other_layout("руддщ") == "hello"


def test_kyrgyz_patronymic_names_stay_whole_in_every_format():
    """ "Канат Шаршен уулу" has no family name: no inversion, no initials (issue 14)."""
    from indexers.normalize.people import parse_person

    people = [parse_person("Канат Шаршен уулу"), parse_person("Гүлзат Темир кызы"), parse_person("Шаршен уулу, Бакыт")]
    r = record(
        type=RecordType.book,
        title=[LangText(value="Тоо экологиясы", lang="ky")],
        year=2020,
        authors=people,
        publisher="Илим",
    )
    whole = ["Канат Шаршен уулу", "Гүлзат Темир кызы", "Бакыт Шаршен уулу"]
    gost, apa = exports.reference_gost(r), exports.reference_apa(r)
    assert gost.startswith("Канат Шаршен уулу Тоо экологиясы / Канат Шаршен уулу, Гүлзат Темир кызы, Бакыт Шаршен уулу")
    assert apa.startswith("Канат Шаршен уулу, Гүлзат Темир кызы, & Бакыт Шаршен уулу (2020).")
    for text in (gost, apa):
        assert "Ш. у." not in text and "Т. к." not in text
    assert "author = {{Канат Шаршен уулу} and {Гүлзат Темир кызы} and {Бакыт Шаршен уулу}}" in exports.bibtex_entry(r)
    assert [ln[6:] for ln in exports.ris_entry(r).split("\r\n") if ln.startswith("AU")] == whole
    assert json.loads(exports.to_csl_json([r]))[0]["author"] == [{"literal": n} for n in whole]
    # Russian patronymics are still split and abbreviated.
    assert exports.reference_gost(
        record(title=[LangText(value="Т")], authors=[parse_person("Айтматов Чингиз Торекулович")])
    ).startswith("Айтматов Ч. Т. Т")
