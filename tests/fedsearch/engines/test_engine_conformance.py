"""The engine conformance suite: every SearchEngine must pass all of it.

Each test runs once per engine (test ids end in [embedded] / [elasticsearch]).
Expected results come from the fixture corpus itself (tests/corpus.py), so an
engine is checked against an independent oracle, and at the end the two
engines are checked against each other.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from pathlib import Path

import pytest

from fedsearch.config import ElasticsearchConfig
from fedsearch.engines import SearchEngine, SearchQuery
from fedsearch.engines.base import InvalidCursor
from fedsearch.engines.document import title_sort_key
from fedsearch.engines.query import FACET_NAMES

IMPORTED_AT = time.time()  # before any engine of this suite is filled
from fedsearch.record import LangText
from tests.conftest import delete_es_indices
from tests.corpus import CORPUS, rid

ENGINES = ["embedded", "elasticsearch"]


def make_engine(kind: str, tmp: Path, es_url: str | None) -> SearchEngine:
    if kind == "embedded":
        from fedsearch.engines.embedded import EmbeddedEngine

        engine: SearchEngine = EmbeddedEngine(tmp / "index", writer=True)
    else:
        from fedsearch.engines.elasticsearch import ElasticsearchEngine

        engine = ElasticsearchEngine(ElasticsearchConfig(hosts=[es_url], index_prefix=f"conf{uuid.uuid4().hex[:8]}"))
    engine.ensure_index()
    report = engine.upsert(CORPUS)
    assert report.errors == [] and report.indexed == len(CORPUS)
    engine.refresh()
    return engine


def drop_engine(kind: str, engine: SearchEngine, es_url: str | None) -> None:
    engine.close()
    if kind == "elasticsearch":
        delete_es_indices(es_url, engine.config.index_prefix)  # type: ignore[attr-defined]


def _es_url_for(kind: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("es_url") if kind == "elasticsearch" else None


@pytest.fixture(scope="module", params=ENGINES)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """A read-only engine holding the corpus (shared by the tests of a module)."""
    url = _es_url_for(request.param, request)
    eng = make_engine(request.param, tmp_path_factory.mktemp(request.param), url)
    yield eng
    drop_engine(request.param, eng, url)


@pytest.fixture(params=ENGINES)
def fresh_engine(request: pytest.FixtureRequest, tmp_path: Path):
    """An engine of its own, for tests that write."""
    url = _es_url_for(request.param, request)
    eng = make_engine(request.param, tmp_path, url)
    yield eng
    drop_engine(request.param, eng, url)


def ids(engine: SearchEngine, q: str = "", **kw) -> set[str]:
    result = engine.search(SearchQuery(q=q, per_page=100, **kw))
    assert result.total == len(result.hits), "the corpus fits one page"
    return {h.id for h in result.hits}


# --- text: Cyrillic, morphology, transliteration ---------------------------------------


def test_cyrillic_word_and_russian_morphology(engine):
    # "экологии" (genitive) finds "Экология" in a title: both stem to "эколог".
    assert rid("oai:knu:1") in ids(engine, "экологии")
    assert {rid("oai:knu:1"), rid("oai:knu:2"), rid("oai:knu:3")} <= ids(engine, "экология")


def test_english_stemming(engine):
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
def test_transliteration_both_ways(engine, query, local_ids):
    found = ids(engine, query)
    for local in local_ids:
        assert rid(local) in found, f"{query!r} should find {local}"


def test_kyrgyz_letters_fold_for_matching(engine):
    # People type Көл on a Russian keyboard as Кол.
    assert rid("oai:knu:2") in ids(engine, "Ысык-Кол")


def test_phrase(engine):
    assert ids(engine, '"climate change"') == {rid("oai:auca:10")}
    assert ids(engine, '"change climate"') == set()


def test_boolean_operators(engine):
    assert ids(engine, "climate AND glacier") == {rid("oai:auca:10"), rid("oai:auca:11")}
    assert ids(engine, "climate OR management") == {rid("oai:auca:10"), rid("oai:auca:11"), rid("oai:auca:12")}
    assert ids(engine, "change NOT climate") == {rid("oai:auca:12")}
    assert ids(engine, "change -climate") == {rid("oai:auca:12")}
    assert ids(engine, "(climate OR management) AND Brown") == {rid("oai:auca:12")}


def test_implicit_and(engine):
    assert ids(engine, "water Kyrgyzstan", relax=False) == {rid("oai:auca:13"), rid("oai:auca:14")}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("water in Kyrgyzstan", {"oai:auca:13", "oai:auca:14"}),  # "of" in the titles, not "in"
        ("экология и озера", {"oai:knu:1"}),
        ("экологические проблемы в Бишкеке", {"oai:knu:3"}),
    ],
)
def test_function_words_are_not_required(engine, query, expected):
    assert ids(engine, query, relax=False) == {rid(i) for i in expected}


def test_a_query_of_function_words_only_requires_them(engine):
    assert ids(engine, "in the", relax=False) == ids(engine, "in AND the")
    assert rid("oai:auca:11") in ids(engine, "in the", relax=False)  # "... in the Tien Shan"


def test_few_records_with_every_word_come_first_then_records_with_fewer(engine):
    result = engine.search(SearchQuery(q="water Kyrgyzstan", per_page=100))
    both = {rid("oai:auca:13"), rid("oai:auca:14")}
    assert result.relaxed is not None and (result.relaxed.all_words, result.relaxed.of) == (2, 2)
    assert {h.id for h in result.hits[:2]} == both
    rest = result.hits[2:]
    assert rest and all(h.score < min(b.score for b in result.hits[:2]) for h in rest)


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
def test_field_and_code_queries(engine, query, expected):
    assert ids(engine, query) == {rid(x) for x in expected}


def test_field_query_limits_the_field(engine):
    # "Smith" is an author, never a title word.
    assert ids(engine, "title:Smith") == set()


def test_prefix(engine):
    assert {rid("oai:knu:1"), rid("oai:knu:3")} <= ids(engine, "экол*")
    assert rid("marc:100") in ids(engine, "Bish*")
    assert ids(engine, "glac*") == {rid("oai:auca:10"), rid("oai:auca:11")}


# --- filters and facets ----------------------------------------------------------------


def test_term_filters(engine):
    assert ids(engine, filters={"type": ["patent"]}) == {rid("KG1234"), rid("KG1300")}
    both = ids(engine, filters={"type": ["patent", "dissertation"]})
    assert both == {r.id for r in CORPUS if r.type.value in ("patent", "dissertation")}
    combo = ids(engine, filters={"source": ["auca"], "access": ["open"]})
    assert combo == {r.id for r in CORPUS if r.source == "auca" and r.access.value == "open"}


def test_year_range(engine):
    got = ids(engine, year_from=2019, year_to=2021)
    assert got == {r.id for r in CORPUS if r.year is not None and 2019 <= r.year <= 2021}
    assert ids(engine, year_from=2022) == {r.id for r in CORPUS if r.year is not None and r.year >= 2022}


def _expected_facets(records, name):
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


@pytest.mark.parametrize("facet", FACET_NAMES)
def test_facet_counts_match_the_corpus(engine, facet):
    result = engine.search(SearchQuery(facets=[facet], facet_size=100, per_page=1))
    got = [(f.value, f.count) for f in result.facets[facet]]
    assert got == _expected_facets(CORPUS, facet)


def test_facet_size_keeps_the_top_values(engine):
    result = engine.search(SearchQuery(facets=["subject"], facet_size=3, per_page=1))
    assert [(f.value, f.count) for f in result.facets["subject"]] == _expected_facets(CORPUS, "subject")[:3]


def test_facets_are_disjunctive(engine):
    # With type=patent selected, the type facet still offers the other types,
    # while every other facet counts only patents.
    result = engine.search(SearchQuery(filters={"type": ["patent"]}, facets=["type", "source"], facet_size=100))
    assert [(f.value, f.count) for f in result.facets["type"]] == _expected_facets(CORPUS, "type")
    patents = [r for r in CORPUS if r.type.value == "patent"]
    assert [(f.value, f.count) for f in result.facets["source"]] == _expected_facets(patents, "source")
    assert result.total == 2


def test_facets_follow_the_text_query(engine):
    result = engine.search(SearchQuery(q="climate", facets=["year"]))
    assert {f.value: f.count for f in result.facets["year"]} == {"2021": 1, "2018": 1}


# --- sorting and paging ----------------------------------------------------------------


def _year_key(r, newest: bool):
    if r.year is None:
        return (1, 0, r.id)
    return (0, -r.year if newest else r.year, r.id)


ORACLE = {
    "newest": sorted(CORPUS, key=lambda r: _year_key(r, True)),
    "oldest": sorted(CORPUS, key=lambda r: _year_key(r, False)),
    "title": sorted(CORPUS, key=lambda r: (title_sort_key(r), r.id)),
}


@pytest.mark.parametrize("sort", ["newest", "oldest", "title"])
def test_sort_orders(engine, sort):
    result = engine.search(SearchQuery(sort=sort, per_page=100))
    assert [h.id for h in result.hits] == [r.id for r in ORACLE[sort]]


def test_relevance_scores_descend_and_title_matches_rank_first(engine):
    result = engine.search(SearchQuery(q="экология", per_page=100))
    scores = [h.score for h in result.hits]
    assert all(s is not None for s in scores)
    assert scores == sorted(scores, reverse=True)
    # Title matches (boosted) outrank a subject-only match.
    order = [h.id for h in result.hits]
    assert order.index(rid("oai:knu:1")) < order.index(rid("oai:knu:3"))


@pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "title"])
def test_cursor_walks_every_hit_once_in_order(engine, sort):
    q = "" if sort != "relevance" else "сборник OR экология"
    full = engine.search(SearchQuery(q=q, sort=sort, per_page=100))
    walked, cursor, pages = [], None, 0
    while True:
        page = engine.search(SearchQuery(q=q, sort=sort, per_page=7, cursor=cursor))
        walked += [h.id for h in page.hits]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
        assert pages < 20, "the cursor never ends"
    assert walked == [h.id for h in full.hits]
    assert len(walked) == len(set(walked)) == full.total


def test_page_and_per_page(engine):
    first = engine.search(SearchQuery(sort="newest", per_page=10, page=1))
    second = engine.search(SearchQuery(sort="newest", per_page=10, page=2))
    assert [h.id for h in first.hits + second.hits] == [r.id for r in ORACLE["newest"][:20]]
    assert first.total == second.total == len(CORPUS)


def test_per_page_is_capped():
    with pytest.raises(ValueError):
        SearchQuery(per_page=1000)
    with pytest.raises(ValueError, match="cursor"):
        SearchQuery(page=5000, per_page=100)


def test_cursor_from_another_sort_is_refused(engine):
    page = engine.search(SearchQuery(sort="newest", per_page=5))
    with pytest.raises(InvalidCursor):
        engine.search(SearchQuery(sort="title", per_page=5, cursor=page.next_cursor))
    with pytest.raises(InvalidCursor):
        engine.search(SearchQuery(sort="title", cursor="not-a-cursor"))


# --- highlights, empty results, get ----------------------------------------------------


def test_highlights_hold_the_query_terms(engine):
    result = engine.search(SearchQuery(q="экологии"))
    hit = next(h for h in result.hits if h.id == rid("oai:knu:1"))
    assert hit.highlights["title"] == ["<mark>Экология</mark> озера Иссык-Куль"]
    translit = engine.search(SearchQuery(q="Issyk-Kul"))
    hit = next(h for h in translit.hits if h.id == rid("oai:knu:2"))
    assert "<mark>Ысык</mark>-<mark>Көл</mark>" in hit.highlights["title"][0]


def test_highlights_escape_untrusted_metadata(engine):
    result = engine.search(SearchQuery(q="script экология"))
    hit = next(h for h in result.hits if h.id == rid("oai:knu:xss"))
    assert "<script>" not in hit.highlights["title"][0]
    assert hit.highlights["title"][0].startswith("&lt;<mark>script</mark>&gt;")
    assert hit.record.main_title == "<script>alert(1)</script> Экология"  # the data itself is kept


def test_empty_result(engine):
    result = engine.search(SearchQuery(q="zzzqqqxxy", facets=list(FACET_NAMES)))
    assert result.total == 0 and result.hits == [] and result.next_cursor is None
    assert all(result.facets[f] == [] for f in FACET_NAMES)


def test_get_returns_the_indexed_record(engine):
    original = CORPUS[3]
    assert engine.get(original.id) == original
    assert engine.get("nosuch-0000000000000000") is None


def test_count_by_source(engine):
    assert engine.count_by_source() == dict(Counter(r.source for r in CORPUS))


def test_health(engine):
    health = engine.health()
    assert health.reachable and health.documents == len(CORPUS)
    # The index's age: when its newest document was written, not the records' own (older) dates.
    assert IMPORTED_AT - 1 <= health.last_update <= time.time()
    assert health.last_update > max(r.harvested_at.timestamp() for r in CORPUS)


def test_suggest_from_latin_and_cyrillic(engine):
    assert any(s.text == "Бишкек: история города" for s in engine.suggest("Bishk"))
    assert any("Экология" in s.text for s in engine.suggest("Эколог"))
    assert engine.suggest("z") == []


# --- hostile input ---------------------------------------------------------------------

HOSTILE = [
    '"',
    ":",
    "(",
    ")",
    "*",
    "\\",
    "~",
    "^",
    "[",
    "]",
    "{",
    "}",
    '" : ( ) * \\ ~ ^ [ ] { }',
    '"climate change',
    "climate)",
    "((((climate",
    "title:",
    "AND",
    "OR OR",
    "NOT",
    "-",
    "author:(",
    "*:*",
    "year:abc",
    "a*",
    "/.*/",
    "климат~2",
    'title:"',
    "\u0000",
    "x" * 10_000,
    " ".join(["climate"] * 2000),
    "(" * 500 + "climate" + ")" * 500,
]


@pytest.mark.parametrize("q", HOSTILE, ids=lambda q: repr(q[:20]))
def test_hostile_input_never_fails(engine, q):
    result = engine.search(SearchQuery(q=q, facets=["type"]))
    assert result.total >= 0


def test_broken_syntax_degrades_to_words(engine):
    assert rid("oai:auca:10") in ids(engine, '"climate change')
    assert rid("oai:auca:10") in ids(engine, "((climate")
    assert ids(engine, "unknownfield:climate") <= ids(engine, "climate")


# --- writes ----------------------------------------------------------------------------


def test_upsert_replaces(fresh_engine):
    original = CORPUS[0]
    changed = original.model_copy(update={"title": [LangText(value="Гляциология Тянь-Шаня", lang="ru")]})
    report = fresh_engine.upsert([changed])
    fresh_engine.refresh()
    assert report.indexed == 1 and report.errors == []
    assert ids(fresh_engine, "гляциология") == {original.id}
    assert original.id not in ids(fresh_engine, "title:Иссык-Куль")
    assert fresh_engine.search(SearchQuery()).total == len(CORPUS)
    assert fresh_engine.get(original.id).main_title == "Гляциология Тянь-Шаня"


def test_delete_removes(fresh_engine):
    target = CORPUS[3]
    assert fresh_engine.delete([target.id]) == 1
    fresh_engine.refresh()
    assert fresh_engine.get(target.id) is None
    assert target.id not in ids(fresh_engine, "climate")
    assert fresh_engine.delete([target.id]) == 0
    assert fresh_engine.search(SearchQuery()).total == len(CORPUS) - 1


def test_rebuild_switches_to_the_new_content(fresh_engine):
    report = fresh_engine.rebuild(CORPUS[:5])
    assert report.indexed == 5 and report.errors == []
    assert fresh_engine.search(SearchQuery()).total == 5
    assert fresh_engine.get(CORPUS[10].id) is None


# --- the two engines agree -------------------------------------------------------------

AGREEMENT_QUERIES = [
    "",
    "экология",
    "Bishkek",
    "climate OR water",
    '"water resources"',
    "экол*",
    "type:dissertation",
    "сборник",
    "Issyk-Kul",
    "история NOT Бишкек",
]


def test_engines_agree(tmp_path: Path, es_url: str):
    engines = {kind: make_engine(kind, tmp_path / kind, es_url) for kind in ENGINES}
    try:
        for q in AGREEMENT_QUERIES:
            for filters in ({}, {"type": ["book", "article"]}, {"language": ["en"]}):
                query = SearchQuery(q=q, filters=filters, facets=list(FACET_NAMES), facet_size=50, per_page=100)
                a, b = (engines[k].search(query) for k in ENGINES)
                assert a.total == b.total, (q, filters)
                assert {h.id for h in a.hits} == {h.id for h in b.hits}, (q, filters)
                assert a.facets == b.facets, (q, filters)
    finally:
        for kind, eng in engines.items():
            drop_engine(kind, eng, es_url)
