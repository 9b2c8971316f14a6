"""Blocking: the keys a record is filed under, and the keys to look up to find its candidates.

Identifier keys find records sharing a strong identifier; title blocks and the first
author's block find the rest. Each key is as sharp as the matching rules allow
(rules.compare), because every record a key shares is a candidate to read and compare:
- `t:` the title's start: its first three words when it has five or more, else its
  first two. Records are filed under both lengths, so a title that lost or gained a
  word or two is still found; a long title looks its candidates up by three words.
- `l:` its two longest words (a typo or romanization in the first words).
- `a:` the first author with the title proper's last word (whatever happened to the
  title's start and its longest words): a match needs both the author and a
  near-identical title, not the author alone.
- Titles with a subtitle are also blocked by their title proper (a catalogue drops the
  subtitle another keeps).
- Years: a record looks in y-1..y+1 only if its type allows a year apart (articles and
  papers); a book, thesis, report or patent matches in its own year only.
One more key per record, `g:<main title>|<first author>|<year>`, lets the index state
tell how many different first authors use a title (generic titles).

BLOCKING_VERSION names this scheme: an index state filed under another is re-filed
(indexers/state.py) before it is searched for candidates.
"""

from __future__ import annotations

from collections.abc import Iterable

from fedsearch.record import Record
from indexers.dedup.features import Features, features
from indexers.dedup.rules import EXACT_YEAR_TYPES

_ID_PREFIX = {"doi": "doi", "isbn": "isbn", "handle": "hdl", "patent": "pat", "register": "reg"}


BLOCKING_VERSION = "2"
LONG_TITLE = 5  # words from which a title is looked up by its first three words


def _longest(words: tuple[str, ...]) -> str:
    return "l:" + " ".join(sorted(sorted(words, key=lambda w: (-len(w), w))[:2]))


def _filed_blocks(words: tuple[str, ...]) -> list[str]:
    if not words:
        return []
    keys = [f"t:{' '.join(words[:2])}"] + ([f"t:{' '.join(words[:3])}"] if len(words) >= 3 else [])
    return [*keys, _longest(words)]


def _looked_up_blocks(words: tuple[str, ...]) -> list[str]:
    if not words:
        return []
    return [f"t:{' '.join(words[: 3 if len(words) >= LONG_TITLE else 2])}", _longest(words)]


def _title_words(f: Features) -> list[tuple[str, ...]]:
    """The main title's skeletons, and its title proper if it has a subtitle."""
    return list(dict.fromkeys([*f.titles, *([f.proper] if f.subtitle is not None and f.proper else [])]))


def _author_key(f: Features, year: str) -> str | None:
    if not f.surnames:
        return None
    words = f.proper if f.subtitle is not None and f.proper else f.main
    return f"a:{f.surnames[0]}|{words[-1] if words else ''}|{year}"


def _years(f: Features) -> list[str] | None:
    """The years to look candidates up in (None: the record has no year, look everywhere)."""
    if not f.year:
        return None
    near = (f.year,) if f.rtype in EXACT_YEAR_TYPES else (f.year - 1, f.year, f.year + 1)
    return [str(y) for y in near] + ["*"]


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
    for words in _title_words(f):
        for block in _filed_blocks(words):
            keys += [f"{block}|{year}", block]
    author = _author_key(f, year)
    if author:
        keys.append(author)
    keys.append(title_author_key(f))
    return list(dict.fromkeys(keys))


def lookup_keys(f: Features) -> list[str]:
    keys = _id_keys(f)
    years = _years(f)
    for words in _title_words(f):
        for block in _looked_up_blocks(words):
            keys += [f"{block}|{y}" for y in years] if years else [block]
    for year in years or ["*"]:
        author = _author_key(f, year)
        if author:
            keys.append(author)
    return list(dict.fromkeys(keys))
