"""The engine interface: one small base class, one module per engine.

An engine indexes `Record`s and answers `SearchQuery`s. Everything both engines
share lives here or in query.py/document.py: query parsing and compilation,
the index document, highlighting, cursors and suggestions. An engine module
only translates a `Plan` to its own query language and runs it.
tests/test_engine_conformance.py is the suite every engine must pass.
"""

from __future__ import annotations

import base64
import functools
import html
import json
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
from fedsearch.engines.query_syntax import highlight_terms
from fedsearch.errors import FedsearchError
from fedsearch.record import Record


class EngineError(FedsearchError):
    """The engine failed in a way the caller can't fix by changing the query."""

    error_code = "engine.failed"


class EngineUnavailable(EngineError):
    """The engine can't be reached (down, or not yet started). The API answers 503."""

    error_code = "engine.unavailable"


class InvalidCursor(FedsearchError, ValueError):
    """A cursor that is not one we issued, or from another sort order."""

    error_code = "api.invalid_cursor"


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
    def execute(self, plan: Plan, query: SearchQuery, after: list[Any] | None) -> EngineHits:
        """Run a compiled plan: hits in `query.sort` order, ties broken by id ascending.

        Hits start at `query.offset`, or right after the sort values `after`.
        Facets are disjunctive: a facet's counts apply every filter but its own.
        Buckets are ordered by count descending, then value ascending.
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
        started = time.perf_counter()
        after = decode_cursor(query.cursor, query.sort.value) if query.cursor else None
        strict_plan = plan_for(query)
        result = self.execute(strict_plan, query, after)
        relaxed = None
        strict_total = result.total
        translated: tuple[Clause, ...] = ()
        reading: list[str] = []
        if 0 < strict_total < RELAX_BELOW and query.relax:
            # Few records hold the words as typed: the words their parallel titles share in another
            # language read the query in it (fedsearch/engines/parallel.py), ranked after them.
            translated, reading = self._parallel_reading(strict_plan, query, after, result)
            if translated:
                plan = replace(strict_plan, clause=Bool(should=(strict_plan.clause, *translated)))
                wider = self.execute(plan, query, after)
                if wider.total > result.total:
                    result = wider
                    n = len(parallel.content_words(query.q) or ())
                    relaxed = Relaxed(required=n, of=n, all_words=strict_total, translated=reading)
                else:
                    translated, reading = (), []
        for relaxation in relaxed_plans(query) if result.total < RELAX_BELOW and query.relax else []:
            # Every word required found (next to) nothing: most of them ("Нарын облусу животноводство").
            # Records holding every word keep coming first: the strict clause scores again.
            plan = replace(
                relaxation.plan, clause=Bool(should=(relaxation.plan.clause, strict_plan.clause, *translated))
            )
            wider = self.execute(plan, query, after)
            if wider.total > result.total:
                result = wider
                relaxed = Relaxed(
                    required=relaxation.required, of=relaxation.of, all_words=strict_total, translated=reading
                )
            if result.total >= RELAX_BELOW:
                break
        corrected = None
        if result.total == 0 and query.relax and (fuzzy := fuzzy_plan(query)) is not None:
            # A typo ("землетресений"): words of 6+ letters one edit away, offered as "did you mean".
            result = self.execute(fuzzy[0], query, after)
            if result.total:
                corrected = _corrected(query.q, fuzzy[1], [r for r, _, _ in result.hits])
        hits = []
        terms = highlight_terms(corrected or query.q) if query.highlight and query.q.strip() else None
        for record, score, _ in result.hits:
            hits.append(
                Hit(id=record.id, score=score, record=record, highlights=highlight(record, terms) if terms else {})
            )
        next_cursor = None
        if result.has_more and result.hits:
            next_cursor = encode_cursor(query.sort.value, result.hits[-1][2])
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

    def _parallel_reading(
        self, strict_plan: Plan, query: SearchQuery, after: list[Any] | None, result: EngineHits
    ) -> tuple[tuple[Clause, ...], list[str]]:
        """Optional clauses adding the query read through its hits' parallel titles, and the
        words of that reading: records holding it score just under one holding every typed
        word (tiers of query.COVERAGE_SCORE per word), and match as an alternative."""
        words = parallel.content_words(query.q)
        if not words or query_module.COVERAGE_SCORE <= 0:
            return (), []
        seeds = [r for r, _, _ in result.hits]
        if len(seeds) < result.total:  # a later page, or a small one: read the best hits
            seed_query = query.model_copy(
                update={"page": 1, "per_page": parallel.SEED_HITS, "cursor": None, "facets": [], "sort": Sort.relevance}
            )
            seeds = [r for r, _, _ in self.execute(strict_plan, seed_query, None).hits]
        reading = parallel.translation(query.q, seeds)
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
        plan = Plan(clause=MatchAll(), filters={"members": [record_id]})
        hits = self.execute(plan, SearchQuery(per_page=2, highlight=False, relax=False), None).hits
        return next((r for r, _, _ in hits if r.id != record_id), None)

    def scan(self, filters: dict[str, list[str]], page_size: int = MAX_PER_PAGE) -> Iterator[Record]:
        """Every record matching `filters` (index field -> any of these values), in id order,
        a page at a time after the previous page's last hit: no offsets, so each page costs the same."""
        plan = Plan(clause=MatchAll(), filters=filters)
        query = SearchQuery(per_page=page_size, highlight=False, relax=False)
        after: list[Any] | None = None
        while True:
            result = self.execute(plan, query, after)
            for record, _, _ in result.hits:
                yield record
            if not result.has_more or not result.hits:
                return
            after = result.hits[-1][2]

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


