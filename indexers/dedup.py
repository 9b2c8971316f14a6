"""Deduplication: records of one work from several sources become one Record.

Two records are the same work when
- they share a DOI or a handle (and their titles are not wholly different), or
  share an ISBN and both are book-like (chapters carry their book's ISBN), or
- their titles match closely after folding both scripts to one skeleton
  (Cyrillic/Latin, Kyrgyz letters typed on a Russian keyboard), and nothing vetoes it:
  different DOIs, years more than one apart (or any difference for books,
  dissertations, patents, reports), different numbers in the titles ("Part 1" /
  "Part 2", "2-е изд."), an author's abstract (автореферат) against the
  dissertation, incompatible types (article / dataset), or no shared author surname.

Candidates come from a blocking index: identifier keys and title/author blocks
(`block_keys` to store, `candidate_keys` to look up). `Deduplicator` keeps that
index in memory and works incrementally: `assign(record)` returns the record's
cluster key, which is the id of the merged record (the lowest member id, so a
permalink survives a richer record arriving). `take_changes()` says which merged
records to write and which ids to delete. `DedupConfig.never_merge` undoes a
wrong merge. Measured on tests/indexers/data/dedup_labeled.jsonl by
bench/dedup_eval.py (docs/normalization.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from fedsearch import analysis
from fedsearch.config import DedupConfig
from fedsearch.record import Holding, LangText, Person, Record, RecordType
from indexers import vocab
from indexers.normalize.draft import unique_folded, unique_links
from indexers.normalize.text import strip_gmd

T = RecordType

# Skeletons of words that carry no meaning for matching (en, ru, ky).
STOPWORDS = frozenset(
    analysis.skeleton(w)
    for w in (
        "the a an of in on and for to with by at from as its is are or "
        "и в на о об по с к для из от при или как его их во со "
        "жана менен боюнча үчүн жөнүндө деген да дагы"
    ).split()
)
# Types that may be the same work under two catalogues' labels.
_TYPE_GROUPS: dict[RecordType, str] = {
    T.article: "paper", T.conference_paper: "paper", T.chapter: "paper",
    T.book: "book", T.report: "book",
    T.thesis: "thesis", T.dissertation: "thesis",
    T.patent: "patent", T.dataset: "dataset", T.project: "project", T.other: "any",
}
# Book-like types: an ISBN names the whole item.
_ISBN_TYPES = {T.book, T.report, T.thesis, T.dissertation, T.other}
# Types whose year is that of one printing: no ±1 tolerance.
_EXACT_YEAR_TYPES = {T.book, T.dissertation, T.thesis, T.patent, T.report}
# Long forms catalogues abbreviate, as skeletons: "Кыргызской Республики" / "КР".
_ABBREVIATIONS = tuple(
    (re.compile(p), short)
    for p, short in (
        (r"\bkir?g\w*sk\w* respublik\w*", "kr"),
        (r"\bkirgiz respublikas\w*", "kr"),
        (r"\bkirgiz republic\b", "kr"),
        (r"\brossiisk\w* federac\w*", "rf"),
        (r"\brussian federation\b", "rf"),
    )
)
_ROMAN = re.compile(r"^[IVX]{1,5}$")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}
_AUTOREF = re.compile(r"автореф|autoref|авторефер", re.I)
_SUBTITLE_SPLIT = re.compile(r"\s*:\s+|\s+[:=]\s*")  # ISBD: "Title : subtitle", "Title = Parallel"


@lru_cache(maxsize=100_000)
def title_skeleton(text: str, keyboard: bool = False) -> tuple[str, ...]:
    """Script-independent content words: 'Экология озера Иссык-Куль [Текст]' -> ('ekologia', 'ozera', 'isik', 'kul').

    `keyboard=True` first folds Kyrgyz ө ү ң to о у н, as people type them on a
    Russian keyboard ("Ысык-Кол"), which the plain skeleton keeps apart (ө -> u).
    """
    text = strip_gmd(text)
    # ISBD statement of responsibility: "Title / А. А. Иванов" (tabular exports keep it in the title).
    head, sep, _ = text.partition(" / ")
    if sep and len(analysis.words(head)) >= 2:
        text = head
    raw = analysis.words(text)
    words = " ".join(analysis.skeleton(analysis.fold(w) if keyboard else w) for w in raw)
    for pattern, short in _ABBREVIATIONS:
        words = pattern.sub(short, words)
    return tuple(w for w in words.split() if w and w not in STOPWORDS)


def _roman(token: str) -> int | None:
    if not _ROMAN.match(token):
        return None
    total, prev = 0, 0
    for ch in reversed(token):
        v = _ROMAN_VALUES[ch]
        total = total - v if v < prev else total + v
        prev = max(prev, v)
    return total if total > 0 else None


@lru_cache(maxsize=100_000)
def title_numbers(text: str) -> frozenset[int]:
    """Numbers a title states: 'Том 2', 'Part II', '2-е изд.', 'за 1906 год' -> {2}, {2}, {2}, {1906}."""
    out = set()
    for token in re.findall(r"[^\W_]+", text):
        if token.isdigit():
            out.add(int(token))
        else:
            m = re.match(r"^(\d+)[^\W\d_]{1,3}$", token)  # "2-е", "1st", "3rd", "2nd"
            if m:
                out.add(int(m.group(1)))
                continue
            r = _roman(token)
            if r is not None:
                out.add(r)
    return frozenset(out)


def _split_title(text: str) -> tuple[str, str | None]:
    """Title proper and subtitle: 'Экология: проблемы' -> ('Экология', 'проблемы')."""
    parts = _SUBTITLE_SPLIT.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0], parts[1]
    return text, None


def name_words(person: Person) -> frozenset[str]:
    """Skeletons of every name word that is not an initial: word order in names is not reliable."""
    def is_initials(w: str) -> bool:  # "J", "JA", "П.Л"
        return len(w) <= 2 or (len(w) <= 3 and w.isupper())

    return frozenset(analysis.skeleton(w) for w in analysis.words(person.name) if not is_initials(w))


def surname_key(person: Person) -> str | None:
    name = person.family or (person.name.split(",")[0] if "," in person.name else None)
    if name is None:
        words = person.name.split()
        if not words:
            return None
        # Without parts: the longest word that is not an initial.
        name = max((w for w in words if len(w.strip(".")) > 2), key=len, default=words[0])
    sk = "".join(analysis.skeleton(w) for w in analysis.words(name))
    return sk or None


@dataclass(frozen=True)
class Features:
    """What matching looks at, computed once per record."""

    id: str
    titles: tuple[tuple[str, ...], ...]  # skeleton words of the main title, then alternative titles
    propers: tuple[tuple[tuple[str, ...], bool], ...]  # (title proper skeleton, had a subtitle)
    numbers: frozenset[int]
    year: int | None
    surnames: tuple[str, ...]
    names: tuple[frozenset[str], ...]  # all name words per person, for names given in either order
    rtype: RecordType
    lang: str | None  # of the main title
    dois: frozenset[str]
    isbns: frozenset[str]
    handles: frozenset[str]
    autoref: bool

    @property
    def main(self) -> tuple[str, ...]:
        return self.titles[0]


def features(record: Record) -> Features:
    texts = [t.value for t in record.title + record.title_alt]
    variants = [title_skeleton(x, keyboard) for x in texts for keyboard in (False, True)]
    titles = tuple(dict.fromkeys(t for t in variants if t))
    propers = []
    for x in texts:
        proper, sub = _split_title(x)
        sk = title_skeleton(proper)
        if sk:
            propers.append((sk, sub is not None))
    people = record.authors or [p for p in record.contributors if p.role in (None, "editor", "compiler")]
    surnames = tuple(dict.fromkeys(s for s in (surname_key(p) for p in people[:20]) if s))
    names = tuple(n for n in (name_words(p) for p in people[:20]) if n)
    ids = record.identifiers
    return Features(
        id=record.id,
        titles=titles or (("",),),
        propers=tuple(propers),
        numbers=title_numbers(record.main_title),
        year=record.year,
        surnames=surnames,
        names=names,
        rtype=record.type,
        lang=record.title[0].lang,
        dois=frozenset(ids.doi),
        isbns=frozenset(ids.isbn),
        handles=frozenset(ids.handle),
        autoref=bool(_AUTOREF.search(" ".join(texts))),
    )


# ------------------------------------------------------------------ blocking


def _title_blocks(words: tuple[str, ...]) -> list[str]:
    if not words:
        return []
    first = " ".join(words[:2])
    longest = " ".join(sorted(sorted(words, key=lambda w: (-len(w), w))[:2]))
    return list(dict.fromkeys([f"t:{first}", f"l:{longest}"]))


def block_keys(record: Record) -> list[str]:
    """The keys a record is filed under (store these per record to find candidates)."""
    return _block_keys(features(record))


def candidate_keys(record: Record) -> list[str]:
    """The keys to look up: this record's identifier keys and its blocks in years y-1..y+1."""
    return _candidate_keys(features(record))


