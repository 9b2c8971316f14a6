"""Our query syntax: user text parsed into an AST of words, "phrases", AND/OR/NOT,
field:value and prefix*. Broken syntax degrades to plain words; parsing never raises.

fedsearch/engines/query.py compiles the AST to the plan both engines translate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fedsearch import analysis

MAX_WORDS = 40  # longer queries keep their first words: protects both engines
# The one cap on a query's length (q): the API and the web UI refuse longer ones with
# QUERY_TOO_LONG (search_api/params.py); SearchQuery and the parser read no further.
MAX_QUERY_CHARS = 2000
QUERY_TOO_LONG = f"the query is too long: at most {MAX_QUERY_CHARS} characters"
MIN_PREFIX = 2

# --- the AST of our query syntax -------------------------------------------------------

# Field names people may type, and what they search.
FIELD_ALIASES: dict[str, str] = {
    "title": "title",
    "ti": "title",
    "заглавие": "title",
    "аталышы": "title",
    "author": "author",
    "au": "author",
    "автор": "author",
    "subject": "subject",
    "su": "subject",
    "тема": "subject",
    "keyword": "subject",
    "year": "year",
    "год": "year",
    "жыл": "year",
    "type": "type",
    "тип": "type",
    "id": "identifier",
    "identifier": "identifier",
    "doi": "identifier",
    "isbn": "identifier",
    "issn": "identifier",
    "handle": "identifier",
    "urn": "identifier",
    "patent": "identifier",
    "udc": "identifier",
    "удк": "identifier",
    "grnti": "identifier",
    "грнти": "identifier",
    "ipc": "identifier",
    "мпк": "identifier",
    "code": "identifier",
}


@dataclass(frozen=True)
class Word:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class PhraseNode:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class PrefixNode:
    text: str
    field: str | None = None


@dataclass(frozen=True)
class AndNode:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class OrNode:
    children: tuple[Node, ...]


@dataclass(frozen=True)
class NotNode:
    child: Node


Node = Word | PhraseNode | PrefixNode | AndNode | OrNode | NotNode

_TOKEN_RE = re.compile(
    r"""(?P<lparen>\()|(?P<rparen>\))
      |(?P<field>[^\W\d_][\w]*):(?=\S)
      |(?P<phrase>"[^"]*")
      |(?P<word>[^\s()"]+)""",
    re.VERBOSE | re.UNICODE,
)


def _lex(text: str) -> list[tuple[str, str]]:
    # An unbalanced quote is dropped: the words inside become plain words.
    if text.count('"') % 2:
        idx = text.rfind('"')
        text = text[:idx] + " " + text[idx + 1 :]
    return [(m.lastgroup or "word", m.group(m.lastgroup or "word")) for m in _TOKEN_RE.finditer(text)]


class _Parser:
    """Recursive descent: or_expr := and_expr (OR and_expr)*; and_expr := unary+."""

    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.pos = 0
        self.words = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def parse(self) -> Node | None:
        nodes = []
        while self.peek() is not None:
            node = self.or_expr()
            if node is not None:
                nodes.append(node)
            elif self.peek() is not None:
                self.pos += 1  # a stray ")" or operator: skip it
        return _and(nodes)

    def or_expr(self) -> Node | None:
        parts = [self.and_expr()]
        while (tok := self.peek()) and tok == ("word", "OR"):
            self.pos += 1
            parts.append(self.and_expr())
        parts = [p for p in parts if p is not None]
        if not parts:
            return None
        return parts[0] if len(parts) == 1 else OrNode(tuple(parts))

    def and_expr(self) -> Node | None:
        parts: list[Node] = []
        while (tok := self.peek()) is not None:
            if tok[0] == "rparen" or tok == ("word", "OR"):
                break
            if tok == ("word", "AND"):
                self.pos += 1
                continue
            node = self.unary()
            if node is not None:
                parts.append(node)
        return _and(parts)

    def unary(self) -> Node | None:
        tok = self.peek()
        assert tok is not None
        if tok == ("word", "NOT") or (tok[0] == "word" and tok[1].startswith("-") and len(tok[1]) > 1):
            if tok[1] == "NOT":
                self.pos += 1
                if self.peek() is None:
                    return None
                child = self.unary()
            else:
                self.tokens[self.pos] = ("word", tok[1][1:])
                child = self.unary()
            return NotNode(child) if child is not None else None
        return self.primary()

    def primary(self, field: str | None = None) -> Node | None:
        kind, text = self.tokens[self.pos]
        self.pos += 1
        if kind == "lparen":
            inner = self.or_expr()
            if (tok := self.peek()) and tok[0] == "rparen":
                self.pos += 1
            return inner  # an unclosed "(" just ends at the end of the query
        if kind == "rparen":
            return None
        if kind == "field":
            name = FIELD_ALIASES.get(text.lower())
            if self.peek() is None:
                return None
            if name is None:  # unknown field: its name is just another word
                self.tokens.insert(self.pos, ("word", text))
                return None
            return self.primary(field=name)
        if kind == "phrase":
            inner = text[1:-1]
            if not analysis.words(inner):
                return None
            self.words += len(analysis.words(inner))
            return PhraseNode(inner, field)
        # A plain word: it may carry several words once punctuation goes ("foo-bar").
        if text in ("AND", "OR", "NOT"):
            return None
        if text.endswith("*"):
            stem = text.rstrip("*")
            ws = analysis.words(stem)
            if len(ws) == 1 and len(ws[0]) >= MIN_PREFIX and stem.endswith(ws[0]):
                self.words += 1
                return PrefixNode(ws[0], field)
            text = stem
        if field == "identifier" or (field is None and looks_like_code(text)):
            self.words += 1
            return Word(text, field)
        ws = analysis.words(text)
        if not ws:
            return None
        self.words += len(ws)
        if len(ws) == 1:
            return Word(ws[0], field)
        return PhraseNode(" ".join(ws), field)  # "Ысык-Көл" is a phrase of two words


def _and(parts: list[Node]) -> Node | None:
    parts = [p for p in parts if p is not None]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else AndNode(tuple(parts))


_CODE_LIKE = re.compile(r"\d")


def looks_like_code(text: str) -> bool:
    return bool(_CODE_LIKE.search(text)) and bool(re.search(r"[./\-:]", text))


# A scheme word typed before an identifier, as people paste them: "ISBN 978-9967-00-356-9",
# "УДК 502.51(575.2)", "патент KG 1001", "DOI 10.1000/xyz".
_SCHEME_WORDS = "isbn|issn|doi|udc|удк|grnti|грнти|гринти|ipc|мпк|patent|патент|handle|urn|bbk|ббк"
# One code: a single token with a digit, or the two-token forms "KG 1001" and "A01B 79/00".
_CODE_FORMS = r"[A-Za-z]{2}\s+\d[\d.]*|[A-Za-z]\d\d[A-Za-z]\s+\d+/\d+|[^\s\"]*\d[^\s\"]*"
_SCHEME_RE = re.compile(rf"^\s*(?:{_SCHEME_WORDS})(?:\s*[:№#]\s*|\s+)(?P<code>{_CODE_FORMS})\s*$", re.I)


def parse(text: str) -> Node | None:
    """Parse user text into an AST; never raises. None means "match everything"."""
    if (m := _SCHEME_RE.match(text[:500])) and not re.search(r"\b(?:AND|OR|NOT)\b", m.group("code")):
        return Word(m.group("code"), "identifier")
    words = text.split()
    if len(words) > MAX_WORDS * 2:
        text = " ".join(words[: MAX_WORDS * 2])
    tokens = _lex(text[:MAX_QUERY_CHARS])
    parser = _Parser(tokens)
    try:
        node = parser.parse()
    except RecursionError:  # absurdly nested parentheses: fall back to the words
        node = _and([Word(w) for w in analysis.words(text)[:MAX_WORDS]])
    return node


# What highlighting looks for: (stem terms, skeleton terms, folded prefixes).
HighlightTerms = tuple[set[str], set[str], tuple[str, ...]]


def highlight_terms(text: str) -> HighlightTerms:
    """The terms a query text looks for, for highlighting."""
    return node_terms(parse(text))


def node_terms(root: Node | None) -> HighlightTerms:
    """The terms a parsed query looks for, for highlighting (a plan's `terms`)."""
    stems: set[str] = set()
    skels: set[str] = set()
    prefixes: list[str] = []

    def walk(node: Node | None) -> None:
        if node is None:
            return
        if isinstance(node, NotNode):
            return
        if isinstance(node, (AndNode, OrNode)):
            for child in node.children:
                walk(child)
            return
        if node.field in ("year", "type", "identifier"):
            return
        if isinstance(node, PrefixNode):
            prefixes.append(analysis.fold(node.text))
            prefixes.append(analysis.key_prefix(node.text))
            return
        for w in analysis.words(node.text):
            stems.update(analysis.query_stems(w))
            skels.update(analysis.query_keys(w))

    walk(root)
    return stems, skels, tuple(p for p in prefixes if p)
