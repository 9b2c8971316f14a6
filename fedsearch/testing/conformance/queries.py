"""The conformance suite, part one: how an engine reads queries (see __init__.py).

Expected results come from the fixture corpus itself (fedsearch/testing/corpus.py), an
oracle independent of any engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import pytest

from fedsearch.engines import SearchEngine, SearchQuery
from fedsearch.engines.query import FACET_NAMES
from fedsearch.record import Record
from fedsearch.testing.conformance.support import ids
from fedsearch.testing.corpus import CORPUS, rid


def _expected_facets(records: Sequence[Record], name: str) -> list[tuple[str, int]]:
    counts: Counter[str] = Counter()
    for r in records:
        values = {
            "source": r.sources,
            "type": [r.type.value],
            "year": [str(r.year)] if r.year else [],
            "language": r.languages,
            "subject": r.subjects,
            "access": [r.access.value],
            "institution": [r.institution] if r.institution else [],
        }[name]
        counts.update(set(values))
    return sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))


class QueryConformance:
    """How an engine reads queries: words in three languages and two scripts, operators, fields, filters, facets."""

    def test_cyrillic_word_and_russian_morphology(self, engine: SearchEngine) -> None:
        # "экологии" (genitive) finds "Экология" in a title: both stem to "эколог".
        assert rid("oai:knu:1") in ids(engine, "экологии")
        assert {rid("oai:knu:1"), rid("oai:knu:2"), rid("oai:knu:3")} <= ids(engine, "экология")

    def test_english_stemming(self, engine: SearchEngine) -> None:
        assert rid("oai:knu:4") in ids(engine, "run")  # "Running"
        assert rid("oai:auca:11") in ids(engine, "glaciers")  # "Glacier"

    @pytest.mark.parametrize(
        "query, local_ids",
        [
            ("Bishkek", ["marc:100"]),
            ("Бишкек", ["marc:100"]),
            ("Aitmatov", ["oai:knu:1"]),
            ("Aytmatov", ["oai:knu:1"]),
            ("Айтматов", ["oai:knu:1"]),
            ("Issyk-Kul", ["oai:knu:1", "oai:knu:2"]),
            ("Ысык-Көл", ["oai:knu:1", "oai:knu:2"]),
            ("Ysyk-Köl", ["oai:knu:1", "oai:knu:2"]),
            ("arsen'ev", ["marc:100"]),
            ("arsenʹev", ["marc:100"]),
            ("arsen’ev", ["marc:100"]),
            ("Arsenʼev", ["marc:100"]),
            ("Osmonova Aigul", ["oai:knu:2"]),  # Осмонова Айгүл: ү folds for matching
        ],
    )
    def test_transliteration_both_ways(self, engine: SearchEngine, query: str, local_ids: list[str]) -> None:
        found = ids(engine, query)
        for local in local_ids:
            assert rid(local) in found, f"{query!r} should find {local}"

    def test_kyrgyz_letters_fold_for_matching(self, engine: SearchEngine) -> None:
        # People type Көл on a Russian keyboard as Кол.
        assert rid("oai:knu:2") in ids(engine, "Ысык-Кол")

    def test_phrase(self, engine: SearchEngine) -> None:
        assert ids(engine, '"climate change"') == {rid("oai:auca:10")}
        assert ids(engine, '"change climate"') == set()

    def test_boolean_operators(self, engine: SearchEngine) -> None:
        assert ids(engine, "climate AND glacier") == {rid("oai:auca:10"), rid("oai:auca:11")}
        assert ids(engine, "climate OR management") == {rid("oai:auca:10"), rid("oai:auca:11"), rid("oai:auca:12")}
        assert ids(engine, "change NOT climate") == {rid("oai:auca:12")}
        assert ids(engine, "change -climate") == {rid("oai:auca:12")}
        assert ids(engine, "(climate OR management) AND Brown") == {rid("oai:auca:12")}

    def test_implicit_and(self, engine: SearchEngine) -> None:
        assert ids(engine, "water Kyrgyzstan", relax=False) == {rid("oai:auca:13"), rid("oai:auca:14")}

    @pytest.mark.parametrize(
        "query, expected",
        [
            ("water in Kyrgyzstan", {"oai:auca:13", "oai:auca:14"}),  # "of" in the titles, not "in"
            ("экология и озера", {"oai:knu:1"}),
            ("экологические проблемы в Бишкеке", {"oai:knu:3"}),
        ],
    )
    def test_function_words_are_not_required(self, engine: SearchEngine, query: str, expected: set[str]) -> None:
        assert ids(engine, query, relax=False) == {rid(i) for i in expected}

    def test_a_query_of_function_words_only_requires_them(self, engine: SearchEngine) -> None:
        assert ids(engine, "in the", relax=False) == ids(engine, "in AND the")
        assert rid("oai:auca:11") in ids(engine, "in the", relax=False)  # "... in the Tien Shan"

    def test_few_records_with_every_word_come_first_then_records_with_fewer(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="water Kyrgyzstan", per_page=100))
        both = {rid("oai:auca:13"), rid("oai:auca:14")}
        assert result.relaxed is not None and (result.relaxed.all_words, result.relaxed.of) == (2, 2)
        assert {h.id for h in result.hits[:2]} == both
        rest = result.hits[2:]
        lowest_of_both = min(b.score if b.score is not None else float("nan") for b in result.hits[:2])
        assert rest and all(h.score is not None and h.score < lowest_of_both for h in rest)

    @pytest.mark.parametrize(
        "query, expected",
        [
            ("author:Smith", {"oai:auca:10", "oai:auca:11"}),
            ("title:climate", {"oai:auca:10", "oai:auca:11"}),
            ("subject:glaciers", {"oai:auca:11"}),
            ("year:2021", {"oai:auca:10", "oai:auca:12"}),
            ("type:patent", {"KG1234", "KG1300"}),
            ("udc:551.5", {"oai:knu:1"}),
            ("grnti:87.15.00", {"oai:knu:1"}),
            ('ipc:"A01B 1/00"', {"KG1300"}),
            ("A01B 1/00", {"KG1300"}),
            ("isbn:9789967000001", {"marc:100"}),
            ("978-9967-00000-1", {"marc:100"}),
            ("10.1234/ca.2021.7", {"oai:auca:10"}),
            ("https://doi.org/10.1234/CA.2021.7", {"oai:auca:10"}),
            ("patent:KG1234C1", {"KG1234"}),
            ("08.00.05", {"diss:1", "diss:2"}),
        ],
    )
    def test_field_and_code_queries(self, engine: SearchEngine, query: str, expected: set[str]) -> None:
        assert ids(engine, query) == {rid(x) for x in expected}

    def test_field_query_limits_the_field(self, engine: SearchEngine) -> None:
        # "Smith" is an author, never a title word.
        assert ids(engine, "title:Smith") == set()

    def test_prefix(self, engine: SearchEngine) -> None:
        assert {rid("oai:knu:1"), rid("oai:knu:3")} <= ids(engine, "экол*")
        assert rid("marc:100") in ids(engine, "Bish*")
        assert ids(engine, "glac*") == {rid("oai:auca:10"), rid("oai:auca:11")}

    def test_term_filters(self, engine: SearchEngine) -> None:
        assert ids(engine, filters={"type": ["patent"]}) == {rid("KG1234"), rid("KG1300")}
        both = ids(engine, filters={"type": ["patent", "dissertation"]})
        assert both == {r.id for r in CORPUS if r.type.value in ("patent", "dissertation")}
        combo = ids(engine, filters={"source": ["auca"], "access": ["open"]})
        assert combo == {r.id for r in CORPUS if r.source == "auca" and r.access.value == "open"}

    def test_year_range(self, engine: SearchEngine) -> None:
        got = ids(engine, year_from=2019, year_to=2021)
        assert got == {r.id for r in CORPUS if r.year is not None and 2019 <= r.year <= 2021}
        assert ids(engine, year_from=2022) == {r.id for r in CORPUS if r.year is not None and r.year >= 2022}

    @pytest.mark.parametrize("facet", FACET_NAMES)
    def test_facet_counts_match_the_corpus(self, engine: SearchEngine, facet: str) -> None:
        result = engine.search(SearchQuery(facets=[facet], facet_size=100, per_page=1))
        got = [(f.value, f.count) for f in result.facets[facet]]
        assert got == _expected_facets(CORPUS, facet)

    def test_facet_size_keeps_the_top_values(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(facets=["subject"], facet_size=3, per_page=1))
        assert [(f.value, f.count) for f in result.facets["subject"]] == _expected_facets(CORPUS, "subject")[:3]

    def test_facets_are_disjunctive(self, engine: SearchEngine) -> None:
        # With type=patent selected, the type facet still offers the other types,
        # while every other facet counts only patents.
        result = engine.search(SearchQuery(filters={"type": ["patent"]}, facets=["type", "source"], facet_size=100))
        assert [(f.value, f.count) for f in result.facets["type"]] == _expected_facets(CORPUS, "type")
        patents = [r for r in CORPUS if r.type.value == "patent"]
        assert [(f.value, f.count) for f in result.facets["source"]] == _expected_facets(patents, "source")
        assert result.total == 2

    def test_facets_follow_the_text_query(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="climate", facets=["year"]))
        assert {f.value: f.count for f in result.facets["year"]} == {"2021": 1, "2018": 1}
