"""The index document: the fields both engines index for one Record.

One function builds it, so the two engines index the same terms. Text fields
hold pre-analyzed terms (fedsearch/analysis.py) joined by spaces, and each
engine indexes them with a plain whitespace tokenizer, keeping positions.
"""

from __future__ import annotations

import time
from typing import Any

from fedsearch import analysis
from fedsearch.record import Record

# name -> kind. "text": pre-analyzed, positions; "keyword": exact, facet/filter/sort;
# "int": numeric; "stored": kept, not searched.
FIELDS: dict[str, str] = {
    "id": "keyword",
    **{
        f"{group}_{variant}": "text"
        for group in ("title", "author", "subject", "abstract")
        for variant in ("stem", "skel")
    },
    "codes": "text",
    "exact": "text",  # title and author words as written (lowercase): exact forms rank above folded ones
    "source": "keyword",
    "type": "keyword",
    "year": "int",
    "language": "keyword",
    "subject": "keyword",
    "access": "keyword",
    "institution": "keyword",
    "title_sort": "keyword",
    "members": "keyword",  # a merged work's member record ids: a merged-away id finds its work (301)
    "shard": "keyword",  # leading hex digits of the id's digest: even slices of the index (sitemaps)
    "updated": "int",  # epoch seconds of updated_at/harvested_at, for index age
    "record": "stored",  # the Record as JSON
}
TEXT_FIELDS = tuple(name for name, kind in FIELDS.items() if kind == "text")
KEYWORD_FACETS = ("source", "type", "language", "subject", "access", "institution")
YEAR_SORT_MISSING = 0  # records without a year sort after every dated record


def bucket_value(name: str, key: Any) -> str:
    """A facet bucket's key as the value a client filters by (years come back as floats)."""
    return str(int(key)) if FIELDS.get(name) == "int" else str(key)


def _texts(record: Record, group: str) -> list[tuple[str, str | None]]:
    """(text, language) pairs: a text's own tag, else the record's language when it has one."""
    rec_lang = record.languages[0] if len(record.languages) == 1 else None
    if group == "title":
        return [(t.value, t.lang or rec_lang) for t in record.title + record.title_alt]
    if group == "author":
        return [(p.name, None) for p in record.authors + record.contributors]  # names: not inflected
    if group == "subject":
        return [(s, rec_lang) for s in record.subjects]
    if group == "abstract":
        return [(t.value, t.lang or rec_lang) for t in record.abstract]
    raise ValueError(group)


def codes(record: Record) -> list[str]:
    """Exact-match terms for identifiers and classification codes, with and without scheme."""
    terms: list[str] = []
    for c in record.classifications:
        terms += [analysis.code_term(c.scheme, c.code), analysis.bare_code_term(c.code)]
        if c.scheme == "udc" and (main := analysis.udc_main(c.code)) and main != c.code.strip():
            terms += [analysis.code_term("udc", main), analysis.bare_code_term(main)]
    ids = record.identifiers
    for scheme in type(ids).model_fields:
        for value in getattr(ids, scheme):
            terms += [analysis.code_term(scheme, value), analysis.bare_code_term(value)]
    return list(dict.fromkeys(t for t in terms if t and not t.endswith(":")))


SHARD_DIGITS = 3  # up to 16**3 slices


def shard_terms(record_id: str) -> list[str]:
    """The id's digest's first 1..SHARD_DIGITS hex digits ("a", "a3", "a3f"): a filter on one of
    them takes an even 1/16**k of the index, since the digest is a hash (fedsearch.record.make_record_id)."""
    digest = record_id.rsplit("-", 1)[-1]
    return [digest[:k] for k in range(1, SHARD_DIGITS + 1)]


def title_sort_key(record: Record) -> str:
    return analysis.folded(record.main_title)[:200]


def index_document(record: Record) -> dict[str, Any]:
    """Field name -> value (str, int, or list of them) for one record."""
    doc: dict[str, Any] = {"id": record.id}
    for group in ("title", "author", "subject", "abstract"):
        stems, skels = [], []
        for text, lang in _texts(record, group):
            st, sk = analysis.analyzed(text, analysis.text_language(text, lang))
            if st:
                stems.append(st)
                skels.append(sk)
        doc[f"{group}_stem"] = stems
        doc[f"{group}_skel"] = skels
    doc["codes"] = codes(record)
    doc["exact"] = [
        " ".join(analysis.exact(w) for w in analysis.words(text))
        for group in ("title", "author")
        for text, _ in _texts(record, group)
    ]
    doc["source"] = record.sources
    doc["type"] = [record.type.value]
    doc["year"] = record.year
    doc["language"] = list(dict.fromkeys(record.languages))
    doc["subject"] = list(dict.fromkeys(record.subjects))
    doc["access"] = [record.access.value]
    doc["institution"] = [record.institution] if record.institution else []
    doc["title_sort"] = title_sort_key(record)
    doc["members"] = list(record.match.members) if record.match else []
    doc["shard"] = shard_terms(record.id)
    # When this document was written to the index (not the record's own dates, which may be years old):
    # its newest value is the index's age in /healthz.
    doc["updated"] = int(time.time())
    doc["record"] = record.model_dump_json(exclude_none=True)
    return doc
