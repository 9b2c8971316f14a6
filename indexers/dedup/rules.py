"""Are two records the same work? Decisions in a fixed order, each with its rule and evidence.

1. Strong identifiers (patent number, dissertation register number, DOI,
   ISBN-13 of book-like items, handle). Two different values of one scheme veto
   the merge: two patent numbers are two patents, whatever their titles say. A
   shared value merges (a shared DOI only if the titles do not wholly disagree:
   sources do put wrong DOIs in).
2. Two records of the same source merge only on a shared strong identifier: a
   catalogue's two records are two items unless it says otherwise.
3. Otherwise the MAIN titles must match closely (alternative and parallel titles
   never count), and nothing may disagree: type group, numbers in the title
   (volume, part, edition), author's abstract vs dissertation, generic title,
   two different subtitles, first author, year (±1 only for types whose year can
   shift, and only with corroboration: same container or publisher, or the same
   full author list).
`hard_conflict` lists the facts that keep two records apart whatever: a cluster
never holds two records that conflict (cluster.py checks it on every join).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from rapidfuzz import fuzz

from fedsearch.record import RecordType
from indexers.dedup.features import STRONG_SCHEMES, Features
from indexers.dedup.titles import is_listed_generic

T = RecordType
# Types that may be the same work under two catalogues' labels.
_TYPE_GROUPS: dict[RecordType, str] = {
    T.article: "paper",
    T.conference_paper: "paper",
    T.chapter: "paper",
    T.book: "book",
    T.report: "book",
    T.thesis: "thesis",
    T.dissertation: "thesis",
    T.patent: "patent",
    T.dataset: "dataset",
    T.project: "project",
    T.other: "any",
}
# Types whose year is that of one printing or grant: no ±1 tolerance.
EXACT_YEAR_TYPES = frozenset({T.book, T.dissertation, T.thesis, T.patent, T.report})  # blocking.py relies on it too
_LABEL = {"doi": "DOI", "isbn": "ISBN", "handle": "handle", "patent": "patent number", "register": "register number"}
# A handle names a repository's copy, not the work: two repositories' handles for one paper do not conflict.
_VETO_SCHEMES = ("patent", "register", "doi", "isbn")

# How many different named first authors use a record's main title in the collection the caller knows:
# (in any year, within a year of the record's). From Deduplicator.title_authors.
TitleAuthors = Callable[[Features], tuple[int, int]]
GENERIC_AUTHORS = 4  # that many make a title generic; spelling variants of one person can count twice, hence not 3
# Content words from which a frequent title still describes a work: titles naming a kind of document
# have one or two ("Лекции", "Working paper", "Тезисы докладов", "Жылдык отчет").
DESCRIPTIVE_WORDS = 3


def _no_counts(f: Features) -> tuple[int, int]:
    return 0, 0


@dataclass(frozen=True)
class Decision:
    same: bool
    score: float
    reason: str  # for people: "same DOI", "different patent numbers", "first authors differ"
    rule: str | None = None  # for a merge: doi, isbn, handle, patent, register, title
    evidence: str = ""  # for a merge: the shared identifier, or what agreed


def strong_conflict(a: Features, b: Features) -> str | None:
    """The scheme in which the two records carry different identifiers, if any."""
    if not a.strong or not b.strong:
        return None
    for scheme in _VETO_SCHEMES:
        x, y = a.ids(scheme), b.ids(scheme)
        if x and y and not x & y:
            return scheme
    return None


def shared_strong(a: Features, b: Features) -> tuple[str, str] | None:
    if not a.strong or not b.strong:
        return None
    for scheme in STRONG_SCHEMES:
        common = a.ids(scheme) & b.ids(scheme)
        if common:
            return scheme, min(common)
    return None


def _same_name(x: str, y: str) -> bool:
    return x == y or (min(len(x), len(y)) >= 5 and fuzz.ratio(x, y) >= 90)


def first_authors_agree(a: Features, b: Features) -> bool:
    """The first author's family name agrees (across scripts; a name given surname-last still counts)."""
    if not a.first or not b.first:
        return True
    if any(_same_name(x, y) for x in a.first for y in b.first):
        # One family name, two people: Токтокулова Мээрим / Токтогулов Н. З.
        return not (a.first_initials and b.first_initials and not a.first_initials & b.first_initials)
    # "Хаким Ибатулин" parsed without parts: the surname may be any word of the other's first name.
    return any(_same_name(x, w) for x in a.first for w in b.first_words) or any(
        _same_name(y, w) for y in b.first for w in a.first_words
    )


