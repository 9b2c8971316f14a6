"""The engine interface: one small base class, one module per engine.

An engine indexes `Record`s and answers `SearchQuery`s. Everything both engines
share lives here or in query.py/document.py: query parsing and compilation,
the index document, highlighting, cursors and suggestions. An engine module
only translates a `Plan` to its own query language and runs it.
tests/test_engine_conformance.py is the suite every engine must pass.
"""

from __future__ import annotations

import base64
import html
import json
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel

from fedsearch import analysis
from fedsearch.engines.changes import Change, ChangeQuery, Departure, DepartureLog, merge_changes
from fedsearch.engines.query import (
    Bool,
    Plan,
    SearchQuery,
    fuzzy_plan,
    highlight_terms,
    plan_for,
    relaxed_plans,
    within_one_edit,
)
from fedsearch.record import Record


class EngineError(Exception):
    """The engine failed in a way the caller can't fix by changing the query."""


class EngineUnavailable(EngineError):
    """The engine can't be reached (down, or not yet started). The API answers 503."""


class InvalidCursor(ValueError):
    """A cursor that is not one we issued, or from another sort order."""


class BulkError(BaseModel):
    id: str
    reason: str


class BulkReport(BaseModel):
    indexed: int = 0
    errors: list[BulkError] = []
    analyse_seconds: float = 0.0  # of the call's time, building index documents (indexers/timings.py)

    def merge(self, other: "BulkReport") -> "BulkReport":
        return BulkReport(indexed=self.indexed + other.indexed, errors=self.errors + other.errors,
                          analyse_seconds=self.analyse_seconds + other.analyse_seconds)


class FacetValue(BaseModel):
    value: str
    count: int


class Hit(BaseModel):
    id: str
    score: float | None = None
    record: Record
    # field -> HTML-escaped fragments with the query's words in <mark>...</mark>
    highlights: dict[str, list[str]] = {}


# Fewer hits than this holding every word of a plain query: records holding most words follow them.
# 1 (only when nothing holds every word) keeps "every word is required" true whenever it can be;
# 10 measured better on the tune half (nDCG@10 0.853 against 0.830, mixed 0.568 against 0.507:
# docs/relevance.md) but widens small result sets that are right as they are.
RELAX_BELOW = 1


class Relaxed(BaseModel):
    """Set when the hits include records holding only `required` of the query's `of` words,
    after the `all_words` records (0: none) that hold every word."""

    required: int
    of: int
    all_words: int = 0


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
        for relaxation in relaxed_plans(query) if strict_total < RELAX_BELOW and query.relax else []:
            # Every word required found (next to) nothing: most of them ("Нарын облусу животноводство").
            # Records holding every word keep coming first: the strict clause scores again.
            plan = replace(relaxation.plan, clause=Bool(must=(relaxation.plan.clause,), should=(strict_plan.clause,)))
            wider = self.execute(plan, query, after)
            if wider.total > strict_total:
                result = wider
                relaxed = Relaxed(required=relaxation.required, of=relaxation.of, all_words=strict_total)
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
            hits.append(Hit(id=record.id, score=score, record=record, highlights=highlight(record, terms) if terms else {}))
        next_cursor = None
        if result.has_more and result.hits:
            next_cursor = encode_cursor(query.sort.value, result.hits[-1][2])
        took = (time.perf_counter() - started) * 1000
        return SearchResult(total=result.total, hits=hits, facets=result.facets, next_cursor=next_cursor,
                            took_ms=round(took, 2), relaxed=relaxed, corrected=corrected)

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
                if any(analysis.fold(w).startswith(want[0]) or analysis.skeleton(w).startswith(want[1]) for w in analysis.words(value)):
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
                    if analysis.fold(w) != typed and any(within_one_edit(a, b) for a in stems for b in analysis.query_stems(w)):
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
    except Exception:
        raise InvalidCursor("this cursor is not valid; start again from the first page") from None
    if data.get("s") != sort:
        raise InvalidCursor(f"this cursor belongs to sort {data.get('s')!r}, not {sort!r}; start again from the first page")
    return values


# --- highlighting ----------------------------------------------------------------------

def highlight_text(text: str, terms: tuple[set[str], set[str], tuple[str, ...]]) -> str | None:
    """`text` HTML-escaped, with words matching the query in <mark>; None if none match."""
    stems, skels, prefixes = terms
    out: list[str] = []
    pos = 0
    matched = False
    for m in analysis._WORD_RE.finditer(text):
        word = analysis._APOS_RE.sub("", m.group())
        if not word:
            continue
        hit = (
            not stems.isdisjoint(analysis.query_stems(word))
            or not skels.isdisjoint(analysis.query_keys(word))
            or any(analysis.fold(word).startswith(p) or analysis.key_prefix(word).startswith(p) for p in prefixes)
        )
        if hit:
            out.append(html.escape(text[pos : m.start()]))
            out.append(f"<mark>{html.escape(m.group())}</mark>")
            pos = m.end()
            matched = True
    out.append(html.escape(text[pos:]))
    return "".join(out) if matched else None


def highlight(record: Record, terms: tuple[set[str], set[str], tuple[str, ...]]) -> dict[str, list[str]]:
    fields = {
        "title": [t.value for t in record.title + record.title_alt],
        "authors": [p.name for p in record.authors + record.contributors],
        "subjects": list(record.subjects),
        "abstract": [t.value for t in record.abstract],
    }
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
        if not stems.isdisjoint(analysis.query_stems(m.group())) or not skels.isdisjoint(analysis.query_keys(m.group())):
            start = max(0, m.start() - size // 3)
            return ("…" if start else "") + text[start : start + size] + "…"
    return text[:size] + "…"
