"""One path for a query: q is parsed once into a plan that carries everything an engine needs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from fedsearch.engines import SearchQuery, Sort
from fedsearch.engines import query as query_module
from fedsearch.engines.cursors import InvalidCursor, encode_cursor
from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.engines.query import MatchAll, plan_for
from fedsearch.engines.query_syntax import MAX_QUERY_CHARS, highlight_terms
from fedsearch.testing.conformance import filled
from tests.corpus import rid


def test_the_plan_carries_sort_paging_facets_cursor_and_highlight_terms():
    cursor = encode_cursor("newest", [2021, "x"])
    plan = plan_for(
        SearchQuery(q="climate", sort=Sort.newest, per_page=7, facets=["type", "year"], facet_size=5, cursor=cursor)
    )
    assert (plan.sort, plan.per_page, plan.facets, plan.facet_size) == (Sort.newest, 7, ("type", "year"), 5)
    assert plan.after == [2021, "x"] and plan.q == "climate" and plan.node is not None
    assert plan.terms == highlight_terms("climate")
    assert plan_for(SearchQuery(q="climate", page=3, per_page=10)).offset == 20
    assert plan_for(SearchQuery(q="climate", highlight=False)).terms is None
    assert isinstance(plan_for(SearchQuery()).clause, MatchAll) and plan_for(SearchQuery()).terms is None
    with pytest.raises(InvalidCursor):
        plan_for(SearchQuery(sort=Sort.title, cursor=cursor))


def test_a_search_parses_its_text_once_even_when_it_is_loosened(tmp_path, monkeypatch):
    calls: list[str] = []
    real = query_module.parse

    def counting(text: str):
        calls.append(text)
        return real(text)

    monkeypatch.setattr(query_module, "parse", counting)
    query_module._parsed.cache_clear()
    engine = filled(EmbeddedEngine(tmp_path / "index", writer=True))
    try:
        # Two hits hold both words, so the search is relaxed (looser plans from the same parse).
        result = engine.search(SearchQuery(q="water Kyrgyzstan", per_page=100))
        assert result.relaxed is not None and {rid("oai:auca:13"), rid("oai:auca:14")} <= {h.id for h in result.hits}
        assert calls == ["water Kyrgyzstan"]
        assert any(h.highlights for h in result.hits)  # terms from the plan
        # Nothing found: the fuzzy plan, from the same parse; only the corrected text is parsed again.
        calls.clear()
        typo = engine.search(SearchQuery(q="экологея"))
        assert typo.corrected == "экология" and calls == ["экологея", "экология"]
        assert any("<mark>" in f for h in typo.hits for frags in h.highlights.values() for f in frags)
    finally:
        engine.close()


def test_an_engine_executes_only_the_plan(tmp_path):
    engine = filled(EmbeddedEngine(tmp_path / "index", writer=True))
    try:
        plan = plan_for(SearchQuery(sort=Sort.title, per_page=5, facets=["type"]))
        first = engine.execute(plan)
        second = engine.execute(replace(plan, after=first.hits[-1][2]))
        by_offset = engine.execute(replace(plan, offset=5))
        assert len(first.hits) == 5 and first.has_more and "type" in first.facets
        assert [r.id for r, _, _ in second.hits] == [r.id for r, _, _ in by_offset.hits]
    finally:
        engine.close()


def test_one_length_cap_for_the_query():
    # The API and the web UI refuse longer queries (search_api/params.py); an engine reads no further.
    assert SearchQuery(q="x" * (MAX_QUERY_CHARS + 50)).q == "x" * MAX_QUERY_CHARS


def test_a_front_end_asking_what_q_holds_shares_the_plan_parse(monkeypatch):
    calls: list[str] = []
    real = query_module.parse
    monkeypatch.setattr(query_module, "parse", lambda text: calls.append(text) or real(text))
    query_module._parsed.cache_clear()
    assert query_module.parsed_query("  ") is None  # nothing to search for: the web UI shows the newest
    assert query_module.parsed_query("climate OR вода") is not None
    plan = plan_for(SearchQuery(q="climate OR вода"))
    assert plan.node == query_module.parsed_query("climate OR вода") and calls == ["  ", "climate OR вода"]