def _same_author_list(a: Features, b: Features) -> bool:
    return (
        len(a.surnames_folded) >= 1
        and len(a.surnames_folded) == len(b.surnames_folded)
        and all(_same_name(x, y) for x, y in zip(a.surnames_folded, b.surnames_folded))
    )


def _subtitles_differ(a: Features, b: Features) -> bool:
    """'X: обзор' and 'X: новые данные' are two works; a subtitle one catalogue dropped is not a difference."""
    if a.subtitle is None or b.subtitle is None:
        return False
    return fuzz.ratio(" ".join(a.subtitle), " ".join(b.subtitle)) < 85


def _substituted(ta: tuple[str, ...], tb: tuple[str, ...]) -> bool:
    """Does each title have a word the other lacks? ("...озера Иссык-Куль" / "...озера Сон-Куль").

    A typo or another romanization keeps words similar; a different place, object
    or method replaces one. Character similarity alone misses that.
    """

    def lonely(xs: tuple[str, ...], ys: tuple[str, ...]) -> bool:
        return any(len(x) >= 2 and not any(fuzz.ratio(x, y) >= 75 for y in ys) for x in xs)

    return lonely(ta, tb) and lonely(tb, ta)


def title_similarity(a: Features, b: Features) -> float:
    """How alike the MAIN titles are (0-100); alternative titles never count."""
    best = 0.0
    for ta in a.titles:
        for tb in b.titles:
            score = fuzz.ratio(" ".join(ta), " ".join(tb))
            if score > best and not _substituted(ta, tb):
                best = score
    # One catalogue drops the subtitle the other keeps: compare the title proper with the
    # whole title, if it is long enough to say something on its own.
    if (a.subtitle is None) != (b.subtitle is None):
        pa, pb = (a.proper, b.main) if a.subtitle else (a.main, b.proper)
        if min(len(pa), len(pb)) >= 2 and not _substituted(pa, pb):
            best = max(best, fuzz.ratio(" ".join(pa), " ".join(pb)) - 1)
    return best


def _identifier_match(a: Features, b: Features, scheme: str, value: str) -> Decision:
    """A shared identifier decides, unless the titles say a source put a wrong one in.

    Only titles in the same language can disagree: a bilingual journal's record may
    carry the English title where another copy has the Russian one.
    """
    if scheme in ("doi", "handle"):
        raw = max(
            fuzz.partial_ratio(" ".join(ta), " ".join(tb))
            for ta in a.all_titles or a.titles
            for tb in b.all_titles or b.titles
        )
        if raw < 50 and a.lang == b.lang:
            return Decision(False, raw, f"same {_LABEL[scheme]} but different titles")
    if scheme == "isbn":
        if a.numbers != b.numbers or a.autoref != b.autoref:
            return Decision(False, 0, "same ISBN but different volumes, parts or editions")
        sim = title_similarity(a, b)
        if sim < 70:
            return Decision(False, sim, "same ISBN but different titles")
    return Decision(True, 100, f"same {_LABEL[scheme]}", scheme, value)


def _year_corroborated(a: Features, b: Features) -> bool:
    """Something besides title and first author says a ±1 year is one work (online first, late printing)."""
    return bool(
        (a.container and a.container == b.container)
        or (a.publisher and a.publisher == b.publisher)
        or _same_author_list(a, b)
    )


def is_generic(f: Features, title_authors: TitleAuthors = _no_counts) -> bool:
    """A title that names a kind of document ("Отчёт", "Untitled"), or one that many first authors use."""
    return is_listed_generic(f.title_key) or title_authors(f)[0] >= GENERIC_AUTHORS


