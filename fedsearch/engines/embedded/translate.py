"""Our query plan (fedsearch/engines/query.py) as tantivy queries.

Built from tantivy's query constructors, never from its query syntax: a user's words
cannot become operators here.
"""

from __future__ import annotations

import re

import tantivy
from tantivy import Occur
from tantivy import Query as TQ

from fedsearch.engines.document import FIELDS
from fedsearch.engines.query import Bool, Clause, Constant, Fuzzy, MatchAll, Phrase, Plan, Prefix, Term

I64_MIN, I64_MAX = -(2**63), 2**63 - 1
_REGEX_META = re.compile(r"([\\.+*?()|\[\]{}^$])")


def translate(clause: Clause, schema: tantivy.Schema) -> tantivy.Query:
    if isinstance(clause, MatchAll):
        return TQ.all_query()
    if isinstance(clause, Term):
        if FIELDS.get(clause.field) == "int":
            value = _as_i64(clause.term)
            if value is None:
                return TQ.empty_query()
            q = TQ.term_query(schema, clause.field, value)
        else:
            if not clause.term:
                return TQ.empty_query()
            q = TQ.term_query(schema, clause.field, clause.term)
        return _boost(q, clause.boost)
    if isinstance(clause, Phrase):
        terms = [t for t in clause.terms if t]
        if not terms:
            return TQ.empty_query()
        if len(terms) == 1:
            q = TQ.term_query(schema, clause.field, terms[0])
        else:
            q = TQ.phrase_query(schema, clause.field, terms)
        return _boost(q, clause.boost)
    if isinstance(clause, Prefix):
        if not clause.prefix:
            return TQ.empty_query()
        return _boost(
            TQ.regex_query(schema, clause.field, _REGEX_META.sub(r"\\\1", clause.prefix) + ".*"), clause.boost
        )
    if isinstance(clause, Fuzzy):
        if not clause.term:
            return TQ.empty_query()
        return _boost(
            TQ.fuzzy_term_query(schema, clause.field, clause.term, distance=1, transposition_cost_one=True),
            clause.boost,
        )
    if isinstance(clause, Constant):
        return TQ.const_score_query(translate(clause.clause, schema), clause.score)
    if isinstance(clause, Bool):
        if not clause.must and not clause.should:
            return TQ.empty_query()  # "at least one should" of none: nothing
        subs: list[tuple[Occur, tantivy.Query]] = []
        subs += [(Occur.Must, translate(c, schema)) for c in clause.must]
        subs += [(Occur.Should, translate(c, schema)) for c in clause.should]
        subs += [(Occur.MustNot, translate(c, schema)) for c in clause.must_not]
        if len(subs) == 1:
            return subs[0][1]
        return TQ.boolean_query(subs)
    raise TypeError(f"unknown plan clause {clause!r}")


def _boost(q: tantivy.Query, boost: float) -> tantivy.Query:
    return q if boost == 1.0 else TQ.boost_query(q, boost)


def constant_score(clause: Clause) -> bool:
    """True when every hit scores the same, so relevance order is id order."""
    if isinstance(clause, MatchAll):
        return True
    if isinstance(clause, Bool):
        return not clause.should and bool(clause.must) and all(constant_score(c) for c in clause.must)
    return False


def _as_i64(value: str) -> int | None:
    try:
        n = int(str(value).strip())
    except ValueError:
        return None
    return n if I64_MIN <= n <= I64_MAX else None


def filter_queries(plan: Plan, schema: tantivy.Schema) -> dict[str, tantivy.Query]:
    """Facet name -> its filter (OR within it). The year range belongs to `year`."""
    out: dict[str, tantivy.Query] = {}
    for name, values in plan.filters.items():
        if not values:
            continue
        if FIELDS.get(name) == "int":
            numbers = sorted({n for v in values if (n := _as_i64(v)) is not None})
            out[name] = TQ.term_set_query(schema, name, numbers) if numbers else TQ.empty_query()
        else:
            out[name] = TQ.term_set_query(schema, name, list(values))
    if plan.year_from is not None or plan.year_to is not None:
        rng = TQ.range_query(
            schema, "year", tantivy.FieldType.Integer, lower_bound=plan.year_from, upper_bound=plan.year_to
        )
        out["year"] = TQ.boolean_query([(Occur.Must, out["year"]), (Occur.Must, rng)]) if "year" in out else rng
    return out


def with_filters(q: tantivy.Query, filters: list[tantivy.Query]) -> tantivy.Query:
    """`q` restricted by `filters`, which add nothing to the score."""
    if not filters:
        return q
    return TQ.boolean_query([(Occur.Must, q)] + [(Occur.Must, TQ.const_score_query(f, 0.0)) for f in filters])
