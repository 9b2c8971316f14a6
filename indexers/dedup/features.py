"""What matching looks at, computed once per record: main-title skeletons, people, year, type, strong identifiers."""

from __future__ import annotations

import hashlib
import marshal
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path

from fedsearch import analysis
from fedsearch.record import Person, Record, RecordType
from indexers.dedup.titles import AUTOREF, main_title_only, split_title, title_numbers, title_skeleton

T = RecordType
# Book-like types: an ISBN names the whole item (a chapter carries its book's ISBN).
ISBN_TYPES = frozenset({T.book, T.report, T.thesis, T.dissertation, T.other})
# Strong identifiers, strongest first: each names one work, so two different values of a scheme are two works.
STRONG_SCHEMES = ("patent", "register", "doi", "isbn", "handle")
_FIELD = {"register": "register_number"}  # scheme -> Identifiers field
_PATENT_KIND = re.compile(r"^([A-Z]{2}\d[\d.]*?)(?:[A-Z]\d?)$")  # KG1234C1 -> KG1234 (kind code dropped)


def name_words(person: Person, keyboard: bool = False) -> frozenset[str]:
    """Skeletons of every name word that is not an initial: word order in names is not reliable."""

    def is_initials(w: str) -> bool:  # "J", "JA", "П.Л"
        return len(w) <= 2 or (len(w) <= 3 and w.isupper())

    return frozenset(
        analysis.skeleton(analysis.fold(w) if keyboard else w)
        for w in analysis.words(person.name)
        if not is_initials(w)
    )


def surname_key(person: Person, keyboard: bool = False) -> str | None:
    """The family name's skeleton; `keyboard=True` first folds Kyrgyz ө ү ң (Бөкөнбеков / Bokonbekov)."""
    name = person.family or (person.name.split(",")[0] if "," in person.name else None)
    if name is None:
        words = person.name.split()
        if not words:
            return None
        # Without parts: the longest word that is not an initial.
        name = max((w for w in words if len(w.strip(".")) > 2), key=len, default=words[0])
    sk = "".join(analysis.skeleton(analysis.fold(w) if keyboard else w) for w in analysis.words(name))
    return sk or None


def given_initials(person: Person) -> frozenset[str]:
    """How the given name may begin, as skeletons: 'Мээрим' -> {m}; 'Н. З.' -> {n}; 'James' -> {i, j}
    and 'J.' -> {j} (the skeleton folds "ja" to "ia"); 'Жамила' and 'Zh.' share j; 'Өмүрбек' and 'O.'
    share o. Empty without a given name."""
    if not person.given:
        return frozenset()
    words = analysis.words(person.given.replace(".", " "))
    if not words:
        return frozenset()
    w = words[0]
    variants = (w, w[:1], w[:2], analysis.fold(w[:2]))  # folded: Өмүрбек / O. (ө typed as о)
    return frozenset(sk[0] for sk in (analysis.skeleton(v) for v in variants) if sk)


def _patent_key(value: str) -> str:
    m = _PATENT_KIND.match(value)
    return m.group(1) if m else value


def _text_key(text: str | None) -> str | None:
    if not text:
        return None
    return " ".join(title_skeleton(text)) or None


@dataclass(frozen=True)
class Features:
    """A record as matching sees it; `features(record)` computes it once."""

    id: str
    source: str
    titles: tuple[tuple[str, ...], ...]  # the MAIN title's skeleton words (plain, then keyboard-folded)
    proper: tuple[str, ...]  # the main title's title proper, without its subtitle
    subtitle: tuple[str, ...] | None  # the main title's subtitle, if it has one
    numbers: frozenset[int]
    year: int | None
    surnames: tuple[str, ...]
    surnames_folded: tuple[str, ...]  # the same, Kyrgyz ө ү ң folded (Бөкөнбеков / Bokonbekov meet)
    first: frozenset[str]  # the first author's family name, plain and keyboard-folded skeletons
    first_folded: str | None  # the keyboard-folded one alone
    first_words: frozenset[str]  # every word of the first author's name, both ways
    first_initials: frozenset[str]  # how the first author's given name may begin, as skeletons (Жамила / Zh. -> j)
    rtype: RecordType
    lang: str | None  # of the main title
    strong: tuple[tuple[str, frozenset[str]], ...]  # (scheme, values) for each strong scheme the record has
    all_titles: tuple[tuple[str, ...], ...]  # main and alternative titles: only to sanity-check a shared DOI
    container: str | None
    publisher: str | None
    autoref: bool

    @property
    def main(self) -> tuple[str, ...]:
        return self.titles[0]

    @property
    def title_key(self) -> str:
        """The main title as one string: what generic-title detection counts."""
        return " ".join(self.main)

    @property
    def first_author(self) -> str | None:
        return self.surnames[0] if self.surnames else None

    @property
    def author_key(self) -> str:
        """The first author as generic-title counting sees it (keyboard-folded, so scripts meet); '-' for none."""
        return self.first_folded or "-"

    def ids(self, scheme: str) -> frozenset[str]:
        for name, values in self.strong:
            if name == scheme:
                return values
        return frozenset()


