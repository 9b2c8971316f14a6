"""CQL, the query language of SRU, compiled into our own query plan.

Parsing is cql-parser's (PyPI `cql-parser`, the CLARIN FCS parser of CQL 1.2). Its tree is
compiled here, clause by clause, into fedsearch.engines.query nodes and plan clauses: a
term is always data (words, a phrase, a code, a year), never engine syntax.

What we answer (anything else is a diagnostic naming what was refused):

    index     dc.title | dc.creator | dc.subject | dc.identifier | bath.isbn | dc.date
              | cql.serverChoice (also cql.anywhere, no index at all) | cql.allRecords
    relation  =  all  any  adj  exact (==)  and for dc.date also  <  >  <=  >=
    boolean   and  or  not, with parentheses; no prox, no modifiers
    term      words; a trailing * truncates (dc.title = климат*)
    sortby    dc.date (/sort.descending for newest first), dc.title

`=` reads a term of several words as adjacent words (CQL 1.2); `exact` on text is a phrase
too, since titles are indexed as words, not whole strings.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from cql.parser import CQLParser12, CQLParserError, CQLQuery, CQLSearchClause, CQLTriple

from fedsearch import analysis
from fedsearch.engines.query import Bool, Clause, MatchAll, Sort, Term, compile_node
from fedsearch.engines.query_syntax import (
    MAX_WORDS,
    MIN_PREFIX,
    AndNode,
    Node,
    OrNode,
    PhraseNode,
    PrefixNode,
    Word,
)
from search_api.sru.diagnostics import Diagnostic

MAX_QUERY_CHARS = 4000
MAX_TERM_CHARS = 500
MAX_CLAUSES = 40
YEAR_MIN, YEAR_MAX = 1000, 2100  # fedsearch.record.Record.year's bounds

# index (lower case, with and without its context set) -> our field; None: anywhere
INDEXES: dict[str, str | None] = {
    "cql.serverchoice": None,
    "cql.anywhere": None,
    "cql.anyindexes": None,
    "dc.title": "title",
    "dc.creator": "author",
    "dc.subject": "subject",
    "dc.identifier": "identifier",
    "bath.isbn": "identifier",
    "dc.date": "year",
}
CONTEXT_SETS = {"cql", "dc", "bath"}
TEXT_RELATIONS = {"=", "scr", "all", "any", "adj", "exact", "=="}  # scr: CQL 1.1's name for =
DATE_RELATIONS = {"=", "==", "exact", "<", ">", "<=", ">="}
SORT_INDEXES = {"dc.date", "dc.title"}

logging.getLogger("cql").setLevel(logging.CRITICAL)  # the parser logs every syntax error it raises


@dataclass(frozen=True)
class CompiledQuery:
    clause: Clause
    sort: Sort


_local = threading.local()  # ply's parser keeps state while parsing: one per thread


def _parser() -> CQLParser12:
    parser = getattr(_local, "parser", None)
    if parser is None:
        parser = CQLParser12()
        parser.build()
        _local.parser = parser
    return parser


def parse(text: str) -> CQLQuery:
    if len(text) > MAX_QUERY_CHARS:
        raise Diagnostic(10, f"the query has {len(text)} characters; at most {MAX_QUERY_CHARS} are read")
    if not text.strip():
        raise Diagnostic(10, "the query is empty")
    try:
        tree = _parser().parse(text)
    except CQLParserError as err:
        raise Diagnostic(10, str(err)) from None
    except Exception as err:  # noqa: BLE001 - the lexer refuses some characters in its own way
        raise Diagnostic(10, f"{type(err).__name__}: {err}") from None
    if tree is None:
        raise Diagnostic(10, "the query could not be read")
    return tree


def compile_cql(text: str) -> CompiledQuery:
    """CQL text -> our plan clause and sort; raises Diagnostic for what we don't answer."""
    tree = parse(text)
    counter = [0]
    clause = _compile(tree.root, counter)
    return CompiledQuery(clause=clause, sort=_sort(tree.root))


def _compile(node: CQLTriple | CQLSearchClause, counter: list[int]) -> Clause:
    counter[0] += 1
    if counter[0] > MAX_CLAUSES:
        raise Diagnostic(38, f"at most {MAX_CLAUSES} search clauses and booleans")
    if isinstance(node, CQLTriple):
        op = node.operator.value.lower()
        if node.operator.modifiers:
            raise Diagnostic(46, str(node.operator.modifiers[0]).lstrip("/"))
        if op not in ("and", "or", "not"):
            raise Diagnostic(37, op)
        left, right = _compile(node.left, counter), _compile(node.right, counter)
        if op == "and":
            return Bool(must=(left, right))
        if op == "or":
            return Bool(should=(left, right))
        return Bool(must=(left,), must_not=(right,))
    return _search_clause(node)


