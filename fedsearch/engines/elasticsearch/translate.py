"""Our query plan (fedsearch/engines/query.py) as Elasticsearch's query DSL, with the sorts,
filters, facet aggregations and cursor checks of a search.

User text never reaches Elasticsearch as query syntax: every clause is a term, phrase,
prefix or fuzzy query on terms our own analysis produced.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fedsearch.engines.base import InvalidCursor
from fedsearch.engines.document import FIELDS
from fedsearch.engines.elasticsearch.mapping import TERMS_ANALYZER
from fedsearch.engines.query import Bool, Clause, Constant, Fuzzy, MatchAll, Phrase, Plan, Prefix, Sort, Term

_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
_MATCH_NONE: dict[str, Any] = {"match_none": {}}
_BUCKET_ORDER = [{"_count": "desc"}, {"_key": "asc"}]
SORTS: dict[Sort, list[dict[str, Any]]] = {
    Sort.relevance: [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}],
    Sort.newest: [{"year": {"order": "desc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    Sort.oldest: [{"year": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
    Sort.title: [{"title_sort": {"order": "asc", "missing": "_last"}}, {"id": {"order": "asc"}}],
}


def translate(clause: Clause) -> dict[str, Any]:
    if isinstance(clause, MatchAll):
        return {"match_all": {}}
    if isinstance(clause, Term):
        value: Any = clause.term
        if FIELDS.get(clause.field) == "int":
            value = _as_long(clause.term)
            if value is None:  # "year:99999999999999999999" can match nothing
                return _MATCH_NONE
        return {"term": {clause.field: {"value": value, "boost": clause.boost}}}
    if isinstance(clause, Phrase):
        terms = [t for t in clause.terms if t]
        if not terms:
            return _MATCH_NONE
        # The terms are already analyzed; the whitespace analyzer keeps them as they are.
        return {
            "match_phrase": {
                clause.field: {"query": " ".join(terms), "analyzer": TERMS_ANALYZER, "slop": 0, "boost": clause.boost}
            }
        }
    if isinstance(clause, Prefix):
        if not clause.prefix:  # a prefix with no letters left after folding matches nothing
            return _MATCH_NONE
        return {"prefix": {clause.field: {"value": clause.prefix, "boost": clause.boost}}}
    if isinstance(clause, Fuzzy):
        if not clause.term:
            return _MATCH_NONE
        return {
            "fuzzy": {
                clause.field: {"value": clause.term, "fuzziness": 1, "transpositions": True, "boost": clause.boost}
            }
        }
    if isinstance(clause, Constant):
        return {"constant_score": {"filter": translate(clause.clause), "boost": clause.score}}
    if isinstance(clause, Bool):
        if not clause.must and not clause.should:  # "at least one should" of none: nothing
            return _MATCH_NONE
        bool_: dict[str, Any] = {}
        if clause.must:
            bool_["must"] = [translate(c) for c in clause.must]
        if clause.should:
            bool_["should"] = [translate(c) for c in clause.should]
            if not clause.must:
                bool_["minimum_should_match"] = 1
        if clause.must_not:
            bool_["must_not"] = [translate(c) for c in clause.must_not]
        return {"bool": bool_}
    raise TypeError(f"unknown plan clause {clause!r}")


def filter_clauses(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """(facet name, filter) pairs; the year range belongs to the `year` facet."""
    out: list[tuple[str, dict[str, Any]]] = []
    for name, values in plan.filters.items():
        if not values:
            continue
        if FIELDS.get(name) == "int":
            numbers = [n for v in values if (n := _as_long(v)) is not None]
            out.append((name, {"terms": {name: numbers}} if numbers else _MATCH_NONE))
        else:
            out.append((name, {"terms": {name: list(values)}}))
    if plan.year_from is not None or plan.year_to is not None:
        bounds = {k: v for k, v in (("gte", plan.year_from), ("lte", plan.year_to)) if v is not None}
        out.append(("year", {"range": {"year": bounds}}))
    return out


def facet_agg(name: str, filters: list[tuple[str, dict[str, Any]]], size: int, shards: int) -> dict[str, Any]:
    """Disjunctive facet: counts under every filter except the facet's own."""
    others = [clause for facet, clause in filters if facet != name]
    terms: dict[str, Any] = {"field": name, "size": size, "order": _BUCKET_ORDER}
    if shards > 1:
        # Each shard returns its own top buckets; asking for more makes the merged counts
        # (nearly) exact on a multi-shard index. One shard is exact (docs/engines.md).
        terms["shard_size"] = max(size * 5, 100)
    return {
        "filter": {"bool": {"filter": others}} if others else {"match_all": {}},
        "aggregations": {"values": {"terms": terms}},
    }


def check_cursor(after: list[Any], sort: Sort) -> None:
    """Sort values from a cursor must have the shape this sort returns."""
    first_ok: Callable[[Any], bool] = {
        Sort.relevance: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        Sort.newest: lambda v: isinstance(v, int) and not isinstance(v, bool) and _LONG_MIN <= v <= _LONG_MAX,
        Sort.oldest: lambda v: isinstance(v, int) and not isinstance(v, bool) and _LONG_MIN <= v <= _LONG_MAX,
        Sort.title: lambda v: isinstance(v, str) or v is None,
    }[sort]
    if len(after) != 2 or not first_ok(after[0]) or not isinstance(after[1], str):
        raise InvalidCursor("this cursor is not valid; start again from the first page")


def _as_long(value: str) -> int | None:
    try:
        n = int(value.strip())
    except ValueError:
        return None
    return n if _LONG_MIN <= n <= _LONG_MAX else None
