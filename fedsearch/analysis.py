"""Our text analysis chain, shared by both engines (docs/analysis.md).

Analysis happens here, in Python, not inside the engine, for two reasons:
both engines then index exactly the same terms (so the conformance suite can
demand identical results), and Kyrgyz folding and Cyrillic-Latin matching are
not something either engine ships. Elasticsearch's integration-test
distribution also has no analysis-common module (no `russian` analyzer).

Each word yields exactly one term per variant, so positions (and phrases) hold:
- `stem`: lowercase, ё->е, Kyrgyz ң ө ү folded to н о у (people type them on
  Russian keyboards), apostrophes dropped, then Snowball Russian for Cyrillic
  words and English for Latin words.
- `skeleton`: a script-independent key. Cyrillic is transliterated, then both
  scripts are reduced so that ALA-LC, GOST 7.79, BGN/PCGN and informal
  spellings meet: Бишкек/Bishkek -> biskek, Айтматов/Aytmatov -> aitmatov,
  Ысык-Көл/Issyk-Kul/Ysyk-Köl -> isik kul, Жамийла/Zhamijla (GOST 7.79) -> jamila.
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
# The same for text without "_" (nearly all), and ~40% faster: `re` is slow on negated classes.
_WORD_NO_UNDERSCORE_RE = re.compile(r"\w+(?:\.\w+)*", re.UNICODE)
_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")

_STEM_FOLD = str.maketrans({"ё": "е", "ң": "н", "ө": "о", "ү": "у", "һ": "х", "ә": "а"})

_CYR_TO_LAT = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "j",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "ң": "n",
    "о": "o", "ө": "u", "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ү": "u",
    "ф": "f", "х": "h", "ц": "c", "ч": "c", "ш": "s", "щ": "s", "ъ": "", "ы": "i",
    "ь": "", "э": "e", "ю": "iu", "я": "ia", "і": "i", "һ": "h", "ә": "a",
}
_CYR_TO_LAT_TABLE = str.maketrans(_CYR_TO_LAT)
# Applied in order to Latin text (after transliteration) to merge romanizations.
_LATIN_RULES: tuple[tuple[str, str], ...] = (
    ("shch", "s"), ("shh", "s"), ("sch", "s"), ("tch", "c"), ("cz", "c"), ("dzh", "j"), ("dj", "j"),
    ("kh", "h"), ("gh", "g"), ("zh", "j"), ("ch", "c"), ("sh", "s"), ("ts", "c"), ("tz", "c"),
    ("yu", "iu"), ("ju", "iu"), ("ya", "ia"), ("ja", "ia"), ("yo", "e"), ("jo", "e"), ("ye", "e"),
    ("x", "h"), ("w", "v"), ("q", "k"), ("y", "i"),
)
# ö, ü stand for Kyrgyz ө, ү, which correspond to Russian у/ю (Көл/Куль).
_LATIN_VOWELS = str.maketrans({"ö": "u", "ü": "u", "ı": "i", "ñ": "n", "ž": "j"})
_DOUBLES_RE = re.compile(r"([a-z])\1+")


def words(text: str) -> list[str]:
    """Split display text into words; apostrophes inside words are dropped."""
    if _APOS_RE.search(text):
        text = _APOS_RE.sub("", text)
    return (_WORD_RE if "_" in text else _WORD_NO_UNDERSCORE_RE).findall(text)


def is_cyrillic(word: str) -> bool:
    return bool(_CYRILLIC_RE.search(word))


@lru_cache(maxsize=4)
def _stemmer(lang: str) -> Stemmer.Stemmer:
    return Stemmer.Stemmer(lang)


@lru_cache(maxsize=200_000)
def fold(word: str) -> str:
    """Lowercase and fold, without stemming (used for prefixes)."""
    return _APOS_RE.sub("", word.lower()).translate(_STEM_FOLD)


def _stem(word: str) -> str:
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


def _skeleton(word: str) -> str:
    w = _APOS_RE.sub("", word.lower())
    w = _LATIN_Y_O.sub("io", _LATIN_SHORT_I.sub("i", w))
    w = w.translate(_CYR_TO_LAT_TABLE).replace("šč", "s").translate(_LATIN_VOWELS)
    if not w.isascii():
        # Strip remaining diacritics (č, š, ž of scholarly systems fold to c, s, z).
        w = "".join(ch for ch in unicodedata.normalize("NFKD", w) if not unicodedata.combining(ch))
    for old, new in _LATIN_RULES:
        if old in w:
            w = w.replace(old, new)
    return _LAT_FEMININE_SURNAME.sub(r"\1", _DOUBLES_RE.sub(r"\1", w))


stem = lru_cache(maxsize=200_000)(_stem)
skeleton = lru_cache(maxsize=200_000)(_skeleton)


def stem_terms(text: str) -> list[str]:
    return [stem(w) for w in words(text)]


def skeleton_terms(text: str) -> list[str]:
    return [skeleton(w) for w in words(text)]


# Indexing analyses every word of every record, and the vocabulary repeats hugely (names,
# subjects, title words), so each distinct word is analysed once, and short texts (author
# names, subjects, most titles) once per distinct text. Plain dicts, emptied when full:
# bounded memory, no per-hit bookkeeping.
_WORD_CACHE_MAX = 300_000
_TEXT_CACHE_MAX = 100_000
_TEXT_CACHE_CHARS = 300  # longer texts (abstracts) rarely repeat
_word_cache: dict[str, tuple[str, str, str]] = {}
_text_cache: dict[str, tuple[str, str, str]] = {}  # text -> (stems, skeletons, folds)


def _word_terms(word: str) -> tuple[str, str, str]:
    """(stem, skeleton, fold) of one word, from the cache."""
    terms = _word_cache.get(word)
    if terms is None:
        if len(_word_cache) >= _WORD_CACHE_MAX:
            _word_cache.clear()
        terms = _word_cache[word] = (_stem(word), _skeleton(word), fold(word))
    return terms


def _text_terms(text: str) -> tuple[str, str, str]:
    hit = _text_cache.get(text)
    if hit is not None:
        return hit
    terms = [_word_terms(w) for w in words(text)]
    out = (" ".join(t[0] for t in terms), " ".join(t[1] for t in terms), " ".join(t[2] for t in terms))
    if len(text) <= _TEXT_CACHE_CHARS:
        if len(_text_cache) >= _TEXT_CACHE_MAX:
            _text_cache.clear()
        _text_cache[text] = out
    return out


def analyzed(text: str) -> tuple[str, str]:
    """The (stem, skeleton) strings that engines index with a whitespace tokenizer."""
    st, sk, _ = _text_terms(text)
    return st, sk


def folded(text: str) -> str:
    """The text's words lowercased and folded (not stemmed), joined by spaces: for sort keys."""
    return _text_terms(text)[2]


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
