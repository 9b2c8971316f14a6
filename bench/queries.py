"""The benchmark's queries: what people type into a results page, in ky, ru and en.

Built from the corpus vocabularies, so every query finds something at every
size; seeded, so every run sends the same ones. Each asks for the facets a
results page shows.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from fedsearch_app.corpus import vocab
from fedsearch_app.corpus.vocab import transliterate

FACETS = ("source", "type", "year", "language", "subject")


@dataclass(frozen=True)
class BenchQuery:
    q: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    year_from: int | None = None
    kind: str = "words"

    def api_params(self) -> list[tuple[str, str]]:
        params = [("q", self.q), ("facets", ",".join(FACETS)), ("per_page", "20")]
        for name, values in self.filters.items():
            params += [(name, v) for v in values]
        if self.year_from is not None:
            params.append(("year_from", str(self.year_from)))
        return params

    def search_query(self):
        from fedsearch.engines.query import SearchQuery

        return SearchQuery(q=self.q, filters=self.filters, year_from=self.year_from, facets=list(FACETS), per_page=20)


def _word(text: str, r: random.Random) -> str:
    words = [w for w in text.replace("«", "").replace("»", "").split() if len(w) > 4]
    return r.choice(words) if words else text.split()[0]


def bench_queries(n: int = 120, seed: int = 1) -> list[BenchQuery]:
    r = random.Random(seed)
    out: list[BenchQuery] = []
    topics = [(d, t) for d in vocab.DISCIPLINES for t in d.topics]
    while len(out) < n:
        d, topic = r.choice(topics)
        lang = r.choice((0, 1, 1, 2))  # ky, ru (twice as likely), en
        kind = r.choices(
            ("word", "two", "phrase", "author", "latin_author", "code", "filtered", "browse", "prefix"),
            weights=(22, 20, 10, 10, 6, 8, 14, 4, 6),
        )[0]
        if kind == "word":
            out.append(BenchQuery(_word(topic[lang], r), kind=kind))
        elif kind == "two":
            out.append(BenchQuery(f"{_word(topic[lang], r)} {_word(r.choice(d.subjects)[lang], r)}", kind=kind))
        elif kind == "phrase":
            out.append(BenchQuery(f'"{topic[lang]}"', kind=kind))
        elif kind == "author":
            out.append(BenchQuery(r.choice(vocab.KY_FAMILY + vocab.RU_FAMILY), kind=kind))
        elif kind == "latin_author":
            out.append(BenchQuery(transliterate(r.choice(vocab.KY_FAMILY)), kind=kind))
        elif kind == "code":
            code = r.choice(d.udc + d.grnti)
            out.append(BenchQuery(code, kind=kind))
        elif kind == "filtered":
            filters = r.choice(
                (
                    {"type": ["article"]},
                    {"language": ["ky"]},
                    {"type": ["book", "dissertation"]},
                    {"language": ["ru"], "type": ["dissertation"]},
                )
            )
            out.append(
                BenchQuery(_word(topic[lang], r), filters=filters, year_from=r.choice((None, 2010, 2018)), kind=kind)
            )
        elif kind == "browse":
            out.append(BenchQuery("", year_from=r.choice((None, 2020)), kind=kind))
        else:
            out.append(BenchQuery(_word(topic[1], r)[:5] + "*", kind=kind))
    return out
