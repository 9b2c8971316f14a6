"""The analysis chain as it was before the per-word caches and translate tables (commit 3011186).

Kept verbatim as the reference the fast path in fedsearch/analysis.py must match
term for term (tests/fedsearch/test_fast_paths.py). Do not optimize this file.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import Stemmer

# Apostrophe-like marks used for ь/ъ by romanization systems, or typed instead.
APOSTROPHES = "'’ʼʹʺ`´‘′″ˮ\""
_APOS_RE = re.compile(f"[{re.escape(APOSTROPHES)}]")
# A word: letters and digits, with internal dots for codes ("551.5") kept.
_WORD_RE = re.compile(r"[^\W_]+(?:\.[^\W_]+)*", re.UNICODE)
_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")

_STEM_FOLD = str.maketrans({"ё": "е", "ң": "н", "ө": "о", "ү": "у", "һ": "х", "ә": "а"})

_CYR_TO_LAT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "e",
    "ж": "j",
    "з": "z",
    "и": "i",
    "й": "i",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "ң": "n",
    "о": "o",
    "ө": "u",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ү": "u",
    "ф": "f",
    "х": "h",
    "ц": "c",
    "ч": "c",
    "ш": "s",
    "щ": "s",
    "ъ": "",
    "ы": "i",
    "ь": "",
    "э": "e",
    "ю": "iu",
    "я": "ia",
    "і": "i",
    "һ": "h",
    "ә": "a",
}
# Applied in order to Latin text (after transliteration) to merge romanizations.
_LATIN_RULES: tuple[tuple[str, str], ...] = (
    ("shch", "s"),
    ("shh", "s"),
    ("sch", "s"),
    ("tch", "c"),
    ("cz", "c"),
    ("dzh", "j"),
    ("dj", "j"),
    ("kh", "h"),
    ("gh", "g"),
    ("zh", "j"),
    ("ch", "c"),
    ("sh", "s"),
    ("ts", "c"),
    ("tz", "c"),
    ("yu", "iu"),
    ("ju", "iu"),
    ("ya", "ia"),
    ("ja", "ia"),
    ("yo", "e"),
    ("jo", "e"),
    ("ye", "e"),
    ("x", "h"),
    ("w", "v"),
    ("q", "k"),
    ("y", "i"),
)
# ö, ü stand for Kyrgyz ө, ү, which correspond to Russian у/ю (Көл/Куль).
_LATIN_VOWELS = str.maketrans({"ö": "u", "ü": "u", "ı": "i", "ñ": "n", "ž": "j"})
_DOUBLES_RE = re.compile(r"([a-z])\1+")


def words(text: str) -> list[str]:
    """Split display text into words; apostrophes inside words are dropped."""
    return _WORD_RE.findall(_APOS_RE.sub("", text))


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC_RE.search(word))


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lowercase and fold, without stemming (used for prefixes)."""
    return _APOS_RE.sub("", word.lower()).translate(_STEM_FOLD)


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    w = fold(word)
    if not w or w.replace(".", "").isdigit():
        return w
    if is_cyrillic(w):
        # Айтматова and Айтматов must meet: Snowball strips -а from one and -ов from the other.
        w = _CYR_FEMININE_SURNAME.sub(r"\1", w)
        return _stemmer("russian").stemWord(w)
    return _stemmer("english").stemWord(w)


# GOST 7.79 and ISO 9 write й as "j" ("Zhamijla"); elsewhere Latin j is ж ("Jumabaev").
# A Latin j after a vowel and before a consonant or the end is й.
_LATIN_SHORT_I = re.compile(r"(?<=[aeiouy])j(?=[b-df-hj-np-tv-z]|$)")
# "yo" after a vowel is й + о ("rayone", "Mayor"), not ё.
_LATIN_Y_O = re.compile(r"(?<=[aeiou])yo")


# Feminine surnames (Айтматова, Ivanova, Kalinina) fold to the masculine form.
_CYR_FEMININE_SURNAME = re.compile(r"^(\w{3,}(?:ов|ев|ин|ын))а$")
_LAT_FEMININE_SURNAME = re.compile(r"^([a-z]{3,}(?:ov|ev|in))a$")


@lru_cache(maxsize=200_000)
def skeleton(word: str) -> str:
    w = _APOS_RE.sub("", word.lower())
    w = _LATIN_Y_O.sub("io", _LATIN_SHORT_I.sub("i", w))
    w = "".join(_CYR_TO_LAT.get(ch, ch) for ch in w).replace("šč", "s").translate(_LATIN_VOWELS)
    # Strip remaining diacritics (č, š, ž of scholarly systems fold to c, s, z).
    w = "".join(ch for ch in unicodedata.normalize("NFKD", w) if not unicodedata.combining(ch))
    for old, new in _LATIN_RULES:
        w = w.replace(old, new)
    return _LAT_FEMININE_SURNAME.sub(r"\1", _DOUBLES_RE.sub(r"\1", w))


def stem_terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def skeleton_terms(text: str) -> list[str]:
    return [skeleton(w) for w in words(text)]


def analyzed(text: str) -> tuple[str, str]:
    """The (stem, skeleton) strings that engines index with a whitespace tokenizer."""
    ws = words(text)
    return " ".join(stem(w) for w in ws), " ".join(skeleton(w) for w in ws)


_CODE_RE = re.compile(r"[^0-9a-z]+")


def code_term(scheme: str, code: str) -> str:
    """One exact-match term for a code or identifier: 'udc', '551.5' -> 'udc:551_5'."""
    return f"{scheme.lower()}:{bare_code_term(code)}"


_RESOLVER_RE = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*|https?://hdl\.handle\.net/|hdl:\s*)", re.I)
_DIGITS_ONLY_RE = re.compile(r"[0-9xX][0-9xX\- ]*")


def bare_code_term(code: str) -> str:
    """A code without its scheme, as people type it: 'A01B 1/00' -> 'a01b_1_00'.

    Resolver prefixes go (https://doi.org/...), and numbers written with hyphens
    or spaces (ISBN, ISSN) lose them: '978-9967-00000-1' -> '9789967000001'.
    """
    code = _RESOLVER_RE.sub("", code).strip().lower()
    if _DIGITS_ONLY_RE.fullmatch(code):
        return code.replace("-", "").replace(" ", "")
    return _CODE_RE.sub("_", code).strip("_")