def strong_ids(record: Record) -> tuple[tuple[str, frozenset[str]], ...]:
    ids = record.identifiers
    out = []
    for scheme in STRONG_SCHEMES:
        values = getattr(ids, _FIELD.get(scheme, scheme))
        if scheme == "isbn" and record.type not in ISBN_TYPES:
            continue  # a chapter's or article's ISBN is its book's
        if scheme == "patent":
            values = [_patent_key(v) for v in values]
        if values:
            out.append((scheme, frozenset(values)))
    return tuple(out)


def features(record: Record) -> Features:
    main = main_title_only(record.main_title)
    variants = [title_skeleton(main, keyboard) for keyboard in (False, True)]
    titles = tuple(dict.fromkeys(t for t in variants if t))
    proper, sub = split_title(main)
    people = record.authors or [p for p in record.contributors if p.role in (None, "editor", "compiler")]
    surnames = tuple(dict.fromkeys(s for s in (surname_key(p) for p in people[:20]) if s))
    lead = people[0] if people else None
    first = frozenset(k for k in (surname_key(lead), surname_key(lead, True)) if k) if lead else frozenset()
    first_words = name_words(lead) | name_words(lead, True) if lead else frozenset()
    every = [t.value for t in record.title + record.title_alt]
    return Features(
        id=record.id,
        source=record.source,
        titles=titles or (("",),),
        proper=title_skeleton(proper),
        subtitle=title_skeleton(sub) or None if sub else None,
        numbers=title_numbers(main),
        year=record.year,
        surnames=surnames,
        surnames_folded=tuple(k for k in (surname_key(p, True) for p in people[:20]) if k),
        first=first,
        first_folded=surname_key(lead, True) if lead else None,
        first_words=first_words,
        first_initials=given_initials(lead) if lead else frozenset(),
        rtype=record.type,
        lang=record.title[0].lang,
        strong=strong_ids(record),
        all_titles=tuple(t for t in (title_skeleton(x) for x in every) if t),
        container=_text_key(record.container.title if record.container else None),
        publisher=_text_key(record.publisher),
        autoref=bool(AUTOREF.search(" ".join(every))),
    )


# --- compact storage: the index state keeps each record's Features, so finding a fresh record's
# duplicates reads these small tuples instead of parsing and re-analysing whole stored records.


def _version() -> str:
    """Changes whenever the code that computes features may have changed: stored features of another
    version are recomputed from the stored record instead of being trusted."""
    from fedsearch import analysis, record
    from indexers.dedup import titles
    from indexers.normalize import text

    digest = hashlib.sha1()
    for module in (sys.modules[__name__], titles, analysis, record, text):
        digest.update(Path(module.__file__).read_bytes())
    return digest.hexdigest()[:12]


FEATURES_VERSION = _version()


def pack(f: Features) -> bytes:
    """Features -> bytes (marshal: tuples, frozensets and strings round-trip exactly and fast)."""
    values = [getattr(f, name) for name in _FIELDS]
    values[_RTYPE] = f.rtype.value
    return marshal.dumps(tuple(values))


def unpack(data: bytes) -> Features:
    values = list(marshal.loads(data))
    values[_RTYPE] = _RTYPES[values[_RTYPE]]
    # Filled in directly: a frozen dataclass's __init__ sets each field through object.__setattr__,
    # which costs more than the rest of reading features back (they were valid when packed).
    f = object.__new__(Features)
    f.__dict__.update(zip(_FIELDS, values))
    return f


_FIELDS = tuple(f.name for f in fields(Features))
_RTYPE = _FIELDS.index("rtype")
_RTYPES = {t.value: t for t in RecordType}
