"""The value rules: dates, identifiers, names, and the vocabulary table (indexers/vocab.py)."""

from __future__ import annotations

import pytest

from fedsearch.record import Access, DatePrecision, RecordType
from indexers import vocab
from indexers.normalize import identifiers as ids
from indexers.normalize.dates import choose_date, parse_date
from indexers.normalize.language import detect
from indexers.normalize.people import parse_person, split_names
from indexers.normalize.text import abstract_text, split_subjects

D = DatePrecision


@pytest.mark.parametrize(
    "text, year, date, precision",
    [
        ("2019", 2019, "2019", D.year),
        ("2019-05-03", 2019, "2019-05-03", D.day),
        ("2019-05-03T10:00:00Z", 2019, "2019-05-03", D.day),
        ("c2005", 2005, "2005", D.year),
        ("cop. 2005", 2005, "2005", D.year),
        ("[2010]", 2010, "2010", D.year),
        ("[2010?]", 2010, "2010", D.year),
        ("199-?", None, "199X", D.decade),
        ("[199-?]", None, "199X", D.decade),
        ("199u", None, "199X", D.decade),
        ("2010-2012", 2010, "2010/2012", D.range),
        ("1804-1807", 1804, "1804/1807", D.range),
        ("2010–12", 2010, "2010/2012", D.range),
        ("2010-12", 2010, "2010-12", D.month),  # ISO month, not a range
        ("May 2019", 2019, "2019-05", D.month),
        ("May 3, 2019", 2019, "2019-05-03", D.day),
        ("1999 г.", 1999, "1999", D.year),
        ("2019 ж.", 2019, "2019", D.year),
        ("3 мая 2019 г.", 2019, "2019-05-03", D.day),
        ("сентябрь 2019", 2019, "2019-09", D.month),
        ("20.05.2019", 2019, "2019-05-20", D.day),
        ("ca. 1850", 1850, "1850", D.year),
        ("1998, c1995", 1998, "1998", D.year),
        ("Санкт-Петербург, 1868-", 1868, "1868", D.year),
    ],
)
def test_dates(text, year, date, precision):
    parsed = parse_date(text)
    assert (parsed.year, parsed.date, parsed.precision) == (year, date, precision)


@pytest.mark.parametrize("text", ["19--", "XIX в.", "", "n.d.", "2109", "info:eu-repo/date/embargoEnd/2018-05-22"])
def test_dates_without_a_usable_year(text):
    assert parse_date(text) is None


def test_choose_date_takes_the_earliest_dated_statement():
    # DSpace: issued, then available and accessioned years later.
    chosen = choose_date([parse_date(d) for d in ("2015-03-01T10:00:00Z", "2011", "2015-03-01")])
    assert chosen.year == 2011
    assert choose_date([parse_date("199-?"), parse_date("2001")]).year == 2001


@pytest.mark.parametrize(
    "given, kind, value",
    [
        ("https://doi.org/10.5281/Zenodo.10357859", "doi", "10.5281/zenodo.10357859"),
        ("http://dx.doi.org/10.1212/NXI.0000000000000158", "doi", "10.1212/nxi.0000000000000158"),
        ("doi:10.5062/F43J39XH", "doi", "10.5062/f43j39xh"),
        ("http://hdl.handle.net/1765/308", "handle", "1765/308"),
        ("hdl:10864/10010", "handle", "10864/10010"),
        ("90-5892-036-4", "isbn", "9789058920362"),
        ("ISBN 5-02-013850-9", "isbn", "9785020138506"),
        ("urn:isbn:9789059898011", "isbn", "9789059898011"),
        ("ISBN 978-5-02-013850-0", "other", "isbn:978-5-02-013850-0"),  # check digit fails
        ("urn:issn:0021-3446", "issn", "0021-3446"),
        ("ISSN 1028-852x", "issn", "1028-852X"),
        ("urn:nbn:de:bvb:19-146642", "urn", "urn:nbn:de:bvb:19-146642"),
        ("https://zenodo.org/record/17183", "url", "https://zenodo.org/record/17183"),
    ],
)
def test_identifier_classification(given, kind, value):
    assert ids.classify(given) == (kind, value)


