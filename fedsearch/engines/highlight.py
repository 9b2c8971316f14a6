"""Highlighting: a record's fields HTML-escaped, with the words a plan looks for in <mark>.

The words come from the plan (`Plan.terms`, fedsearch/engines/query.py): the query is parsed once.
"""

from __future__ import annotations

import functools
import html

from fedsearch import analysis
from fedsearch.engines.query_syntax import HighlightTerms
from fedsearch.record import Record

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


def highlight_text(text: str, terms: HighlightTerms) -> str | None:
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


def highlight(record: Record, terms: HighlightTerms) -> dict[str, list[str]]:
    fields = {
        "title": [t.value for t in record.title + record.title_alt],
        "authors": [p.name for p in record.authors + record.contributors],
        "subjects": list(record.subjects),
        "abstract": [t.value for t in record.abstract],
    }
    return highlight_fields(fields, terms)


def highlight_fields(fields: dict[str, list[str]], terms: HighlightTerms) -> dict[str, list[str]]:
    """field -> the fragments of its texts that hold a query word (abstracts: a window around the first)."""
    out: dict[str, list[str]] = {}
    for name, values in fields.items():
        frags = [h for v in values if (h := highlight_text(v if name != "abstract" else _window(v, terms), terms))]
        if frags:
            out[name] = frags
    return out


def _window(text: str, terms: HighlightTerms, size: int = 300) -> str:
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
