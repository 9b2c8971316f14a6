"""Cross-language expansion from the catalogue's own parallel titles.

A Kyrgyz reader typing "тиричилик калдыктары" never meets a Russian-only record on
"твердые бытовые отходы": no analysis makes those words one term. But the records the
query does find often carry a parallel title (title_alt) in Russian or English, and
the words those parallel titles share are, by construction, the query's topic in that
language. When few records hold every word, those shared words become a second
reading of the query, ranked after the records that hold it as typed.

No dictionary and nothing learned offline: the words come from the hits of this
query, so they follow whatever the catalogue holds.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence

from fedsearch import analysis
from fedsearch.engines.query import Bool, Clause, compile_node, has_operators
from fedsearch.engines.query_syntax import AndNode, Word, parse
from fedsearch.record import Record

SEED_HITS = 10  # the best hits whose parallel titles are read
MIN_SUPPORT = 2  # a word must be shared by this many parallel titles ...
MIN_SHARE = 0.6  # ... and by this share of the seed hits' titles in that language
MAX_WORDS = 4  # a translation longer than this is more likely a shared title template


def content_words(q: str) -> list[str] | None:
    """The query's words if it is a run of plain words (no operators, fields, quotes), without
    function words; None otherwise."""
    if has_operators(q):
        return None
    node = parse(q)
    children = node.children if isinstance(node, AndNode) else (node,)
    plain = [c for c in children if isinstance(c, Word) and c.field is None]
    if not plain or len(plain) != len(children) or any(not c.text.isalpha() for c in plain):
        return None
    words = [c.text for c in plain if not analysis.is_stopword(c.text)]
    return words or None


def translation(q: str, seeds: Sequence[Record]) -> tuple[str, ...]:
    """Words the seed hits' titles in another language share, most supported first: the
    query read in that language. Empty when no language has enough support."""
    words = content_words(q)
    if not words:
        return ()
    typed: set[str] = set()
    for w in words:
        typed.update(analysis.query_stems(w))
        typed.update(analysis.query_keys(w))
    # language -> stem -> (count, a surface form); titles per language
    support: dict[str, Counter[str]] = defaultdict(Counter)
    surface: dict[tuple[str, str], str] = {}
    titles_in: Counter[str] = Counter()
    for record in seeds[:SEED_HITS]:
        texts = record.title + record.title_alt
        matched_langs = {t.lang for t in texts if _holds_query(t.value, t.lang, typed)}
        if not matched_langs:
            continue  # found through its abstract or subjects: its titles may be on something else
        for lang in {t.lang for t in texts if t.lang and t.lang not in matched_langs}:
            stems: set[str] = set()
            for t in texts:
                if t.lang != lang:
                    continue
                for w in analysis.words(t.value):
                    if analysis.is_stopword(w) or not w.isalpha() or len(w) < 3:
                        continue
                    st = analysis.stem(w, lang)
                    if st in typed or analysis.key(w, lang) in typed:
                        continue  # a name or place the query already has
                    stems.add(st)
                    surface.setdefault((lang, st), w)
            if stems:
                titles_in[lang] += 1
                support[lang].update(stems)
    best: tuple[str, ...] = ()
    best_support = 0
    for lang, counts in support.items():
        # The words most of the titles agree on, and only the best-supported of them: a title
        # template's words ("абалы", "problems") are shared by some titles, the topic by all.
        top = counts.most_common(1)[0][1] if counts else 0
        need = max(MIN_SUPPORT, math.ceil(MIN_SHARE * titles_in[lang]), top)
        chosen = sorted(st for st, n in counts.items() if n >= need)
        if not chosen or len(chosen) > MAX_WORDS:
            continue
        strength = min(counts[st] for st in chosen)
        if strength > best_support:
            best, best_support = tuple(surface[(lang, st)] for st in chosen), strength
    return best


def _holds_query(text: str, lang: str | None, typed: set[str]) -> bool:
    return any(analysis.stem(w, lang) in typed or analysis.key(w, lang) in typed for w in analysis.words(text))


def translation_clause(words: Sequence[str]) -> Clause:
    """Every translated word required, each over every text field (as a typed word would be)."""
    return Bool(must=tuple(compile_node(Word(w)) for w in words))