def _block_keys(f: Features) -> list[str]:
    keys = [f"doi:{d}" for d in f.dois] + [f"isbn:{i}" for i in f.isbns] + [f"hdl:{h}" for h in f.handles]
    year = str(f.year) if f.year else "*"
    for words in f.titles:
        for block in _title_blocks(words):
            keys += [f"{block}|{year}", block]
    if f.surnames:
        keys.append(f"a:{f.surnames[0]}|{year}")
    return list(dict.fromkeys(keys))


def _candidate_keys(f: Features) -> list[str]:
    keys = [f"doi:{d}" for d in f.dois] + [f"isbn:{i}" for i in f.isbns] + [f"hdl:{h}" for h in f.handles]
    years = [str(y) for y in (f.year - 1, f.year, f.year + 1)] + ["*"] if f.year else None
    for words in f.titles:
        for block in _title_blocks(words):
            keys += [f"{block}|{y}" for y in years] if years else [block]
    if f.surnames:
        first = f.surnames[0]
        keys += [f"a:{first}|{y}" for y in years] if years else [f"a:{first}|*"]
    return list(dict.fromkeys(keys))


# ------------------------------------------------------------------ matching


@dataclass(frozen=True)
class Decision:
    same: bool
    score: float
    reason: str


def _substituted(ta: tuple[str, ...], tb: tuple[str, ...]) -> bool:
    """Does each title have a word the other lacks? ("...озера Иссык-Куль" / "...озера Сон-Куль").

    A typo or another romanization keeps words similar; a different place, object
    or method replaces one. Character similarity alone misses that.
    """

    def lonely(xs: tuple[str, ...], ys: tuple[str, ...]) -> bool:
        return any(len(x) >= 2 and not any(fuzz.ratio(x, y) >= 75 for y in ys) for x in xs)

    return lonely(ta, tb) and lonely(tb, ta)


