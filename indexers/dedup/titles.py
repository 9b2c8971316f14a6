"""Titles as matching sees them: script-independent skeletons, the numbers they state, subtitles, generic titles."""

from __future__ import annotations

import re
from functools import lru_cache

from fedsearch import analysis
from indexers.normalize.text import strip_gmd

# Skeletons of words that carry no meaning for matching (en, ru, ky).
STOPWORDS = frozenset(
    analysis.skeleton(w)
    for w in [
        "the",
        "a",
        "an",
        "of",
        "in",
        "on",
        "and",
        "for",
        "to",
        "with",
        "by",
        "at",
        "from",
        "as",
        "its",
        "is",
        "are",
        "or",
        "и",
        "в",
        "на",
        "о",
        "об",
        "по",
        "с",
        "к",
        "для",
        "из",
        "от",
        "при",
        "или",
        "как",
        "его",
        "их",
        "во",
        "со",
        "жана",
        "менен",
        "боюнча",
        "үчүн",
        "жөнүндө",
        "деген",
        "да",
        "дагы",
    ]
)
# Titles that name a kind of document, not a work. Others are found by their frequency
# in the collection (Deduplicator: one title, many first authors); these are generic from the start.
GENERIC_TITLES = frozenset(
    " ".join(analysis.skeleton(w) for w in analysis.words(t))
    for t in (
        "untitled",
        "untitled draft",
        "no title",
        "title",
        "abstract",
        "abstracts",
        "report",
        "annual report",
        "final report",
        "proceedings",
        "collected papers",
        "collection of articles",
        "materials",
        "preface",
        "introduction",
        "conclusion",
        "editorial",
        "review",
        "thesis",
        "dissertation",
        "article",
        "paper",
        "book",
        "без названия",
        "без заглавия",
        "аннотация",
        "отчет",
        "отчёт",
        "отчет о нир",
        "годовой отчет",
        "сборник статей",
        "сборник научных трудов",
        "сборник трудов",
        "материалы",
        "материалы конференции",
        "труды",
        "тезисы",
        "тезисы докладов",
        "введение",
        "заключение",
        "предисловие",
        "рецензия",
        "статья",
        "диссертация",
        "автореферат",
        "вестник",
        "известия",
        "аталышсыз",
        "аталышы жок",
        "аннотация",
        "отчет",
        "макалалар жыйнагы",
        "илимий эмгектер",
        "жыйнак",
        "баяндама",
        "киришүү",
        "корутунду",
    )
)
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
AUTOREF = re.compile(r"автореф|autoref|авторефер", re.I)
# ISBD: "Title : subtitle", "Title = Parallel title"; also "Title. Subtitle" is left alone (too common in names).
_SUBTITLE_SPLIT = re.compile(r"\s*:\s+|\s+[:=]\s*|\s+[—–]\s+")
_PARALLEL = re.compile(r"\s+=\s+")


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


def main_title_only(text: str) -> str:
    """Drop a parallel title run into the main one: 'Экология = Ecology' -> 'Экология'."""
    return _PARALLEL.split(text, maxsplit=1)[0]


def split_title(text: str) -> tuple[str, str | None]:
    """Title proper and subtitle: 'Экология: проблемы' -> ('Экология', 'проблемы')."""
    parts = _SUBTITLE_SPLIT.split(text, maxsplit=1)
    if len(parts) == 2 and parts[0].strip() and parts[1].strip():
        return parts[0], parts[1]
    return text, None


def is_listed_generic(key: str) -> bool:
    return key in GENERIC_TITLES
