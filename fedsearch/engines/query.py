"""SearchQuery (ours) and its safe query syntax, compiled to a small plan.

User text never reaches an engine as query syntax. It is parsed into an AST
(words, "phrases", AND/OR/NOT, field:value, prefix*: query_syntax.py), which is
compiled here to a `Plan` of a handful of primitive clauses (term, phrase, prefix,
bool) over the pre-analyzed fields of fedsearch/engines/document.py. Each engine
only translates those primitives. Broken syntax degrades to plain words; parsing
never raises.

The scoring constants stay here with all the code that reads them (so ~500 lines, over our ~400 on purpose):
bench/relevance.py tunes them by setting them on this module.
"""

from __future__ import annotations

import functools
import itertools
import math
import re
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from fedsearch import analysis
from fedsearch.engines.cursors import decode_cursor
from fedsearch.engines.query_syntax import (
    MAX_QUERY_CHARS,
    MAX_WORDS,
    AndNode,
    HighlightTerms,
    Node,
    NotNode,
    OrNode,
    PhraseNode,
    PrefixNode,
    Word,
    looks_like_code,
    node_terms,
    parse,
)

MAX_PER_PAGE = 100
MAX_WINDOW = 10_000  # page * per_page beyond this needs the cursor (like ES's max_result_window)

FacetName = Literal["source", "type", "year", "language", "subject", "access", "institution"]
FACET_NAMES: tuple[str, ...] = FacetName.__args__  # type: ignore[attr-defined]


class Sort(StrEnum):
    relevance = "relevance"
    newest = "newest"
    oldest = "oldest"
    title = "title"


class SearchQuery(BaseModel):
    q: str = ""  # past MAX_QUERY_CHARS cut, not refused: an engine never fails on its input
    filters: dict[FacetName, list[Annotated[str, Field(max_length=500)]]] = {}
    year_from: Annotated[int | None, Field(ge=0, le=9999)] = None
    year_to: Annotated[int | None, Field(ge=0, le=9999)] = None
    facets: list[FacetName] = []
    facet_size: Annotated[int, Field(ge=1, le=200)] = 10
    sort: Sort = Sort.relevance
    page: Annotated[int, Field(ge=1)] = 1
    per_page: Annotated[int, Field(ge=1, le=MAX_PER_PAGE)] = 20
    cursor: str | None = None  # from SearchResult.next_cursor; replaces page
    highlight: bool = True
    relax: bool = True  # when every word finds nothing, look for most of them (SearchResult.relaxed)

    @field_validator("q")
    @classmethod
    def _cap_q(cls, v: str) -> str:
        return v[:MAX_QUERY_CHARS]

    @field_validator("filters")
    @classmethod
    def _drop_empty(cls, v: dict[str, list[str]]) -> dict[str, list[str]]:
        return {k: sorted(set(vals)) for k, vals in v.items() if vals}

    @model_validator(mode="after")
    def _check_window(self) -> SearchQuery:
        if self.cursor is None and self.page * self.per_page > MAX_WINDOW:
            raise ValueError(
                f"page {self.page} with per_page {self.per_page} goes past result {MAX_WINDOW}; "
                "use the cursor (next_cursor) to page deeper"
            )
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            raise ValueError(f"year_from ({self.year_from}) is after year_to ({self.year_to})")
        return self

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


# --- the plan: primitives both engines translate ---------------------------------------


@dataclass(frozen=True)
class Term:
    field: str
    term: str
    boost: float = 1.0


@dataclass(frozen=True)
class Phrase:
    field: str
    terms: tuple[str, ...]
    boost: float = 1.0


@dataclass(frozen=True)
class Prefix:
    field: str
    prefix: str
    boost: float = 1.0


@dataclass(frozen=True)
class Fuzzy:
    """A term within one edit (insertion, deletion, substitution, transposition)."""

    field: str
    term: str
    boost: float = 1.0


@dataclass(frozen=True)
class Bool:
    must: tuple[Clause, ...] = ()
    should: tuple[Clause, ...] = ()  # at least one must match when there is no `must`
    must_not: tuple[Clause, ...] = ()


@dataclass(frozen=True)
class MatchAll:
    pass


@dataclass(frozen=True)
class Constant:
    """Matches what `clause` matches, and adds exactly `score` (no term statistics): for
    counting how many of a query's words a record holds."""

    clause: Clause
    score: float