def _title_similarity(a: Features, b: Features) -> float:
    best = 0.0
    for ta in a.titles:
        for tb in b.titles:
            score = fuzz.ratio(" ".join(ta), " ".join(tb))
            if score > best and not _substituted(ta, tb):
                best = score
    # One catalogue drops the subtitle the other keeps: compare the title proper
    # with the whole title, if it is long enough to say something on its own.
    for pa, sub_a in a.propers:
        for pb, sub_b in b.propers:
            if sub_a and sub_b:
                continue  # two different subtitles are two different works
            if (sub_a or sub_b) and min(len(pa), len(pb)) >= 2:
                best = max(best, fuzz.ratio(" ".join(pa), " ".join(pb)) - 1)
    return best


def _same_name(x: str, y: str) -> bool:
    return x == y or (min(len(x), len(y)) >= 5 and fuzz.ratio(x, y) >= 85)


def _surnames_agree(a: Features, b: Features) -> bool:
    """Some author's surname is shared; a surname may sit anywhere in the other's name ("Хаким Ибатулин")."""
    for sa in a.surnames:
        if any(_same_name(sa, sb) for sb in b.surnames) or any(_same_name(sa, w) for n in b.names for w in n):
            return True
    for sb in b.surnames:
        if any(_same_name(sb, w) for n in a.names for w in n):
            return True
    return False