def _index_name(clause: CQLSearchClause) -> str:
    if clause.index is None:
        return "cql.serverchoice"
    name = clause.index.name.lower()
    if "." not in name:  # an index without its context set: cql's own names, else Dublin Core's
        return f"cql.{name}" if f"cql.{name}" in INDEXES or name == "allrecords" else f"dc.{name}"
    prefix = name.split(".", 1)[0]
    if prefix not in CONTEXT_SETS:
        raise Diagnostic(15, prefix)
    return name


def _search_clause(clause: CQLSearchClause) -> Clause:
    index = _index_name(clause)
    relation = str(clause.relation.comparitor if clause.relation is not None else "=").lower()
    if clause.relation is not None and clause.relation.modifiers:
        raise Diagnostic(20, str(clause.relation.modifiers[0]).lstrip("/"))
    term = clause.term or ""
    if index == "cql.allrecords":
        return MatchAll()
    if index not in INDEXES:
        raise Diagnostic(16, clause.index.name if clause.index is not None else index)
    field = INDEXES[index]
    if len(term) > MAX_TERM_CHARS:
        raise Diagnostic(23, f"at most {MAX_TERM_CHARS} characters")
    if not term.strip():
        raise Diagnostic(27, index)
    if field == "year":
        return _date_clause(relation, term)
    if relation not in TEXT_RELATIONS:
        raise Diagnostic(19, relation)
    return compile_node(_term_node(term, field, relation))


def _date_clause(relation: str, term: str) -> Clause:
    if relation not in DATE_RELATIONS:
        raise Diagnostic(19, relation)
    head = term.strip()[:4]
    if not (head.isdigit() and len(head) == 4) or (len(term.strip()) > 4 and term.strip()[4] not in "-/."):
        raise Diagnostic(36, f"dc.date takes a year or a date beginning with one (2019, 2019-05-01), not {term!r}")
    year = int(head)
    low, high = {
        "<": (YEAR_MIN, year - 1),
        "<=": (YEAR_MIN, year),
        ">": (year + 1, YEAR_MAX),
        ">=": (year, YEAR_MAX),
    }.get(relation, (year, year))
    # A range is spelled out as the years in it: a clause like any other, so it can sit under OR and NOT.
    years = range(max(low, YEAR_MIN), min(high, YEAR_MAX) + 1)
    return Bool(should=tuple(Term("year", str(y)) for y in years))


def _term_node(term: str, field: str | None, relation: str) -> Node:
    body, truncated = term, False
    if body.endswith("*") and not body.endswith("\\*"):
        body, truncated = body.rstrip("*"), True
    if "*" in body.replace("\\*", "") or "?" in body.replace("\\?", ""):
        raise Diagnostic(28, "only a trailing * (truncation) is supported")
    body = body.replace("\\*", "*").replace("\\?", "?").replace('\\"', '"').replace("\\\\", "\\")
    if field == "identifier":
        if truncated:
            return PrefixNode(body.strip(), field)
        return Word(body.strip(), field)
    words = analysis.words(body)[:MAX_WORDS]
    if not words:
        raise Diagnostic(27, f"{term!r} holds no words")
    if truncated:
        if len(words[-1]) < MIN_PREFIX:
            raise Diagnostic(29, f"a truncated word needs at least {MIN_PREFIX} letters")
        head: list[Node] = [Word(w, field) for w in words[:-1]]
        last = PrefixNode(words[-1], field)
        if relation == "any":
            return OrNode((*head, last)) if head else last
        return AndNode((*head, last)) if head else last
    if len(words) == 1:
        return Word(words[0], field)
    if relation == "all":
        return AndNode(tuple(Word(w, field) for w in words))
    if relation == "any":
        return OrNode(tuple(Word(w, field) for w in words))
    return PhraseNode(" ".join(words), field)  # =, adj, exact: the words side by side


def _sort(root: CQLTriple | CQLSearchClause) -> Sort:
    specs = getattr(root, "sortSpecs", None) or []
    if not specs:
        return Sort.relevance
    if len(specs) > 1:
        raise Diagnostic(80, "one sort key at most")
    spec = specs[0]
    index = str(spec.index).lower()
    if index not in SORT_INDEXES:
        raise Diagnostic(80, f"sortby {index}: only dc.date and dc.title")
    modifiers = {str(m).lstrip("/").lower() for m in (spec.modifiers or [])}
    descending = bool(modifiers & {"sort.descending", "descending"})
    if index == "dc.title":
        if descending:
            raise Diagnostic(80, "dc.title sorts ascending only")
        return Sort.title
    return Sort.newest if descending else Sort.oldest
