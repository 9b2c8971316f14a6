"""Hits as the engine stored them: each record's JSON parsed, not validated again (the JSON API's thin path).

Every record was validated when it was indexed, and the index document keeps it as
`Record.model_dump_json(exclude_none=True)` (fedsearch/engines/document.py). Validating it
again on every hit cost about 20 µs a record, a tenth of a search's CPU beyond the engine's
own work (docs/benchmarks.md, "Search"). An engine that can hand over the stored JSON offers
`execute_stored`; `search_stored` then answers a plain search with dicts. Queries that
`SearchEngine.search` would widen (few hits: the parallel reading, relaxation, typo correction)
need whole records: for them `search_stored` answers None and the caller runs `search`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from fedsearch.engines.base import RELAX_BELOW, FacetValue, SearchEngine
from fedsearch.engines.cursors import encode_cursor
from fedsearch.engines.highlight import highlight_fields
from fedsearch.engines.query import Plan, SearchQuery, plan_for

StoredRecord = dict[str, Any]  # a record's stored JSON, parsed: None-valued fields are absent


@dataclass
class StoredHits:
    """`EngineHits` with each record as its stored JSON, parsed."""

    total: int
    hits: list[tuple[StoredRecord, float | None, list[Any]]]  # record, score, sort values for the cursor
    facets: dict[str, list[FacetValue]]
    has_more: bool


class StoredExecutor(Protocol):
    def execute_stored(self, plan: Plan) -> StoredHits: ...


@dataclass
class StoredResult:
    """`SearchResult` with each hit as (stored record, highlights); never relaxed nor corrected."""

    total: int
    hits: list[tuple[StoredRecord, dict[str, list[str]]]]
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    next_cursor: str | None = None
    took_ms: float = 0.0


def search_stored(engine: SearchEngine, query: SearchQuery) -> StoredResult | None:
    """`engine.search(query)` with stored records, or None when `engine.search` must answer it."""
    execute = getattr(engine, "execute_stored", None)
    if execute is None:
        return None
    started = time.perf_counter()
    plan = plan_for(query)
    result: StoredHits = execute(plan)
    if plan.relax and result.total < RELAX_BELOW:
        return None  # SearchEngine.search widens these with the records' words
    terms = plan.terms
    hits = [(data, highlight_fields(stored_texts(data), terms) if terms else {}) for data, _, _ in result.hits]
    next_cursor = None
    if result.has_more and result.hits:
        next_cursor = encode_cursor(plan.sort.value, result.hits[-1][2])
    took = (time.perf_counter() - started) * 1000
    return StoredResult(
        total=result.total, hits=hits, facets=result.facets, next_cursor=next_cursor, took_ms=round(took, 2)
    )


def stored_texts(data: StoredRecord) -> dict[str, list[str]]:
    """The texts the highlighter reads, as `base.highlight` takes them from a Record."""
    return {
        "title": [t["value"] for t in data["title"] + data.get("title_alt", [])],
        "authors": [p["name"] for p in data.get("authors", []) + data.get("contributors", [])],
        "subjects": list(data.get("subjects", [])),
        "abstract": [t["value"] for t in data.get("abstract", [])],
    }