def _identifier_match(a: Features, b: Features, kind: str) -> Decision:
    """A shared DOI or handle decides, unless the titles say a source put a wrong one in.

    Only titles in the same language can disagree: a bilingual journal's record
    may carry the English title where another copy has the Russian one.
    """
    raw = max(fuzz.partial_ratio(" ".join(ta), " ".join(tb)) for ta in a.titles for tb in b.titles)
    if raw < 50 and a.lang == b.lang:
        return Decision(False, raw, f"same {kind} but different titles")
    return Decision(True, raw, f"same {kind}")


def compare(a: Features, b: Features, threshold: float = 92.0) -> Decision:
    """Are two records the same work? The decision carries its reason (for the bench and for admins)."""
    if a.dois and b.dois:
        if a.dois & b.dois:
            return _identifier_match(a, b, "DOI")
        return Decision(False, 0, "different DOIs")
    if a.handles & b.handles:
        return _identifier_match(a, b, "handle")
    group_a, group_b = _TYPE_GROUPS.get(a.rtype, "any"), _TYPE_GROUPS.get(b.rtype, "any")
    if group_a != group_b and "any" not in (group_a, group_b):
        return Decision(False, 0, f"types differ ({a.rtype.value} / {b.rtype.value})")
    if a.numbers != b.numbers:
        return Decision(False, 0, "numbers in the titles differ (volume, part or edition)")
    if a.autoref != b.autoref:
        return Decision(False, 0, "author's abstract vs dissertation")
    if a.isbns & b.isbns and a.rtype in _ISBN_TYPES and b.rtype in _ISBN_TYPES:
        sim = _title_similarity(a, b)
        if sim >= 70:
            return Decision(True, sim, "same ISBN")
    if a.year and b.year and a.year != b.year:
        if abs(a.year - b.year) > 1 or a.rtype in _EXACT_YEAR_TYPES or b.rtype in _EXACT_YEAR_TYPES:
            return Decision(False, 0, f"years differ ({a.year} / {b.year})")
        if a.rtype != b.rtype and T.other not in (a.rtype, b.rtype):
            # A conference paper and the journal article that followed it a year later.
            return Decision(False, 0, f"{a.rtype.value} and {b.rtype.value} in different years")
    authors_known = bool(a.surnames and b.surnames)
    if authors_known and not _surnames_agree(a, b):
        return Decision(False, 0, "no author in common")
    sim = _title_similarity(a, b)
    words = min(len(a.main), len(b.main))
    if not authors_known:
        # Only the title says anything: generic titles ("Информатика", "Отчет о НИР") are not enough.
        if words < 3 or (not (a.year and b.year) and words < 5):
            return Decision(False, sim, "no authors to compare and the title is short or undated")
        need = max(threshold, 97.0)
    elif words <= 2:
        need = max(threshold, 99.0)  # short titles must be (nearly) equal
    else:
        need = threshold
    if sim >= need:
        return Decision(True, sim, "similar titles")
    return Decision(False, sim, "titles differ")


def _is_sparse(f: Features) -> bool:
    """Without authors or a year a record can fit several works; it joins one only if it fits no other."""
    return not f.surnames or f.year is None


def _hard_conflict(a: Features, b: Features) -> bool:
    """Facts that keep two records apart whatever their titles say."""
    if a.dois and b.dois and not a.dois & b.dois:
        return True
    if a.numbers != b.numbers:
        return True
    if a.year and b.year and abs(a.year - b.year) > 1:
        return True
    if a.surnames and b.surnames and not _surnames_agree(a, b):
        return True
    return False


# ------------------------------------------------------------------ merging

_RICHNESS_FIELDS = ("abstract", "authors", "subjects", "classifications", "links", "languages", "title_alt")


