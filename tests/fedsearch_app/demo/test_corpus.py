"""The synthetic corpus: deterministic for a seed, with the duplicates and languages it promises."""

from __future__ import annotations

import csv
import hashlib
import json
import re
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from rapidfuzz import fuzz

from fedsearch.record import make_record_id
from fedsearch_app.corpus import FILES, generate
from fedsearch_app.corpus.vocab import BY_KEY

OAI_NS = {"oai": "http://www.openarchives.org/OAI/2.0/", "dc": "http://purl.org/dc/elements/1.1/"}
MARC_NS = {"m": "http://www.loc.gov/MARC21/slim"}
SIZE = 4000


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("corpus")
    return out, generate(out, SIZE, seed=7)


def digest(root: Path) -> dict[str, str]:
    return {rel: hashlib.sha1((root / rel).read_bytes()).hexdigest() for key, rel in FILES.items() if key != "manifest"}


def oai_records(root: Path) -> list[etree._Element]:
    return etree.parse(str(root / FILES["oai"])).getroot().findall("oai:record", OAI_NS)


def marc_records(root: Path) -> list[etree._Element]:
    return etree.parse(str(root / FILES["sru"])).getroot().findall("m:record", MARC_NS)


def subfield(rec: etree._Element, tag: str, code: str) -> str | None:
    found = rec.xpath(f"m:datafield[@tag='{tag}']/m:subfield[@code='{code}']/text()", namespaces=MARC_NS)
    return found[0] if found else None


def test_the_same_seed_writes_the_same_bytes_and_another_seed_does_not(tmp_path):
    a = generate(tmp_path / "a", 600, seed=11)
    b = generate(tmp_path / "b", 600, seed=11)
    generate(tmp_path / "c", 600, seed=12)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert a["records_by_type"] == b["records_by_type"]
    assert digest(tmp_path / "a") != digest(tmp_path / "c")


def test_a_small_corpus_is_the_start_of_a_larger_one(tmp_path):
    generate(tmp_path / "small", 300, seed=5)
    generate(tmp_path / "large", 900, seed=5)
    small = (tmp_path / "small" / FILES["oai"]).read_text(encoding="utf-8").splitlines()[2:-1]
    large = (tmp_path / "large" / FILES["oai"]).read_text(encoding="utf-8").splitlines()[2:-1]
    assert small and large[: len(small)] == small


def test_it_writes_exactly_the_size_asked_across_the_four_partners(corpus):
    root, manifest = corpus
    assert manifest["records"] == SIZE
    counts = manifest["records_by_partner"]
    assert sum(counts.values()) == SIZE
    assert len(oai_records(root)) == counts["oai"]
    assert len(marc_records(root)) == counts["sru"]
    with open(root / FILES["csv"], encoding="utf-8", newline="") as f:
        assert sum(1 for _ in csv.DictReader(f)) == counts["csv"]
    assert len((root / FILES["patents"]).read_text(encoding="utf-8").splitlines()) == counts["patents"]
    assert all(counts[p] > SIZE * 0.05 for p in counts)


def test_every_type_is_present_and_partners_hold_their_kinds(corpus):
    _, manifest = corpus
    types = manifest["records_by_type"]
    for t in (
        "article",
        "book",
        "thesis",
        "dissertation",
        "patent",
        "report",
        "conference_paper",
        "dataset",
        "project",
    ):
        assert types.get(t, 0) > 0, t
    assert types["patent"] == manifest["records_by_partner"]["patents"]


def test_duplicates_appear_at_the_promised_rate_with_ids_that_exist(corpus):
    root, manifest = corpus
    with open(root / FILES["truth"], encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f))
    assert len(pairs) == manifest["duplicate_pairs"]
    rate = len(pairs) / manifest["works"]
    assert 0.065 <= rate <= 0.095, rate
    oai_ids = {r.findtext("oai:header/oai:identifier", namespaces=OAI_NS) for r in oai_records(root)}
    marc_ids = {r.findtext("m:controlfield[@tag='001']", namespaces=MARC_NS) for r in marc_records(root)}
    for p in pairs:
        assert p["local_id_a"] in oai_ids and p["local_id_b"] in marc_ids
        assert p["record_id_a"] == make_record_id(p["source_a"], p["local_id_a"])
        assert p["record_id_b"] == make_record_id(p["source_b"], p["local_id_b"])
    kinds = Counter(v for p in pairs for v in p["variations"].split("+"))
    assert kinds["translit"] > 0 and kinds["shared_id"] > 0 and (kinds["upper"] + kinds["punct"]) > 0


def _fold(text: str) -> str:
    return re.sub(r"[^\w]+", " ", text.lower().replace("ё", "е")).strip()