Clause = Term | Phrase | Prefix | Fuzzy | Bool | MatchAll | Constant

# Field groups: each text group is indexed twice (see fedsearch/analysis.py).
# Boosts: title above subjects above abstract; the exact-script (stem) form
# above the transliterated skeleton. Tuned by bench/relevance.py against the
# judged queries of tests/relevance (numbers and reasons: docs/relevance.md).
TEXT_GROUPS: dict[str, float] = {"title": 4.0, "author": 3.0, "subject": 2.0, "abstract": 0.5}
# A skeleton match also rewards a word typed in the record's exact form (Ош, not
# Оша), and meets unrelated words across scripts (Kyrgyz тоо, English "to"): keep it low.
SKELETON_WEIGHT = 0.4
# A word typed in Latin letters that meets Cyrillic text through the key is the same word
# transliterated (a Kyrgyz or Russian name on a Latin keyboard: "Chingiz Aitmatov"), not a
# different word: its key match counts as much as a stem match. Tune half: 0.8690 at 0.4,
# 0.8714 at 1.0, 0.8710 at 1.5 (docs/relevance.md).
LATIN_SKELETON_WEIGHT = 1.0
CODE_BOOST = 5.0
# A title or author word typed exactly as written (Калыкбаева, not Калыкбаев; мөңгү, not мунгу)
# gets this much more: folding and stemming make them one term in the other fields. A tie-breaker
# between records the stems already matched, so small: at 1.5 a rare inflected form ("Тоо
# экосистемалары жана ...") outweighed title and subject evidence (tune half: 0.8595 at 1.5,
# 0.8683 on the plateau 0.25-0.5, 0.8700 at 0, which drops the tie-break issue 13 asks for).
EXACT_BOOST = 0.5
PHRASE_BONUS = 2.0
# Several plain words typed without quotes: a title holding them side by side, in
# the order typed, gets this much more (times the title boost). 0 turns it off.
TITLE_PHRASE_BOOST = 1.0
# Two or three plain words held side by side by one author's name (not spread over co-authors)
# get this much more (times the author boost). 0 turns it off.
SAME_PERSON_BOOST = 1.0
GROUPS_FOR_FIELD: dict[str | None, tuple[str, ...]] = {
    None: tuple(TEXT_GROUPS),
    "title": ("title",),
    "author": ("author",),
    "subject": ("subject",),
}


def _word_clause(word: str, field: str | None) -> Clause:
    if field == "year":
        return Term("year", word) if word.isdigit() else Bool()
    if field == "type":
        return Term("type", word.lower())
    if field == "identifier":
        return _code_clause(word)
    # The word's language is unknown: its Russian and its Kyrgyz readings are both tried.
    stems, keys = analysis.query_stems(word), analysis.query_keys(word)
    clauses: list[Clause] = []
    skeleton = SKELETON_WEIGHT if analysis.is_cyrillic(word) else LATIN_SKELETON_WEIGHT
    for group in GROUPS_FOR_FIELD.get(field, GROUPS_FOR_FIELD[None]):
        boost = TEXT_GROUPS[group]
        clauses += [Term(f"{group}_stem", st, boost) for st in stems if st]
        clauses += [Term(f"{group}_skel", sk, boost * skeleton) for sk in keys if sk]
    if field is None and EXACT_BOOST > 0:  # one field for titles and authors: not for title:, author:
        clauses.append(Term("exact", analysis.exact(word), EXACT_BOOST))
    if field is None and any(ch.isdigit() for ch in word):
        clauses.append(_code_clause(word))
    return Bool(should=tuple(clauses))


# A leading part of a UDC number finds the longer ones (502.5 finds 502.51(575.2)), below
# an exact match: "ranked by closeness".
UDC_PREFIX_BOOST = CODE_BOOST / 2


def _code_clause(code: str) -> Clause:
    bare = analysis.bare_code_term(code)
    exact = Term("codes", bare, CODE_BOOST)
    if not analysis.looks_like_udc_number(code):
        return exact
    return Bool(should=(exact, Prefix("codes", f"udc:{bare}", UDC_PREFIX_BOOST)))