def test_identifiers_that_are_not():
    assert ids.classify("oai:zenodo.org:10357859") is None  # the record's own OAI id
    long_citation = "Pakpoor, J; Disanto, G (2015) No evidence for higher risk of cancer. Neurol, 2 (6). e158."
    assert ids.classify(long_citation) is None


@pytest.mark.parametrize(
    "given, expected",
    [
        ("KG 1234 C1", "KG1234C1"),
        ("№ 1234", "1234"),
        ("KG 20190012.1", "KG20190012.1"),
        ("RU 2 345 678 C2", "RU2345678C2"),
    ],
)
def test_patent_numbers(given, expected):
    assert ids.patent(given) == expected


def test_isbn_and_issn_check_digits():
    assert ids.isbn("8200424421") == "9788200424420"
    assert ids.isbn("978-3-16-148410-0") == "9783161484100"
    assert ids.isbn("978-3-16-148410-1") is None
    assert ids.isbn("0-306-40615-3") is None
    assert ids.issn("2076-4626") == "2076-4626"
    assert ids.issn("1234-5678") is None
    assert ids.isbn_candidates("978-3-16-148410-0 kart. : EUR 12.00") == ["978-3-16-148410-0"]


def test_orcid():
    assert ids.orcid("https://orcid.org/0000-0002-1825-0097") == "0000-0002-1825-0097"
    assert ids.orcid("0000-0003-1522-494x") == "0000-0003-1522-494X"
    assert ids.orcid("0000-0002-1825-0098") is None  # check digit


@pytest.mark.parametrize(
    "given, family, given_name",
    [
        ("Klar, Jochen", "Klar", "Jochen"),
        ("Pakpoor, J", "Pakpoor", "J"),
        ("ИВАНКОВ П.Л.", "ИВАНКОВ", "П.Л."),
        ("И.И. Иванов", "Иванов", "И.И."),
        ("Иванов И. И.", "Иванов", "И. И."),
        ("РЫБДЫЛОВ ДАНЗАН ДОРЖИЕВИЧ", "РЫБДЫЛОВ", "ДАНЗАН ДОРЖИЕВИЧ"),
        ("Айтматов Чингиз", "Айтматов", "Чингиз"),
        ("John Smith", "Smith", "John"),
        ("Smith JA", "Smith", "JA"),
        ("Art King, Ph.D. et al.", "King", "Art"),
        ("Utagawa, Hiroshige,  1826?-1869.", "Utagawa", "Hiroshige"),
        ("Altmann, DR", "Altmann", "DR"),
    ],
)
def test_person_names(given, family, given_name):
    person = parse_person(given)
    assert (person.family, person.given) == (family, given_name)


def test_split_names():
    assert split_names("M. Arshad Shehzad Hassan, Guobing Song, Xiaoning Kang") == [
        "M. Arshad Shehzad Hassan",
        "Guobing Song",
        "Xiaoning Kang",
    ]
    assert split_names("Ayala Valenzuela, Ricardo Alexis") == ["Ayala Valenzuela, Ricardo Alexis"]
    assert split_names("Иванов И.И.; Петров П.П.") == ["Иванов И.И.", "Петров П.П."]


@pytest.mark.parametrize(
    "given, code",
    [
        ("rus", "ru"),
        ("kir", "ky"),
        ("kgz", "ky"),
        ("Russian", "ru"),
        ("русский", "ru"),
        ("рус.", "ru"),
        ("кыргызча", "ky"),
        ("киргизский", "ky"),
        ("English", "en"),
        ("en_US", "en"),
        ("eng", "en"),
        ("kaz", "kk"),
        ("uzb", "uz"),
        ("tgk", "tg"),
        ("ger", "de"),
        ("fre", "fr"),
        ("ky-KG", "ky"),
        ("на кыргызском языке", "ky"),
        ("chu", "cu"),
        ("nob", "nb"),
    ],
)
def test_language_codes(given, code):
    assert vocab.language_code(given) == code


def test_values_that_name_no_language():
    assert vocab.language_code("und") is None and vocab.says_no_language("other")
    assert vocab.language_code("klingon") is None and not vocab.says_no_language("klingon")
    assert vocab.split_language_codes("engrus") == ["eng", "rus"]


