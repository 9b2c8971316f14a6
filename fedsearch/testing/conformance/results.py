"""The conformance suite, part two: what an engine returns (see __init__.py)."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from fedsearch.engines import SearchEngine, SearchQuery
from fedsearch.engines.base import InvalidCursor
from fedsearch.engines.document import title_sort_key
from fedsearch.engines.query import FACET_NAMES
from fedsearch.record import LangText, Record
from fedsearch.testing.conformance.support import IMPORTED_AT, ids
from fedsearch.testing.corpus import CORPUS, rid


def _year_key(r: Record, newest: bool) -> tuple[int, int, str]:
    if r.year is None:
        return (1, 0, r.id)
    return (0, -r.year if newest else r.year, r.id)


ORACLE = {
    "newest": sorted(CORPUS, key=lambda r: _year_key(r, True)),
    "oldest": sorted(CORPUS, key=lambda r: _year_key(r, False)),
    "title": sorted(CORPUS, key=lambda r: (title_sort_key(r), r.id)),
}


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


class ResultConformance:
    """What an engine returns: orders, pages and cursors, highlights, records, health, hostile input, writes."""

    @pytest.mark.parametrize("sort", ["newest", "oldest", "title"])
    def test_sort_orders(self, engine: SearchEngine, sort: str) -> None:
        result = engine.search(SearchQuery(sort=sort, per_page=100))
        assert [h.id for h in result.hits] == [r.id for r in ORACLE[sort]]

    def test_relevance_scores_descend_and_title_matches_rank_first(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="экология", per_page=100))
        scores = [h.score for h in result.hits if h.score is not None]
        assert len(scores) == len(result.hits)
        assert scores == sorted(scores, reverse=True)
        # Title matches (boosted) outrank a subject-only match.
        order = [h.id for h in result.hits]
        assert order.index(rid("oai:knu:1")) < order.index(rid("oai:knu:3"))

    @pytest.mark.parametrize("sort", ["relevance", "newest", "oldest", "title"])
    def test_cursor_walks_every_hit_once_in_order(self, engine: SearchEngine, sort: str) -> None:
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

    def test_page_and_per_page(self, engine: SearchEngine) -> None:
        first = engine.search(SearchQuery(sort="newest", per_page=10, page=1))
        second = engine.search(SearchQuery(sort="newest", per_page=10, page=2))
        assert [h.id for h in first.hits + second.hits] == [r.id for r in ORACLE["newest"][:20]]
        assert first.total == second.total == len(CORPUS)

    def test_cursor_from_another_sort_is_refused(self, engine: SearchEngine) -> None:
        page = engine.search(SearchQuery(sort="newest", per_page=5))
        with pytest.raises(InvalidCursor):
            engine.search(SearchQuery(sort="title", per_page=5, cursor=page.next_cursor))
        with pytest.raises(InvalidCursor):
            engine.search(SearchQuery(sort="title", cursor="not-a-cursor"))

    def test_highlights_hold_the_query_terms(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="экологии"))
        hit = next(h for h in result.hits if h.id == rid("oai:knu:1"))
        assert hit.highlights["title"] == ["<mark>Экология</mark> озера Иссык-Куль"]
        translit = engine.search(SearchQuery(q="Issyk-Kul"))
        hit = next(h for h in translit.hits if h.id == rid("oai:knu:2"))
        assert "<mark>Ысык</mark>-<mark>Көл</mark>" in hit.highlights["title"][0]

    def test_highlights_escape_untrusted_metadata(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="script экология"))
        hit = next(h for h in result.hits if h.id == rid("oai:knu:xss"))
        assert "<script>" not in hit.highlights["title"][0]
        assert hit.highlights["title"][0].startswith("&lt;<mark>script</mark>&gt;")
        assert hit.record.main_title == "<script>alert(1)</script> Экология"  # the data itself is kept

    def test_empty_result(self, engine: SearchEngine) -> None:
        result = engine.search(SearchQuery(q="zzzqqqxxy", facets=list(FACET_NAMES)))
        assert result.total == 0 and result.hits == [] and result.next_cursor is None
        assert all(result.facets[f] == [] for f in FACET_NAMES)

    def test_get_returns_the_indexed_record(self, engine: SearchEngine) -> None:
        original = CORPUS[3]
        assert engine.get(original.id) == original
        assert engine.get("nosuch-0000000000000000") is None

    def test_count_by_source(self, engine: SearchEngine) -> None:
        assert engine.count_by_source() == dict(Counter(r.source for r in CORPUS))

    def test_health(self, engine: SearchEngine) -> None:
        health = engine.health()
        assert health.reachable and health.documents == len(CORPUS)
        # The index's age: when its newest document was written, not the records' own (older) dates.
        assert health.last_update is not None and IMPORTED_AT - 1 <= health.last_update <= time.time()
        assert health.last_update > max(r.harvested_at.timestamp() for r in CORPUS if r.harvested_at is not None)

    def test_suggest_from_latin_and_cyrillic(self, engine: SearchEngine) -> None:
        assert any(s.text == "Бишкек: история города" for s in engine.suggest("Bishk"))
        assert any("Экология" in s.text for s in engine.suggest("Эколог"))
        assert engine.suggest("z") == []

    @pytest.mark.parametrize("q", HOSTILE, ids=lambda q: repr(q[:20]))
    def test_hostile_input_never_fails(self, engine: SearchEngine, q: str) -> None:
        result = engine.search(SearchQuery(q=q, facets=["type"]))
        assert result.total >= 0

    def test_broken_syntax_degrades_to_words(self, engine: SearchEngine) -> None:
        assert rid("oai:auca:10") in ids(engine, '"climate change')
        assert rid("oai:auca:10") in ids(engine, "((climate")
        assert ids(engine, "unknownfield:climate") <= ids(engine, "climate")

    def test_upsert_replaces(self, fresh_engine: SearchEngine) -> None:
        original = CORPUS[0]
        changed = original.model_copy(update={"title": [LangText(value="Гляциология Тянь-Шаня", lang="ru")]})
        report = fresh_engine.upsert([changed])
        fresh_engine.refresh()
        assert report.indexed == 1 and report.errors == []
        assert ids(fresh_engine, "гляциология") == {original.id}
        assert original.id not in ids(fresh_engine, "title:Иссык-Куль")
        assert fresh_engine.search(SearchQuery()).total == len(CORPUS)
        replaced = fresh_engine.get(original.id)
        assert replaced is not None and replaced.main_title == "Гляциология Тянь-Шаня"

    def test_delete_removes(self, fresh_engine: SearchEngine) -> None:
        target = CORPUS[3]
        assert fresh_engine.delete([target.id]) == 1
        fresh_engine.refresh()
        assert fresh_engine.get(target.id) is None
        assert target.id not in ids(fresh_engine, "climate")
        assert fresh_engine.delete([target.id]) == 0
        assert fresh_engine.search(SearchQuery()).total == len(CORPUS) - 1

    def test_rebuild_switches_to_the_new_content(self, fresh_engine: SearchEngine) -> None:
        report = fresh_engine.rebuild(CORPUS[:5])
        assert report.indexed == 5 and report.errors == []
        assert fresh_engine.search(SearchQuery()).total == 5
        assert fresh_engine.get(CORPUS[10].id) is None