def _phrase_clause(text: str, field: str | None) -> Clause:
    ws = analysis.words(text)[:MAX_WORDS]
    if field in ("identifier", "year", "type"):
        return _word_clause(text, field)
    if len(ws) == 1:
        return _word_clause(ws[0], field)
    clauses: list[Clause] = []
    for group in GROUPS_FOR_FIELD.get(field, GROUPS_FOR_FIELD[None]):
        boost = TEXT_GROUPS[group] * PHRASE_BONUS
        for lang in _readings(ws):
            clauses.append(Phrase(f"{group}_stem", tuple(analysis.stem(w, lang) for w in ws), boost))
            clauses.append(Phrase(f"{group}_skel", tuple(analysis.key(w, lang) for w in ws), boost * SKELETON_WEIGHT))
    if field is None and any(ch.isdigit() for ch in text):
        clauses.append(Term("codes", analysis.bare_code_term(text), CODE_BOOST))
    return Bool(should=tuple(clauses))


def _readings(ws: list[str]) -> tuple[str | None, ...]:
    """The languages to read a phrase in: Russian, and Kyrgyz when that stems it differently."""
    if all(analysis.stem(w) == analysis.stem(w, "ky") and analysis.key(w) == analysis.key(w, "ky") for w in ws):
        return (None,)
    return (None, "ky")


def _prefix_clause(text: str, field: str | None) -> Clause:
    if field == "identifier":
        return Prefix("codes", analysis.bare_code_term(text), CODE_BOOST)
    clauses: list[Clause] = []
    for group in GROUPS_FOR_FIELD.get(field, GROUPS_FOR_FIELD[None]):
        boost = TEXT_GROUPS[group]
        # Prefixes are folded but not stemmed: a stem may be longer than the prefix typed.
        clauses.append(Prefix(f"{group}_stem", analysis.fold(text), boost))
        clauses.append(Prefix(f"{group}_skel", analysis.key_prefix(text), boost * SKELETON_WEIGHT))
    return Bool(should=tuple(clauses))


def compile_node(node: Node | None) -> Clause:
    if node is None:
        return MatchAll()
    if isinstance(node, Word):
        return _word_clause(node.text, node.field)
    if isinstance(node, PhraseNode):
        return _phrase_clause(node.text, node.field)
    if isinstance(node, PrefixNode):
        return _prefix_clause(node.text, node.field)
    if isinstance(node, AndNode):
        must, must_not, optional = [], [], []
        stop = _stopword_children(node)
        for child in node.children:
            if isinstance(child, NotNode):
                must_not.append(compile_node(child.child))
            elif child in stop:
                optional.append(compile_node(child))  # scores when present, never required
            else:
                must.append(compile_node(child))
        if not must:
            must.append(MatchAll())
        return Bool(must=tuple(must), must_not=tuple(must_not), should=tuple(optional) + _title_phrase(node))
    if isinstance(node, OrNode):
        return Bool(should=tuple(compile_node(c) for c in node.children))
    if isinstance(node, NotNode):
        return Bool(must=(MatchAll(),), must_not=(compile_node(node.child),))
    raise TypeError(f"unknown query node {node!r}")


def _stopword_children(node: AndNode) -> set[Node]:
    """The plain function words of an AND ("of", "в", "жана"): optional, unless the query is
    nothing but function words (then they are what was asked for)."""
    stop: set[Node] = {
        c for c in node.children if isinstance(c, Word) and c.field is None and analysis.is_stopword(c.text)
    }
    content = [c for c in node.children if c not in stop and not isinstance(c, NotNode)]
    return stop if content else set()


def _title_phrase(node: AndNode) -> tuple[Clause, ...]:
    """For plain words typed without quotes ("изменение климата"): an optional phrase
    clause, so titles holding the words side by side rank above titles that hold them
    apart ("Изменения инвестиционного климата"). It adds to the score, never filters."""
    if TITLE_PHRASE_BOOST <= 0:
        return ()
    ws: list[str] = []
    for child in node.children:
        if not isinstance(child, (Word, PhraseNode)) or child.field is not None:
            return ()  # NOT, prefixes, field:value, OR groups: no implicit phrase
        if isinstance(child, Word) and looks_like_code(child.text):
            return ()
        ws += analysis.words(child.text)
    ws = ws[:MAX_WORDS]
    if len(ws) < 2:
        return ()
    # Over the stem form only: a skeleton phrase as well changed no judged ranking
    # and doubles the cost of a common phrase ("перспективы развития").
    boost = TEXT_GROUPS["title"] * TITLE_PHRASE_BOOST
    readings = _readings(ws)
    title = tuple(Phrase("title_stem", tuple(analysis.stem(w, lang) for w in ws), boost) for lang in readings)
    return title + _same_person(ws)


