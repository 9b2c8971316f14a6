"""The plain baseline that docs/relevance.md compares us with: what one gets from tantivy
out of the box, on the same corpus and queries.

One text field holding every title, name, subject, abstract and identifier of a record,
tantivy's default tokenizer (split on non-alphanumerics, drop tokens over 40 bytes,
lowercase) plus the Snowball Russian stemmer, BM25, and OR over the query's words.
No cross-script keys, no Kyrgyz stemming, no boosts, no fallbacks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tantivy

from fedsearch.record import Record

TOKENIZER = "plain_ru"
_WORD = re.compile(r"\w+")


@dataclass
class _Hit:
    id: str


@dataclass
class _Result:
    hits: list[_Hit]
    total: int


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("russian"))
        .build()
    )


def _text(record: Record) -> str:
    parts = [t.value for t in record.title + record.title_alt + record.abstract]
    parts += [p.name for p in record.authors + record.contributors] + list(record.subjects)
    parts += [c.code for c in record.classifications] + record.identifiers.all()
    return "\n".join(parts)


class PlainBaseline:
    name = "baseline"

    def __init__(self, records: list[Record]):
        sb = tantivy.SchemaBuilder()
        sb.add_text_field("id", stored=True, tokenizer_name="raw")
        sb.add_text_field("text", tokenizer_name=TOKENIZER)
        self.schema = sb.build()
        self.index = tantivy.Index(self.schema)  # in memory
        self.index.register_tokenizer(TOKENIZER, _analyzer())
        writer = self.index.writer(heap_size=50_000_000, num_threads=1)
        for r in records:
            writer.add_document(tantivy.Document(id=r.id, text=_text(r)))
        writer.commit()
        writer.wait_merging_threads()
        self.index.reload()

    def search(self, query) -> _Result:  # a fedsearch SearchQuery; only q and per_page are read
        words = _WORD.findall(query.q)
        if not words:
            return _Result([], 0)
        q = self.index.parse_query(" ".join(words), ["text"])  # OR is the parser's default
        searcher = self.index.searcher()
        found = searcher.search(q, limit=query.per_page, count=True)
        hits = [_Hit(searcher.doc(addr)["id"][0]) for _, addr in found.hits]
        return _Result(hits, found.count or 0)
