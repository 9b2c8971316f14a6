"""Blocking: the keys a record is filed under, and the keys to look up to find its candidates.

Identifier keys find records sharing a strong identifier; title blocks (first two
words, two longest words) and the first author's block find the rest, in years
y-1..y+1. One more key per record, `g:<main title>|<first author>|<year>`, lets the
index state tell how many different first authors use a title (generic titles).
"""

from __future__ import annotations

from collections.abc import Iterable

from fedsearch.record import Record
from indexers.dedup.features import Features, features

_ID_PREFIX = {"doi": "doi", "isbn": "isbn", "handle": "hdl", "patent": "pat", "register": "reg"}


def _title_blocks(words: tuple[str, ...]) -> list[str]:
    if not words:
        return []
    first = " ".join(words[:2])
    longest = " ".join(sorted(sorted(words, key=lambda w: (-len(w), w))[:2]))
    return list(dict.fromkeys([f"t:{first}", f"l:{longest}"]))


def _id_keys(f: Features) -> list[str]:
    return [f"{_ID_PREFIX[scheme]}:{v}" for scheme, values in f.strong for v in sorted(values)]


def title_prefix(f: Features) -> str:
    """The prefix of the generic-title counting key: every `g:` key under it names one first author."""
    return f"g:{f.title_key}|"


def title_author_key(f: Features) -> str:
    return f"{title_prefix(f)}{f.author_key}|{f.year or '*'}"


def title_uses(keys: Iterable[str]) -> dict[str, set[tuple[str, int | None]]]:
    """`g:` keys read back from the index state -> main title key -> (first author, year) uses."""
    out: dict[str, set[tuple[str, int | None]]] = {}
    for key in keys:
        title, author, year = key[2:].rsplit("|", 2)  # skeleton words hold no "|"
        out.setdefault(title, set()).add((author, int(year) if year.isdigit() else None))
    return out


def block_keys(record: Record) -> list[str]:
    """The keys a record is filed under (store these per record to find candidates)."""
    return file_keys(features(record))


def candidate_keys(record: Record) -> list[str]:
    """The keys to look up: this record's identifier keys and its blocks in years y-1..y+1."""
    return lookup_keys(features(record))


def file_keys(f: Features) -> list[str]:
    keys = _id_keys(f)
    year = str(f.year) if f.year else "*"
    for words in f.titles:
        for block in _title_blocks(words):
            keys += [f"{block}|{year}", block]
    if f.surnames:
        keys.append(f"a:{f.surnames[0]}|{year}")
    keys.append(title_author_key(f))
    return list(dict.fromkeys(keys))


def lookup_keys(f: Features) -> list[str]:
    keys = _id_keys(f)
    years = [str(y) for y in (f.year - 1, f.year, f.year + 1)] + ["*"] if f.year else None
    for words in f.titles:
        for block in _title_blocks(words):
            keys += [f"{block}|{y}" for y in years] if years else [block]
    if f.surnames:
        first = f.surnames[0]
        keys += [f"a:{first}|{y}" for y in years] if years else [f"a:{first}|*"]
    return list(dict.fromkeys(keys))