# --- cursors ---------------------------------------------------------------------------


def encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = data["v"]
        if not isinstance(values, list):
            raise TypeError
    except Exception:  # noqa: BLE001 - whatever a malformed cursor breaks, it is not valid
        raise InvalidCursor("this cursor is not valid; start again from the first page") from None
    if data.get("s") != sort:
        raise InvalidCursor(
            f"this cursor belongs to sort {data.get('s')!r}, not {sort!r}; start again from the first page"
        )
    return values


# --- highlighting ----------------------------------------------------------------------

# What highlighting asks of each word of a text, worked out once per distinct text: the 20 hits
# of a popular query repeat their titles, authors and subjects request after request.
_Token = tuple[int, int, tuple[str, ...], tuple[str, ...], str]  # start, end, stems, keys, the word


@functools.lru_cache(maxsize=200_000)
def _word_forms(word: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A word's stems and cross-script keys: words repeat across texts, stemming is the cost."""
    return analysis.query_stems(word), analysis.query_keys(word)


@functools.lru_cache(maxsize=50_000)
def _tokens(text: str) -> tuple[_Token, ...]:
    out: list[_Token] = []
    for m in analysis._WORD_RE.finditer(text):
        word = analysis._APOS_RE.sub("", m.group())
        if word:
            out.append((m.start(), m.end(), *_word_forms(word), word))
    return tuple(out)


@functools.lru_cache(maxsize=50_000)
def _vocabulary(text: str) -> tuple[frozenset[str], frozenset[str]]:
    """Every stem and every key of a text's words: most texts of a hit match no word of the query,
    and two set tests say so without walking their words."""
    tokens = _tokens(text)
    return frozenset(s for t in tokens for s in t[2]), frozenset(k for t in tokens for k in t[3])


@functools.lru_cache(maxsize=200_000)
def _prefix_forms(word: str) -> tuple[str, str]:
    """What a query's prefix* is compared with: the word folded, and as a cross-script key prefix."""
    return analysis.fold(word), analysis.key_prefix(word)


def highlight_text(text: str, terms: tuple[set[str], set[str], tuple[str, ...]]) -> str | None:
    """`text` HTML-escaped, with words matching the query in <mark>; None if none match."""
    stems, skels, prefixes = terms
    if not prefixes:
        text_stems, text_keys = _vocabulary(text)
        if stems.isdisjoint(text_stems) and skels.isdisjoint(text_keys):
            return None
    out: list[str] = []
    pos = 0
    matched = False
    for start, end, word_stems, word_keys, word in _tokens(text):
        hit = (
            not stems.isdisjoint(word_stems)
            or not skels.isdisjoint(word_keys)
            or (prefixes and any(f.startswith(p) for f in _prefix_forms(word) for p in prefixes))
        )
        if hit:
            out.append(html.escape(text[pos:start]))
            out.append(f"<mark>{html.escape(text[start:end])}</mark>")
            pos = end
            matched = True
    if not matched:
        return None
    out.append(html.escape(text[pos:]))
    return "".join(out)


def highlight(record: Record, terms: tuple[set[str], set[str], tuple[str, ...]]) -> dict[str, list[str]]:
    fields = {
        "title": [t.value for t in record.title + record.title_alt],
        "authors": [p.name for p in record.authors + record.contributors],
        "subjects": list(record.subjects),
        "abstract": [t.value for t in record.abstract],
    }
    return highlight_fields(fields, terms)


def highlight_fields(
    fields: dict[str, list[str]], terms: tuple[set[str], set[str], tuple[str, ...]]
) -> dict[str, list[str]]:
    """field -> the fragments of its texts that hold a query word (abstracts: a window around the first)."""
    out: dict[str, list[str]] = {}
    for name, values in fields.items():
        frags = [h for v in values if (h := highlight_text(v if name != "abstract" else _window(v, terms), terms))]
        if frags:
            out[name] = frags
    return out


def _window(text: str, terms: tuple[set[str], set[str], tuple[str, ...]], size: int = 300) -> str:
    """A ~300-character window of a long abstract around its first matching word."""
    if len(text) <= size:
        return text
    stems, skels, _ = terms
    for m in analysis._WORD_RE.finditer(text):
        word_stems, word_keys = _word_forms(m.group())
        if not stems.isdisjoint(word_stems) or not skels.isdisjoint(word_keys):
            start = max(0, m.start() - size // 3)
            return ("…" if start else "") + text[start : start + size] + "…"
    return text[:size] + "…"