def richness(record: Record) -> int:
    score = sum(2 for name in _RICHNESS_FIELDS if getattr(record, name))
    score += sum(1 for v in (record.year, record.publisher, record.container, record.institution) if v)
    score += 2 * bool(record.identifiers.all()) + (record.type is not T.other) + (record.date_precision is not None)
    return score


def merge(records: list[Record]) -> Record:
    """One Record for a cluster: the lowest id names it, the richest record gives the metadata.

    Lists are unions (titles in other spellings become alternative titles),
    access is the most open copy's, and every source's holding is kept.
    """
    if not records:
        raise ValueError("merge() needs at least one record")
    members = sorted(records, key=lambda r: r.id)
    if len(members) == 1:
        return members[0]
    primary = members[0]
    base = max(members, key=lambda r: (richness(r), [-ord(c) for c in r.id]))
    others = [r for r in members if r is not base]

    title_keys = {t.value.casefold() for t in base.title}
    title_alt: list[LangText] = []
    for r in [base, *others]:
        for t in (r.title if r is not base else []) + r.title_alt:
            if t.value.casefold() not in title_keys:
                title_keys.add(t.value.casefold())
                title_alt.append(t)
    abstracts = list(base.abstract)
    langs_with_abstract = {a.lang for a in abstracts}
    for r in others:
        for a in r.abstract:
            if a.lang not in langs_with_abstract:
                abstracts.append(a)
                langs_with_abstract.add(a.lang)

    authors = _merge_people(base.authors, [r.authors for r in others])
    contributors = _merge_people(base.contributors, [r.contributors for r in others])
    identifiers = {
        kind: list(dict.fromkeys(v for r in [base, *others] for v in getattr(r.identifiers, kind)))
        for kind in type(base.identifiers).model_fields
    }
    holdings: dict[str, Holding] = {}
    for r in members:
        for h in r.holdings:
            holdings.setdefault(h.record_id, h)
    own = holdings.pop(primary.id, None)
    ordered_holdings = ([own] if own else []) + sorted(holdings.values(), key=lambda h: h.record_id)

    def first(attr: str):
        return next((getattr(r, attr) for r in [base, *others] if getattr(r, attr)), None)

    year_source = base if base.year else next((r for r in others if r.year), base)
    rtype = base.type if base.type is not T.other else next((r.type for r in others if r.type is not T.other), T.other)
    languages = list(dict.fromkeys(lg for r in [base, *others] for lg in r.languages))
    stamps = [r.harvested_at for r in members if r.harvested_at]
    updates = [r.updated_at for r in members if r.updated_at]
    return base.model_copy(
        update={
            "id": primary.id,
            "source": primary.source,
            "source_record_id": primary.source_record_id,
            "source_url": primary.source_url,  # each copy's own URL is in its holding
            "type": rtype,
            "title_alt": title_alt,
            "abstract": abstracts,
            "authors": authors,
            "contributors": contributors,
            "subjects": unique_folded(s for r in [base, *others] for s in r.subjects),
            "classifications": list({(c.scheme, c.code): c for r in [base, *others] for c in r.classifications}.values()),
            "year": year_source.year,
            "date": year_source.date,
            "date_precision": year_source.date_precision,
            "languages": languages,
            "language_detected": all(r.language_detected for r in members if r.languages),
            "publisher": first("publisher"),
            "container": first("container"),
            "institution": first("institution"),
            "identifiers": type(base.identifiers)(**identifiers),
            "access": vocab.best_access([h.access for h in ordered_holdings] + [r.access for r in members]),
            "links": unique_links(lk for r in [base, *others] for lk in r.links),
            "holdings": ordered_holdings,
            "harvested_at": max(stamps) if stamps else None,
            "updated_at": max(updates) if updates else None,
            "raw_format": base.raw_format,
        },
        deep=True,
    )


def _merge_people(base: list[Person], others: list[list[Person]]) -> list[Person]:
    """The richest list, with ORCIDs and affiliations filled in from the other copies."""
    people = list(base) or next((lst for lst in others if lst), [])
    extra = {surname_key(p): p for lst in others for p in lst if p.orcid or p.affiliation}
    out = []
    for p in people:
        other = extra.get(surname_key(p))
        if other is not None and (not p.orcid or not p.affiliation):
            p = p.model_copy(update={"orcid": p.orcid or other.orcid, "affiliation": p.affiliation or other.affiliation})
        out.append(p)
    return out