def test_the_two_copies_of_a_duplicate_differ_only_a_little(corpus):
    root, _ = corpus
    with open(root / FILES["truth"], encoding="utf-8", newline="") as f:
        pairs = list(csv.DictReader(f))
    oai = {r.findtext("oai:header/oai:identifier", namespaces=OAI_NS): r for r in oai_records(root)}
    marc = {r.findtext("m:controlfield[@tag='001']", namespaces=MARC_NS): r for r in marc_records(root)}
    exact = 0
    for p in pairs:
        a, b = oai[p["local_id_a"]], marc[p["local_id_b"]]
        title_a = a.xpath(".//dc:title/text()", namespaces=OAI_NS)[0]
        title_b = " ".join(filter(None, (subfield(b, "245", "a"), subfield(b, "245", "b"))))
        assert fuzz.ratio(_fold(title_a), _fold(title_b)) >= 85, (title_a, title_b)
        exact += title_a == title_b.replace(" :", ":").rstrip(" /")
        year_a = a.xpath(".//dc:date/text()", namespaces=OAI_NS)[0][:4]
        assert year_a in b.findtext("m:controlfield[@tag='008']", namespaces=MARC_NS)
        if "shared_id" in p["variations"]:
            ids_a = " ".join(a.xpath(".//dc:identifier/text()", namespaces=OAI_NS))
            shared = subfield(b, "020", "a") or subfield(b, "024", "a")
            assert shared and shared in ids_a
    assert exact < len(pairs)  # the copies are not simply identical


def test_languages_mix_ky_ru_en_and_kyrgyz_titles_use_its_letters(corpus):
    root, manifest = corpus
    langs = manifest["records_by_language"]
    assert set(langs) == {"ky", "ru", "en"}
    for lang, share in (("ky", 0.15), ("ru", 0.40), ("en", 0.12)):
        assert langs[lang] / SIZE >= share, (lang, langs)
    # Recount from the files themselves.
    seen = Counter(r.findtext(".//dc:language", namespaces=OAI_NS) for r in oai_records(root))
    assert {k: v for k, v in seen.items()} == {
        k.split(":")[1]: v for k, v in manifest["records_by_partner_language"].items() if k.startswith("oai:")
    }
    ky_titles = [r.xpath(".//dc:title[@xml:lang='ky']/text()", namespaces=OAI_NS) for r in oai_records(root)]
    ky_titles = [t[0] for t in ky_titles if t]
    assert ky_titles
    with_letters = sum(1 for t in ky_titles if re.search("[ңөүҢӨҮ]", t))
    assert with_letters / len(ky_titles) > 0.5


def test_authors_have_kyrgyz_and_russian_names_with_patronymics(corpus):
    root, _ = corpus
    creators = [c for r in oai_records(root) for c in r.xpath(".//dc:creator/text()", namespaces=OAI_NS)]
    cyrillic = [c for c in creators if re.search("[а-яА-Я]", c)]
    assert len(cyrillic) > 100
    assert all(re.fullmatch(r"[^,]+, \S+( \S+)?", c) for c in cyrillic)
    assert any(re.search(r"(ович|евич|овна|евна)$", c) for c in cyrillic)
    assert any(re.search(r"(уулу|кызы),", c) for c in cyrillic)
    assert any(c.startswith(("Иванов", "Петров", "Смирнов", "Кузнецов")) for c in cyrillic)
    assert any(re.search("[ңөү]", c) for c in cyrillic)
    with open(root / FILES["csv"], encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) >= {"Тема диссертации", "ФИО соискателя", "Год защиты", "Шифр специальности"}
    assert all(len(r["ФИО соискателя"].split()) in (2, 3) for r in rows)


def test_codes_match_the_topic(corpus):
    root, _ = corpus
    for r in oai_records(root)[:500]:
        discipline = BY_KEY[r.findtext("oai:header/oai:setSpec", namespaces=OAI_NS).removeprefix("col_")]
        subjects = r.xpath(".//dc:subject/text()", namespaces=OAI_NS)
        udc = next(s for s in subjects if s.startswith("УДК ")).removeprefix("УДК ")
        grnti = next(s for s in subjects if s.startswith("ГРНТИ ")).removeprefix("ГРНТИ ")
        assert udc in discipline.udc and grnti in discipline.grnti
    for line in (root / FILES["patents"]).read_text(encoding="utf-8").splitlines()[:300]:
        doc = json.loads(line)
        assert doc["ipc"] and all(re.fullmatch(r"[A-H]\d\d[A-Z] \d+/\d+", c) for c in doc["ipc"])
        assert doc["patent_number"].startswith("KG") and doc["applicants"] and doc["year"] >= 1996


def test_recent_years_are_more_frequent(corpus):
    root, _ = corpus
    years = [int(r.xpath(".//dc:date/text()", namespaces=OAI_NS)[0][:4]) for r in oai_records(root)]
    recent = sum(1 for y in years if y >= 2016)
    middle = sum(1 for y in years if 2006 <= y < 2016)
    old = sum(1 for y in years if y < 2006)
    assert recent > middle > old > 0
    assert max(years) <= 2025