def _same_person(ws: list[str]) -> tuple[Clause, ...]:
    """Two or three words that may be one person's name ("Медведев Вадим", "Osmonova Aigul"):
    an optional phrase over the author fields, in the order typed and, for two words, reversed
    (given name first). Names of different people are separate values, which neither engine
    lets a phrase span, so a co-author "Белов, Вадим" next to "Медведев, Владимир" does not
    count as "Медведев Вадим". 0 turns it off."""
    if SAME_PERSON_BOOST <= 0 or not 2 <= len(ws) <= 3 or not all(w.isalpha() for w in ws):
        return ()
    boost = TEXT_GROUPS["author"] * SAME_PERSON_BOOST
    orders = (ws, ws[::-1]) if len(ws) == 2 else (ws,)
    out: list[Clause] = []
    for order in orders:
        for lang in _readings(order):  # a name with Kyrgyz letters is analysed as Kyrgyz
            out.append(Phrase("author_stem", tuple(analysis.stem(w, lang) for w in order), boost))
            out.append(Phrase("author_skel", tuple(analysis.key(w, lang) for w in order), boost * SKELETON_WEIGHT))
    return tuple(out)


@dataclass
class Plan:
    """A query as an engine executes it (`SearchEngine.execute(plan)`): a scoring clause and
    filters, which hits to return in what order, the facets to count, and the parsed query
    the looser plans and the highlighter start from. `plan_for` parses `q` once; the
    relaxed, translated and fuzzy plans are copies with another clause (dataclasses.replace)."""

    clause: Clause
    # facet name -> allowed values (OR within a facet, AND across facets)
    filters: dict[str, list[str]] = field(default_factory=dict)
    year_from: int | None = None
    year_to: int | None = None
    sort: Sort = Sort.relevance  # ties broken by id ascending
    offset: int = 0  # hits skipped, unless `after` is set
    per_page: int = 20
    after: list[Any] | None = None  # the sort values of the previous page's last hit (a decoded cursor)
    facets: tuple[str, ...] = ()  # counted disjunctively: each under every filter but its own
    facet_size: int = 10
    relax: bool = False  # when few records hold every word, look for most of them (SearchResult.relaxed)
    q: str = ""  # the query as typed
    node: Node | None = None  # q parsed (query_syntax.parse); None: match everything
    terms: HighlightTerms | None = None  # what the highlighter marks; None: no highlights


def plan_for(query: SearchQuery) -> Plan:
    """The query's plan; raises InvalidCursor for a cursor we did not issue for this sort."""
    node, clause, terms = _parsed(query.q)
    return Plan(
        clause=clause,
        filters=dict(query.filters),
        year_from=query.year_from,
        year_to=query.year_to,
        sort=query.sort,
        offset=query.offset,
        per_page=query.per_page,
        after=decode_cursor(query.cursor, query.sort.value) if query.cursor else None,
        facets=tuple(query.facets),
        facet_size=query.facet_size,
        relax=query.relax,
        q=query.q,
        node=node,
        terms=terms if query.highlight and query.q.strip() else None,
    )


def parsed_query(q: str) -> Node | None:
    """`q` parsed (None: it matches everything), from the cache `plan_for` reads: a front end
    asking what a query holds before searching it parses nothing twice."""
    return _parsed(q[:MAX_QUERY_CHARS])[0]


@functools.lru_cache(maxsize=2048)
def _parsed(q: str) -> tuple[Node | None, Clause, HighlightTerms]:
    """A query text parsed, compiled and read for highlighting, once per distinct text
    (nodes and clauses are frozen; callers never change the terms' sets)."""
    node = parse(q)
    clause = compile_node(node)
    code = analysis.bare_code_term(q[:200])
    if any(ch.isdigit() for ch in code) and not isinstance(clause, MatchAll):
        # The whole query may be one unquoted code: "A01B 1/00", "978-9967-..."
        clause = Bool(should=(clause, Term("codes", code, CODE_BOOST)))
    return node, clause, node_terms(node)


# --- forgiving queries: most of the words, when all of them find nothing ------------------

