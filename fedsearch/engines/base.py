"""The engine interface: one small base class, one module per engine.

An engine indexes `Record`s and answers `SearchQuery`s. Everything both engines
share lives here or in query.py/document.py: query parsing and compilation,
the index document, highlighting, cursors and suggestions. An engine module
only translates a `Plan` to its own query language and runs it.
fedsearch/testing/conformance/ is the suite every engine must pass.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from pydantic import BaseModel

from fedsearch import analysis
from fedsearch.engines import parallel
from fedsearch.engines import query as query_module
from fedsearch.engines.changes import Change, ChangeQuery, Departure, DepartureLog, merge_changes
from fedsearch.engines.cursors import InvalidCursor as InvalidCursor  # importable from here too
from fedsearch.engines.cursors import decode_cursor as decode_cursor
from fedsearch.engines.cursors import encode_cursor
from fedsearch.engines.highlight import highlight
from fedsearch.engines.highlight import highlight_text as highlight_text
from fedsearch.engines.query import (
    MAX_PER_PAGE,
    Bool,
    Clause,
    Constant,
    MatchAll,
    Plan,
    SearchQuery,
    Sort,
    fuzzy_plan,
    plan_for,
    relaxed_plans,
    within_one_edit,
)
from fedsearch.errors import FedsearchError
from fedsearch.record import Record


class EngineError(FedsearchError):
    """The engine failed in a way the caller can't fix by changing the query."""

    error_code = "engine.failed"


class EngineUnavailable(EngineError):
    """The engine can't be reached (down, or not yet started). The API answers 503."""

    error_code = "engine.unavailable"


class BulkError(BaseModel):
    id: str
    reason: str


class BulkReport(BaseModel):
    indexed: int = 0
    errors: list[BulkError] = []
    analyse_seconds: float = 0.0  # of the call's time, building index documents (indexers/timings.py)

    def merge(self, other: BulkReport) -> BulkReport:
        return BulkReport(
            indexed=self.indexed + other.indexed,
            errors=self.errors + other.errors,
            analyse_seconds=self.analyse_seconds + other.analyse_seconds,
        )


class FacetValue(BaseModel):
    value: str
    count: int


class Hit(BaseModel):
    id: str
    score: float | None = None
    record: Record
    # field -> HTML-escaped fragments with the query's words in <mark>...</mark>
    highlights: dict[str, list[str]] = {}


# Fewer hits than this holding every word of a plain query: records holding most words follow
# them, in tiers by how many words they hold (query.COVERAGE_SCORE), widening (all but one, half,
# any one) until this many are found. A first screen of results should not be a near-empty page
# when the reader's words are spread over records in two languages ("tuberculosis кургак учук")
# or one word is missing from the right record. 1 meant: only when nothing holds every word.
# Tune half: nDCG@10 0.830 at 1, 0.855 at 10, 0.856 at 20 (docs/relevance.md).
RELAX_BELOW = 10


class Relaxed(BaseModel):
    """Set when the hits include records holding only `required` of the query's `of` words,
    after the `all_words` records (0: none) that hold every word; or records holding
    `translated`, the query read through the parallel titles of those that hold it
    (fedsearch/engines/parallel.py), ranked after them and before partial matches."""

    required: int
    of: int
    all_words: int = 0
    translated: list[str] = []


class SearchResult(BaseModel):
    total: int
    hits: list[Hit]
    facets: dict[str, list[FacetValue]] = {}
    next_cursor: str | None = None
    took_ms: float = 0.0
    relaxed: Relaxed | None = None
    corrected: str | None = None  # the query as the hits spell it, when a typo was forgiven


class Suggestion(BaseModel):
    text: str
    field: str  # title | author | subject


class EngineHealth(BaseModel):
    engine: str
    reachable: bool
    documents: int | None = None
    last_update: float | None = None  # epoch seconds of the newest indexed record
    detail: str | None = None
    cluster: Literal["green", "yellow", "red"] | None = None  # Elasticsearch's cluster health; None: no cluster


@dataclass
class EngineHits:
    """What an engine returns for a plan: records in order, with their sort values."""

    total: int
    hits: list[tuple[Record, float | None, list[Any]]]  # record, score, sort values for the cursor
    facets: dict[str, list[FacetValue]]
    has_more: bool  # another hit follows the last one returned


