"""Facets on the embedded index: terms aggregations (Elasticsearch's JSON) under every
filter but the facet's own.

No per-segment cut, so counts are exact as on a one-shard Elasticsearch index; ties in
count are ordered by value here.
"""

from __future__ import annotations

import tantivy

from fedsearch.engines.base import FacetValue
from fedsearch.engines.document import bucket_value
from fedsearch.engines.embedded.layout import Generation
from fedsearch.engines.embedded.translate import with_filters
from fedsearch.engines.facetcache import FacetCache, facet_key
from fedsearch.engines.query import MatchAll, Plan

EXACT_SEGMENT_SIZE = 2**31 - 1


def cached_facets(
    cache: FacetCache,
    gen: Generation,
    searcher: tantivy.Searcher,
    plan: Plan,
    text: tantivy.Query,
    filters: dict[str, tantivy.Query],
) -> dict[str, list[FacetValue]]:
    """Facets of a query without words come from the cache while the index is unchanged (facetcache.py)."""
    if not isinstance(plan.clause, MatchAll):
        return facets(searcher, text, filters, plan)
    state = (gen.directory.name, gen.meta_sig, searcher.num_docs)
    key = facet_key(plan.filters, plan.year_from, plan.year_to, plan.facets, plan.facet_size)
    found = cache.get(state, key)
    if found is None:
        found = facets(searcher, text, filters, plan)
        cache.put(state, key, found)
    return dict(found)


def facets(
    searcher: tantivy.Searcher, text: tantivy.Query, filters: dict[str, tantivy.Query], plan: Plan
) -> dict[str, list[FacetValue]]:
    """Each facet counted under the words and every filter but its own."""
    groups: dict[str | None, list[str]] = {}
    for name in plan.facets:
        groups.setdefault(name if name in filters else None, []).append(name)
    out: dict[str, list[FacetValue]] = {}
    for excluded, names in groups.items():
        scope = with_filters(text, [f for facet, f in filters.items() if facet != excluded])
        out.update(_terms(searcher, scope, names, plan.facet_size))
    return {name: out[name] for name in plan.facets}


def _terms(
    searcher: tantivy.Searcher, scope: tantivy.Query, names: list[str], size: int
) -> dict[str, list[FacetValue]]:
    """Exact top `size` buckets per field: count descending, then value ascending.

    Every segment counts all its values (no per-segment cut, so counts are exact, as
    on a one-shard Elasticsearch index); tantivy returns the top `ask` buckets. If
    the bucket after the last one we keep has the same count, values tied with it may
    have been left out (tantivy doesn't order ties by value): ask for more.
    """
    out: dict[str, list[FacetValue]] = {}
    want = {name: size + 1 for name in names}
    while want:
        aggs = {
            name: {"terms": {"field": name, "size": ask, "segment_size": EXACT_SEGMENT_SIZE}}
            for name, ask in want.items()
        }
        result = searcher.aggregate(scope, aggs)
        again: dict[str, int] = {}
        for name, ask in want.items():
            buckets = result[name]["buckets"]
            if len(buckets) >= ask and buckets[ask - 1]["doc_count"] == buckets[size - 1]["doc_count"]:
                again[name] = ask * 4
                continue
            values = sorted(
                ((bucket_value(name, b["key"]), b["doc_count"]) for b in buckets), key=lambda kv: (-kv[1], kv[0])
            )
            out[name] = [FacetValue(value=v, count=c) for v, c in values[:size]]
        want = again
    return out