_OPERATOR_RE = re.compile(r"(?:^|\s)(?:AND|OR|NOT)(?:\s|$)")
# Each word a relaxed hit holds adds this to its score: above any word's BM25 share, so hits
# come in tiers by how many of the words they hold, by relevance within a tier. 0: off.
COVERAGE_SCORE = 1000.0
MAX_COMBINATIONS = 20  # "k of n" is spelled out as the OR of every k-word AND; past this, any word


def has_operators(q: str) -> bool:
    """Quotes, AND, OR or NOT: the user said how the words combine, so they are not loosened."""
    return '"' in q or bool(_OPERATOR_RE.search(q))


@dataclass(frozen=True)
class Relaxation:
    """A query whose every word was required and found nothing, run again needing fewer."""

    plan: Plan
    required: int  # words a record must hold (1: any of them)
    of: int  # words in the query


def relaxed_plans(plan: Plan) -> list[Relaxation]:
    """The query needing fewer of its words, most first: all but one, then half, then any
    one. Empty when it is not a run of plain words (operators, fields, NOT and quotes mean
    what they say)."""
    if has_operators(plan.q):
        return []  # quotes and AND say the user meant every word
    node = plan.node
    if not isinstance(node, AndNode):
        return []
    if any(not isinstance(c, (Word, PhraseNode)) or c.field is not None for c in node.children):
        return []
    stop = _stopword_children(node)
    content = [c for c in node.children if c not in stop]
    n = len(content)
    children = [compile_node(c) for c in content]
    optional = tuple(compile_node(c) for c in node.children if c in stop)
    # More of the words first, whatever their term statistics: a record holding both words
    # of "Osmonova Aigul" (one through its Cyrillic spelling) above one with a Latin "Aigul".
    coverage = tuple(Constant(c, COVERAGE_SCORE) for c in children) if COVERAGE_SCORE > 0 else ()
    ranking = tuple(children) + optional + _title_phrase(node) + coverage
    out = []
    for k in sorted({n - 1, math.ceil(n / 2), 1}, reverse=True):
        if k < 1 or k >= n:
            continue
        if k == 1 or math.comb(n, k) > MAX_COMBINATIONS:
            if out and out[-1].required == 1:
                continue
            k, clause = 1, Bool(should=tuple(children))
        else:
            clause = Bool(should=tuple(Bool(must=tuple(combo)) for combo in itertools.combinations(children, k)))
        out.append(Relaxation(plan=replace(plan, clause=Bool(must=(clause,), should=ranking)), required=k, of=n))
    return out


# --- "did you mean": one edit away, for long words --------------------------------------

FUZZY_MIN_LETTERS = 6  # shorter words have too many neighbours one edit away
FUZZY_MAX_LETTERS = 30  # a Levenshtein automaton over a huge "word" costs the engine dearly
FUZZY_WEIGHT = 0.5  # below any exact match


def fuzzy_plan(plan: Plan) -> tuple[Plan, tuple[str, ...]] | None:
    """The query with each word of 6+ letters also matching stems one edit away, and the
    words so loosened; None when no word qualifies or the query has operators."""
    if has_operators(plan.q):
        return None
    node = plan.node
    children = node.children if isinstance(node, AndNode) else (node,)
    if any(not isinstance(c, Word) or c.field is not None for c in children):
        return None
    loose = tuple(
        c.text for c in children if FUZZY_MIN_LETTERS <= len(c.text) <= FUZZY_MAX_LETTERS and c.text.isalpha()
    )
    if not loose:
        return None
    must: list[Clause] = []
    stop = _stopword_children(node) if isinstance(node, AndNode) else set()
    optional = tuple(compile_node(c) for c in children if c in stop)
    for child in children:
        if child in stop:
            continue
        clause = compile_node(child)
        if child.text in loose:
            fuzzy = [
                Fuzzy(f"{group}_stem", st, boost * FUZZY_WEIGHT)
                for group, boost in TEXT_GROUPS.items()
                for st in analysis.query_stems(child.text)
            ]
            clause = Bool(should=(clause, *fuzzy))
        must.append(clause)
    return replace(plan, clause=Bool(must=tuple(must), should=optional)), loose


def within_one_edit(a: str, b: str) -> bool:
    """Damerau-Levenshtein distance <= 1 (adjacent transposition counts one)."""
    if a == b:
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :] or (a[i + 2 :] == b[i + 2 :] and a[i : i + 2] == b[i : i + 2][::-1])
    longer, shorter = (a, b) if len(a) > len(b) else (b, a)
    return longer[i + 1 :] == shorter[i:]