class SearchEngine(ABC):
    name: str = "base"

    # --- write ---------------------------------------------------------------------
    @abstractmethod
    def ensure_index(self) -> None:
        """Create the index (and alias) if it does not exist yet."""

    @abstractmethod
    def upsert(self, records: Iterable[Record]) -> BulkReport:
        """Add or replace records; every rejected one is reported with its reason."""

    @abstractmethod
    def delete(self, ids: Iterable[str]) -> int:
        """Remove records by id; returns how many existed."""

    @abstractmethod
    def refresh(self) -> None:
        """Make writes so far visible to searches (commit)."""

    @abstractmethod
    def commit(self) -> None:
        """Make writes so far durable: once this returns, killing this process (or the engine) loses none.

        The indexer marks records indexed only after it (indexers/pipeline.py). Visibility to
        searches is `refresh`'s business and may lag.
        """

    @abstractmethod
    def generation(self) -> str:
        """The name of the index searches are served from now (it changes when `rebuild` switches)."""

    @abstractmethod
    def rebuild(self, records: Iterable[Record], before_switch: Callable[[str], None] | None = None) -> BulkReport:
        """Write a fresh index from `records`, then switch searches to it at once.

        `before_switch(name)` is called with the new index's `generation()` name after it is
        complete and durable, just before the switch; if it raises, nothing switches.
        """

    # --- read ----------------------------------------------------------------------
    @abstractmethod
    def execute(self, plan: Plan) -> EngineHits:
        """Run a plan: `plan.clause` under its filters, hits in `plan.sort` order, ties broken by id ascending.

        Hits start at `plan.offset`, or right after the sort values `plan.after`; at most `plan.per_page`.
        Facets (`plan.facets`, `plan.facet_size` buckets each) are disjunctive: a facet's counts
        apply every filter but its own. Buckets are ordered by count descending, then value ascending.
        """

    @abstractmethod
    def get(self, record_id: str) -> Record | None: ...

    @abstractmethod
    def count_by_source(self) -> dict[str, int]: ...

    @abstractmethod
    def health(self) -> EngineHealth: ...

    def close(self) -> None:  # noqa: B027 - optional
        pass

    # --- change feed (fedsearch/engines/changes.py; the OAI-PMH provider reads it) ---
    def list_live(self, q: ChangeQuery) -> list[Change]:
        """Works with since <= updated <= until, after the cursor, in (updated, id) order."""
        raise NotImplementedError(f"the {self.name} engine has no change feed")

    def count_live(self, q: ChangeQuery) -> int:
        raise NotImplementedError(f"the {self.name} engine has no change feed")

    def departure_log(self) -> DepartureLog:
        """Where this engine keeps the works that left the index (any object with DepartureLog's methods)."""
        raise NotImplementedError(f"the {self.name} engine keeps no departures")

    def note_departures(self, ids: Iterable[str], merged_into: Mapping[str, str] | None = None) -> None:
        """Record that these works leave the index now: call before deleting them, while their sets can be read."""
        stamp = int(time.time())
        merged_into = merged_into or {}
        self.departure_log().add([Departure.of(i, stamp, self.get(i), merged_into.get(i)) for i in ids])

    def list_changes(self, q: ChangeQuery) -> list[Change]:
        """Live works and departures together, in (stamp, id) order after the cursor."""
        gone = [Change(id=d.id, stamp=d.stamp, departure=d) for d in self.departure_log().list(q)]
        return merge_changes(self.list_live(q), gone, q.limit)

    def count_changes(self, q: ChangeQuery) -> int:
        return self.count_live(q) + self.departure_log().count(q)

    # --- shared behaviour ----------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        """The query parsed once into a plan (query.plan_for), executed, loosened when it finds little."""
        started = time.perf_counter()
        strict_plan = plan_for(query)
        result = self.execute(strict_plan)
        relaxed = None
        strict_total = result.total
        translated: tuple[Clause, ...] = ()
        reading: list[str] = []
        if 0 < strict_total < RELAX_BELOW and strict_plan.relax:
            # Few records hold the words as typed: the words their parallel titles share in another
            # language read the query in it (fedsearch/engines/parallel.py), ranked after them.
            translated, reading = self._parallel_reading(strict_plan, result)
            if translated:
                wider = self.execute(replace(strict_plan, clause=Bool(should=(strict_plan.clause, *translated))))
                if wider.total > result.total:
                    result = wider
                    n = len(parallel.content_words(query.q) or ())
                    relaxed = Relaxed(required=n, of=n, all_words=strict_total, translated=reading)
                else:
                    translated, reading = (), []
        for relaxation in relaxed_plans(strict_plan) if result.total < RELAX_BELOW and strict_plan.relax else []:
            # Every word required found (next to) nothing: most of them ("Нарын облусу животноводство").
            # Records holding every word keep coming first: the strict clause scores again.
            plan = replace(
                relaxation.plan, clause=Bool(should=(relaxation.plan.clause, strict_plan.clause, *translated))
            )
            wider = self.execute(plan)
            if wider.total > result.total:
                result = wider
                relaxed = Relaxed(
                    required=relaxation.required, of=relaxation.of, all_words=strict_total, translated=reading
                )
            if result.total >= RELAX_BELOW:
                break
        corrected = None
        terms = strict_plan.terms
        if result.total == 0 and strict_plan.relax and (fuzzy := fuzzy_plan(strict_plan)) is not None:
            # A typo ("землетресений"): words of 6+ letters one edit away, offered as "did you mean".
            result = self.execute(fuzzy[0])
            if result.total:
                corrected = _corrected(query.q, fuzzy[1], [r for r, _, _ in result.hits])
                if corrected and terms is not None:  # highlight the words as the hits spell them
                    terms = plan_for(SearchQuery(q=corrected, relax=False)).terms
        hits = [
            Hit(id=record.id, score=score, record=record, highlights=highlight(record, terms) if terms else {})
            for record, score, _ in result.hits
        ]
        next_cursor = None
        if result.has_more and result.hits:
            next_cursor = encode_cursor(strict_plan.sort.value, result.hits[-1][2])
        took = (time.perf_counter() - started) * 1000
        return SearchResult(
            total=result.total,
            hits=hits,
            facets=result.facets,
            next_cursor=next_cursor,
            took_ms=round(took, 2),
            relaxed=relaxed,
            corrected=corrected,
        )

    def _parallel_reading(self, strict_plan: Plan, result: EngineHits) -> tuple[tuple[Clause, ...], list[str]]:
        """Optional clauses adding the query read through its hits' parallel titles, and the
        words of that reading: records holding it score just under one holding every typed
        word (tiers of query.COVERAGE_SCORE per word), and match as an alternative."""
        words = parallel.content_words(strict_plan.q)
        if not words or query_module.COVERAGE_SCORE <= 0:
            return (), []
        seeds = [r for r, _, _ in result.hits]
        if len(seeds) < result.total:  # a later page, or a small one: read the best hits
            seed_plan = replace(
                strict_plan, offset=0, per_page=parallel.SEED_HITS, after=None, facets=(), sort=Sort.relevance
            )
            seeds = [r for r, _, _ in self.execute(seed_plan).hits]
        reading = parallel.translation(strict_plan.q, seeds)
        if not reading:
            return (), []
        clause = parallel.translation_clause(reading)
        n = len(words)
        return (
            Constant(strict_plan.clause, query_module.COVERAGE_SCORE * n),
            Constant(clause, query_module.COVERAGE_SCORE * (n - 0.5)),
            clause,
        ), list(reading)

    def work_absorbing(self, record_id: str) -> Record | None:
        """The merged work that lists `record_id` among its members, other than the record itself:
        where a record merged away now lives (its page answers 301 there)."""
        hits = self.execute(Plan(clause=MatchAll(), filters={"members": [record_id]}, per_page=2)).hits
        return next((r for r, _, _ in hits if r.id != record_id), None)

    def scan(self, filters: dict[str, list[str]], page_size: int = MAX_PER_PAGE) -> Iterator[Record]:
        """Every record matching `filters` (index field -> any of these values), in id order,
        a page at a time after the previous page's last hit: no offsets, so each page costs the same."""
        plan = Plan(clause=MatchAll(), filters=filters, per_page=page_size)
        while True:
            result = self.execute(plan)
            for record, _, _ in result.hits:
                yield record
            if not result.has_more or not result.hits:
                return
            plan = replace(plan, after=result.hits[-1][2])

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        """Completions over titles, authors and subjects, from Cyrillic or Latin input."""
        ws = analysis.words(text)
        if not ws or len(ws[-1]) < 2:
            return []
        head, last = ws[:-1], ws[-1]
        q = " ".join(head + [last + "*"])
        result = self.search(SearchQuery(q=q, per_page=20, highlight=False))
        want = (analysis.fold(last), analysis.skeleton(last))
        out: list[Suggestion] = []
        seen: set[str] = set()
        for hit in result.hits:
            r = hit.record
            candidates = [("title", t.value) for t in r.title[:1]]
            candidates += [("author", p.name) for p in r.authors]
            candidates += [("subject", s) for s in r.subjects]
            for field, value in candidates:
                if value.lower() in seen:
                    continue
                if any(
                    analysis.fold(w).startswith(want[0]) or analysis.skeleton(w).startswith(want[1])
                    for w in analysis.words(value)
                ):
                    seen.add(value.lower())
                    out.append(Suggestion(text=value, field=field))
                    if len(out) >= limit:
                        return out
        return out


def _corrected(q: str, loose: tuple[str, ...], records: list[Record]) -> str | None:
    """The query with each loosened word replaced by the hits' word it was taken for: the
    one spelled nearest the word as typed, then the commonest in the best hits."""
    out = q
    for word in loose:
        stems = set(analysis.query_stems(word))
        typed = analysis.fold(word)
        seen: Counter[str] = Counter()
        for record in records[:10]:
            for t in [t.value for t in record.title + record.title_alt + record.abstract] + list(record.subjects):
                for w in analysis.words(t):
                    if analysis.fold(w) != typed and any(
                        within_one_edit(a, b) for a in stems for b in analysis.query_stems(w)
                    ):
                        seen[w.lower()] += 1
        if seen:
            best = min(seen, key=lambda w: (not within_one_edit(analysis.fold(w), typed), -seen[w], w))
            out = out.replace(word, best)
    return out if out != q else None