def compare(a: Features, b: Features, threshold: float = 92.0, title_authors: TitleAuthors = _no_counts) -> Decision:
    """Are two records the same work? The decision carries its reason, and for a merge its rule and evidence."""
    # 1. Strong identifiers: a conflict vetoes, a shared one decides.
    vetoed = strong_conflict(a, b)
    if vetoed:
        return Decision(False, 0, f"different {_LABEL[vetoed]}s")
    shared = shared_strong(a, b)
    if shared:
        decision = _identifier_match(a, b, *shared)
        if decision.same or shared[0] != "isbn":
            return decision
    # 2. One source's two records are two items unless an identifier says otherwise.
    if a.source == b.source:
        return Decision(False, 0, "same source and no shared identifier")
    # 3. Main title, first author, year, type.
    group_a, group_b = _TYPE_GROUPS.get(a.rtype, "any"), _TYPE_GROUPS.get(b.rtype, "any")
    if group_a != group_b and "any" not in (group_a, group_b):
        return Decision(False, 0, f"types differ ({a.rtype.value} / {b.rtype.value})")
    if a.numbers != b.numbers:
        return Decision(False, 0, "numbers in the titles differ (volume, part or edition)")
    if a.autoref != b.autoref:
        return Decision(False, 0, "author's abstract vs dissertation")
    if is_listed_generic(a.title_key) or is_listed_generic(b.title_key):
        return Decision(False, 0, "generic title: only an identifier can join such records")
    if is_generic(a, title_authors) or is_generic(b, title_authors):
        # Many people use this title. A short one ("Лекции", "Working paper") names a kind of document:
        # only an identifier joins. A descriptive one ("Энергетическая безопасность: состояние и
        # перспективы") joins when the whole author list and the year agree too.
        descriptive = min(len(a.main), len(b.main)) >= DESCRIPTIVE_WORDS
        if not (descriptive and a.year and a.year == b.year and _same_author_list(a, b)):
            return Decision(
                False,
                0,
                "title used by many authors: only an identifier, or the same authors and year, join such records",
            )
    if _subtitles_differ(a, b):
        return Decision(False, 0, "subtitles differ")
    if a.year and b.year and a.year != b.year:
        if abs(a.year - b.year) > 1 or a.rtype in EXACT_YEAR_TYPES or b.rtype in EXACT_YEAR_TYPES:
            return Decision(False, 0, f"years differ ({a.year} / {b.year})")
        if a.rtype != b.rtype and T.other not in (a.rtype, b.rtype):
            # A conference paper and the journal article that followed it a year later.
            return Decision(False, 0, f"{a.rtype.value} and {b.rtype.value} in different years")
        if not _year_corroborated(a, b):
            return Decision(False, 0, f"years differ ({a.year} / {b.year}) and nothing else corroborates")
    authors_known = bool(a.surnames and b.surnames)
    if authors_known and not first_authors_agree(a, b):
        return Decision(False, 0, "first authors differ")
    sim = title_similarity(a, b)
    words = min(len(a.main), len(b.main))
    if not authors_known:
        # Only the title says anything: short titles ("Информатика", "Отчет о НИР") are not enough.
        if words < 3 or (not (a.year and b.year) and words < 5):
            return Decision(False, sim, "no authors to compare and the title is short or undated")
        if max(title_authors(a)[1], title_authors(b)[1]) >= 2:
            return Decision(False, sim, "no authors to compare and several authors use the title")
        need = max(threshold, 97.0)
    elif words <= 2:
        need = max(threshold, 99.0)  # short titles must be (nearly) equal
    else:
        need = threshold
    if sim >= need:
        agreed = [f"title {sim:.0f}%"]
        if authors_known:
            agreed.append(f"first author {a.first_author}")
        if a.year and b.year:
            agreed.append(f"year {a.year}" if a.year == b.year else f"years {a.year}/{b.year}")
        return Decision(True, sim, "similar titles", "title", ", ".join(agreed))
    return Decision(False, sim, "titles differ")


def hard_conflict(a: Features, b: Features) -> str | None:
    """Facts that keep two records apart whatever their titles say; checked for every pair of a cluster."""
    vetoed = strong_conflict(a, b)
    if vetoed:
        return f"different {_LABEL[vetoed]}s"
    if a.source == b.source and not shared_strong(a, b):
        return "same source and no shared identifier"
    if shared_strong(a, b):
        return None
    if a.numbers != b.numbers:
        return "numbers in the titles differ"
    if a.year and b.year and abs(a.year - b.year) > 1:
        return "years differ"
    if a.surnames and b.surnames and not first_authors_agree(a, b):
        return "first authors differ"
    if _subtitles_differ(a, b):
        return "subtitles differ"
    return None