# ------------------------------------------------------------------ clustering


@dataclass
class ClusterChanges:
    """What to write after some assign()/remove() calls: merged records to (re)write, ids to delete."""

    upsert: list[str] = field(default_factory=list)
    delete: list[str] = field(default_factory=list)


class Deduplicator:
    """An in-memory, incremental clustering of records into works.

        dedup = Deduplicator(settings.dedup)
        for record in changed:
            dedup.assign(record)
        changes = dedup.take_changes()
        for key in changes.upsert:
            engine.upsert(dedup.merged(key))
        engine.delete(changes.delete)
    """

    def __init__(self, config: DedupConfig | None = None):
        self.config = config or DedupConfig()
        self._never: dict[str, set[str]] = {}
        for a, b in self.config.never_merge:
            self._never.setdefault(a, set()).add(b)
            self._never.setdefault(b, set()).add(a)
        self._records: dict[str, Record] = {}
        self._features: dict[str, Features] = {}
        self._keys: dict[str, list[str]] = {}
        self._blocks: dict[str, set[str]] = {}
        self._edges: dict[str, set[str]] = {}
        self._key_of: dict[str, str] = {}
        self._members: dict[str, set[str]] = {}
        self._changed: set[str] = set()
        self._gone: set[str] = set()

    # ---- queries
    def __len__(self) -> int:
        return len(self._records)

    def __contains__(self, record_id: str) -> bool:
        return record_id in self._records

    def cluster_key(self, record_id: str) -> str:
        return self._key_of[record_id]

    def members(self, cluster_key: str) -> list[Record]:
        return [self._records[i] for i in sorted(self._members.get(cluster_key, ()))]

    def merged(self, cluster_key: str) -> Record:
        return merge(self.members(cluster_key))

    def cluster_keys(self) -> list[str]:
        return sorted(self._members)

    def decide(self, a: Record, b: Record, fa: Features | None = None, fb: Features | None = None) -> Decision:
        """Are a and b the same work? Pass their features when you have them: computing them dominates."""
        if b.id in self._never.get(a.id, ()):
            return Decision(False, 0, "never_merge in the configuration")
        return compare(fa or features(a), fb or features(b), self.config.fuzzy_threshold)

    # ---- changes
    def assign(self, record: Record) -> str:
        """Add a record (or replace the one with its id); its cluster key afterwards."""
        if record.id in self._records:
            self.remove(record.id)
        self._add(record)
        if not _is_sparse(self._features[record.id]):
            # Sparse records it matches decide again, now that they have one more candidate.
            for sparse in self._sparse_matches(record.id):
                if self._key_of[sparse] != self._key_of[record.id]:
                    self._readd(sparse)
        return self._key_of[record.id]

    def _add(self, record: Record) -> None:
        rid = record.id
        feats = features(record)
        self._records[rid] = record
        self._features[rid] = feats
        self._keys[rid] = _block_keys(feats)
        self._edges[rid] = set()
        self._key_of[rid] = rid
        self._members[rid] = {rid}
        for key in self._keys[rid]:
            self._blocks.setdefault(key, set()).add(rid)
        sparse = _is_sparse(feats)
        matches: dict[str, list[str]] = {}  # cluster key -> matching members
        for other in self._candidates(rid):
            if not sparse and _is_sparse(self._features[other]):
                continue  # a sparse record chooses its cluster itself (see _readd)
            if other in self._never.get(rid, ()):
                continue
            if compare(feats, self._features[other], self.config.fuzzy_threshold).same:
                matches.setdefault(self._key_of[other], []).append(other)
        if sparse and len(matches) > 1 and self._any_conflict(list(matches)):
            # A record without authors or year that fits several different works
            # ("Информатика" by three authors; a book and its new edition): joining one is a guess.
            matches = {}
        for _, others in sorted(matches.items()):
            key = self._key_of[others[0]]  # an earlier join may have renamed the cluster
            if key == self._key_of[rid] or self._conflict(self._key_of[rid], key):
                continue
            for other in others:
                self._edges[rid].add(other)
                self._edges[other].add(rid)
            self._join(self._key_of[rid], key)
        self._changed.add(self._key_of[rid])

    def _candidates(self, rid: str) -> list[str]:
        found: set[str] = set()
        for key in _candidate_keys(self._features[rid]):
            found |= self._blocks.get(key, set())
        found.discard(rid)
        return sorted(found)

    def _sparse_matches(self, rid: str) -> list[str]:
        feats = self._features[rid]
        return [
            other for other in self._candidates(rid)
            if _is_sparse(self._features[other])
            and compare(self._features[other], feats, self.config.fuzzy_threshold).same
        ]

    def _readd(self, rid: str) -> None:
        record = self._records[rid]
        self._remove(rid)
        self._add(record)

    def remove(self, record_id: str) -> None:
        """Forget a record (deleted at its source); its cluster may shrink or split."""
        if record_id not in self._records:
            return
        sparse = [] if _is_sparse(self._features[record_id]) else self._sparse_matches(record_id)
        self._remove(record_id)
        for other in sparse:
            self._readd(other)

    def _remove(self, record_id: str) -> None:
        old_key = self._key_of.pop(record_id)
        for key in self._keys.pop(record_id):
            block = self._blocks.get(key)
            if block is not None:
                block.discard(record_id)
                if not block:
                    del self._blocks[key]
        for other in self._edges.pop(record_id):
            self._edges[other].discard(record_id)
        del self._records[record_id], self._features[record_id]
        rest = self._members.pop(old_key) - {record_id}
        self._gone.add(old_key)
        while rest:
            component = self._component(next(iter(rest)))
            rest -= component
            new_key = min(component)
            self._members[new_key] = component
            for rid in component:
                self._key_of[rid] = new_key
            self._changed.add(new_key)

    def take_changes(self) -> ClusterChanges:
        upsert = sorted(k for k in self._changed if k in self._members)
        delete = sorted(k for k in self._gone if k not in self._members)
        self._changed, self._gone = set(), set()
        return ClusterChanges(upsert=upsert, delete=delete)

    # ---- batch
    def clusters(self, records: Iterable[Record]) -> list[list[Record]]:
        """Cluster a whole collection from scratch (deterministic: records are added in id order)."""
        fresh = Deduplicator(self.config)
        for record in sorted(records, key=lambda r: r.id):
            fresh.assign(record)
        fresh.take_changes()
        return [fresh.members(k) for k in fresh.cluster_keys()]

    def merge(self, records: list[Record]) -> Record:
        return merge(records)

    # ---- internals
    def _conflict(self, key_a: str, key_b: str) -> bool:
        """Would joining two clusters put two records together that must stay apart?

        Matching is pairwise, clusters are transitive: A~B and B~C must not join A
        and C when those two disagree (never_merge, different DOIs, authors, years
        or volume numbers). This stops chains through a sparse record.
        """
        side_b = self._members[key_b]
        for x in self._members[key_a]:
            if self._never.get(x, set()) & side_b:
                return True
            fx = self._features[x]
            for y in side_b:
                if _hard_conflict(fx, self._features[y]):
                    return True
        return False

    def _any_conflict(self, keys: list[str]) -> bool:
        return any(self._conflict(a, b) for i, a in enumerate(keys) for b in keys[i + 1 :])

    def _join(self, key_a: str, key_b: str) -> None:
        if key_a == key_b:
            return
        merged = self._members.pop(key_a) | self._members.pop(key_b)
        new_key = min(merged)
        for old in (key_a, key_b):
            if old != new_key:
                self._gone.add(old)
        self._members[new_key] = merged
        for rid in merged:
            self._key_of[rid] = new_key
        self._changed.add(new_key)

    def _component(self, start: str) -> set[str]:
        seen, stack = {start}, [start]
        while stack:
            for nxt in self._edges[stack.pop()]:
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return seen