@pytest.mark.parametrize(
    "term, rtype",
    [
        ("info:eu-repo/semantics/article", RecordType.article),
        ("Article", RecordType.article),
        ("Статья", RecordType.article),
        ("Диссертация", RecordType.dissertation),
        ("Автореферат диссертации на соискание ученой степени", RecordType.dissertation),
        ("Thesis", RecordType.thesis),
        ("info:eu-repo/semantics/doctoralThesis", RecordType.dissertation),
        ("info:eu-repo/semantics/masterThesis", RecordType.thesis),
        ("Магистерская диссертация", RecordType.thesis),
        ("Dataset", RecordType.dataset),
        ("conferenceObject", RecordType.conference_paper),
        ("Book chapter", RecordType.chapter),
        ("info:eu-repo/semantics/bookPart", RecordType.chapter),
        ("Патент", RecordType.patent),
        ("Патент на изобретение", RecordType.patent),
        ("Монография", RecordType.book),
        ("Макала", RecordType.article),
        ("http://purl.org/coar/resource_type/c_db06", RecordType.dissertation),
        ("http://purl.org/ontology/bibo/AcademicArticle", RecordType.article),
        ("Отчет о научно-исследовательской работе", RecordType.report),
        ("info:eu-repo/semantics/other", RecordType.other),
    ],
)
def test_type_terms(term, rtype):
    assert vocab.record_type(term) is rtype


def test_type_noise_and_unknown_terms():
    assert vocab.is_type_noise("Text") and vocab.is_type_noise("info:eu-repo/semantics/publishedVersion")
    assert vocab.is_type_noise("PeerReviewed")
    assert vocab.record_type("section-identify-type") is None


@pytest.mark.parametrize(
    "statement, access",
    [
        ("info:eu-repo/semantics/openAccess", Access.open),
        ("http://creativecommons.org/licenses/by/4.0/", Access.open),
        ("cc_by_nc_nd", Access.open),
        ("CC BY-SA 4.0", Access.open),
        ("Apache License 2.0", Access.open),
        ("info:eu-repo/semantics/restrictedAccess", Access.restricted),
        ("info:eu-repo/semantics/embargoedAccess", Access.restricted),
        ("Ограниченный доступ", Access.restricted),
        ("Открытый доступ", Access.open),
        ("Свободный доступ из сети Интернет (чтение, печать, копирование)", Access.free),
        ("I have retained and own the full copyright for this publication", None),
    ],
)
def test_access_statements(statement, access):
    assert vocab.access_from_rights(statement) is access


def test_roles():
    assert vocab.role("trl") == "translator" and vocab.role("пер.") == "translator"
    assert vocab.role("ths") == "supervisor" and vocab.role("науч. рук.") == "supervisor"
    assert vocab.role("aut") is None and vocab.role("070") is None
    assert vocab.role("340") == "editor"


def test_classification_schemes():
    assert vocab.classification_scheme("rubbk") == "bbk"
    assert vocab.classification_scheme("УДК") == "udc"
    assert vocab.classification_scheme("rugasnti") == "grnti"
    assert vocab.classification_scheme("utk") == "other"


def test_language_detection_is_careful():
    assert detect("Ысык-Көл көлүнүн экологиялык абалы жана аны коргоо маселелери") == "ky"
    assert detect("Қазақстанның тарихы және мәдениеті") == "kk"
    assert detect("Экономика сельского хозяйства Чуйской долины") == "ru"
    assert detect("Glacier retreat and climate change in the Tien Shan mountains") == "en"
    assert detect("История Кыргызстана") is None  # too short to tell ru from ky
    assert detect("12345") is None


def test_abstract_text_and_subjects():
    assert abstract_text("&lt;p&gt;First &amp;amp; second&lt;/p&gt;&lt;p&gt;Next&lt;/p&gt;") == "First & second\n\nNext"
    assert abstract_text("Values 3 < 5 and x > 2") == "Values 3 < 5 and x > 2"
    assert split_subjects("A,B,C") == ["A", "B", "C"]
    assert split_subjects("History, Modern") == ["History, Modern"]
    assert split_subjects("экология; озёра") == ["экология", "озёра"]
