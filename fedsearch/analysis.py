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

from fedsearch import kyrgyz

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
_CYR_TO_LAT_TABLE = str.maketrans(_CYR_TO_LAT)
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


def exact(word: str) -> str:
    """A word as written, lowercased (Kyrgyz letters, ё and endings kept): exact forms rank first."""
    return _APOS_RE.sub("", word.lower())


def _stem(word: str, lang: str | None = None) -> str:
    w = fold(word)
    if not w or w.replace(".", "").isdigit():
        return w
    if lang == "ky" and is_cyrillic(w):
        return kyrgyz.stem(w)
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

# --- the cross-script key: the skeleton of a stem ---------------------------------------
# skeleton() alone is built from the word as written, so Бишкеке (Russian locative) or
# Таласской never met Bishkek, Talas. The key indexed is the skeleton of the *stem*: a
# Cyrillic word is stemmed in its language (Russian, or Kyrgyz for Kyrgyz text), a Latin
# word is read back into Cyrillic letters and stemmed the same way. Adjectives of place
# (Таласской, Чуйской, Иссык-Кульской) lose -ск-/-цк- too, and ю after a consonant
# is u (Мюллер/Müller), Latin o may stand for ө (Ysyk-Kol/Ысык-Көл), so o and u merge.

_LAT_TO_CYR = str.maketrans(
    {
        "a": "а",
        "b": "б",
        "c": "ц",
        "d": "д",
        "e": "е",
        "f": "ф",
        "g": "г",
        "h": "х",
        "i": "и",
        "j": "ж",
        "k": "к",
        "l": "л",
        "m": "м",
        "n": "н",
        "o": "о",
        "p": "п",
        "r": "р",
        "s": "с",
        "t": "т",
        "u": "у",
        "v": "в",
        "z": "з",
    }
)
_PLACE_ADJ_RE = re.compile(r"^(.{3,}?)(?:с|ц)к$")
_IU_AFTER_CONSONANT_RE = re.compile(r"(?<=[b-df-hj-np-tv-z])iu")


def _cyrillic_stem(word: str, lang: str | None) -> str:
    st = _stem(word, lang)
    if lang != "ky":
        m = _PLACE_ADJ_RE.match(st)
        if m:  # таласск -> талас; чуйск -> чуй -> чу
            st = _stem(m.group(1))
    return st


def _key(word: str, lang: str | None = None) -> str:
    """The cross-script key of one word read as `lang` ("ky", or anything else for Russian)."""
    if not word or word.replace(".", "").isdigit():
        return fold(word)
    if is_cyrillic(word):
        st = _cyrillic_stem(word, lang)
    else:
        latin = _skeleton(word)
        if not latin.isalpha() or not latin.isascii():
            return latin
        st = _cyrillic_stem(latin.translate(_LAT_TO_CYR), lang)
    return key_prefix(st)


key = lru_cache(maxsize=200_000)(_key)


def key_prefix(text: str) -> str:
    """A typed prefix (or a stem) in the form of the cross-script keys, unstemmed."""
    return _IU_AFTER_CONSONANT_RE.sub("u", _skeleton(text)).replace("o", "u")


def query_stems(word: str) -> tuple[str, ...]:
    """A query word's stem terms: its Russian and its Kyrgyz reading when they differ."""
    return tuple(dict.fromkeys((stem(word), stem(word, "ky"))))


def query_keys(word: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys((key(word), key(word, "ky"))))


def stem_terms(text: str, lang: str | None = None) -> list[str]:
    return [stem(w, lang) for w in words(text)]


def skeleton_terms(text: str) -> list[str]:
    return [skeleton(w) for w in words(text)]


def key_terms(text: str, lang: str | None = None) -> list[str]:
    return [key(w, lang) for w in words(text)]


# Function words of the three languages: prepositions, conjunctions, articles, postpositions.
# Indexed like any word (phrases and positions hold), but a query does not require them: "history
# of Bishkek" must not miss "Бишкектин тарыхы", nor "туризм в Бишкеке" a title without "в".
# Folded forms (ү -> у). Short and conservative: words that carry a topic stay out.
STOPWORDS: frozenset[str] = frozenset(
    {
        # English
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "in",
        "into",
        "is",
        "of",
        "on",
        "or",
        "the",
        "to",
        "with",
        # Russian
        "а",
        "в",
        "во",
        "и",
        "из",
        "к",
        "ко",
        "на",
        "над",
        "о",
        "об",
        "от",
        "по",
        "при",
        "с",
        "со",
        "у",
        "для",
        "до",
        "за",
        "или",
        "как",
        # Kyrgyz
        "жана",
        "менен",
        "учун",
        "боюнча",
        "жонундо",
        "же",
        "да",
        "дагы",
    }
)


def is_stopword(word: str) -> bool:
    return fold(word) in STOPWORDS


_KYRGYZ_LETTERS_RE = re.compile("[өүңӨҮҢ]")


def text_language(text: str, lang: str | None) -> str | None:
    """The language to analyse a text in: its own tag, else Kyrgyz if it has Kyrgyz letters."""
    if lang:
        return lang
    return "ky" if _KYRGYZ_LETTERS_RE.search(text) else None


# Indexing analyses every word of every record, and the vocabulary repeats hugely (names,
# subjects, title words), so each distinct word is analysed once, and short texts (author
# names, subjects, most titles) once per distinct text. Plain dicts, emptied when full:
# bounded memory, no per-hit bookkeeping.
_WORD_CACHE_MAX = 300_000
_TEXT_CACHE_MAX = 100_000
_TEXT_CACHE_CHARS = 300  # longer texts (abstracts) rarely repeat
_word_cache: dict[tuple[str, str | None], tuple[str, str, str]] = {}
_text_cache: dict[tuple[str, str | None], tuple[str, str, str]] = {}  # -> (stems, keys, folds)


def _word_terms(word: str, lang: str | None) -> tuple[str, str, str]:
    """(stem, cross-script key, fold) of one word in a language, from the cache."""
    terms = _word_cache.get((word, lang))
    if terms is None:
        if len(_word_cache) >= _WORD_CACHE_MAX:
            _word_cache.clear()
        terms = _word_cache[(word, lang)] = (_stem(word, lang), _key(word, lang), fold(word))
    return terms


def _text_terms(text: str, lang: str | None = None) -> tuple[str, str, str]:
    hit = _text_cache.get((text, lang))
    if hit is not None:
        return hit
    terms = [_word_terms(w, lang) for w in words(text)]
    out = (" ".join(t[0] for t in terms), " ".join(t[1] for t in terms), " ".join(t[2] for t in terms))
    if len(text) <= _TEXT_CACHE_CHARS:
        if len(_text_cache) >= _TEXT_CACHE_MAX:
            _text_cache.clear()
        _text_cache[(text, lang)] = out
    return out


def analyzed(text: str, lang: str | None = None) -> tuple[str, str]:
    """The (stem, cross-script key) strings that engines index with a whitespace tokenizer.

    `lang` is the text's language ("ky" stems Cyrillic words as Kyrgyz; see text_language)."""
    st, sk, _ = _text_terms(text, text_language(text, lang) if lang is None else lang)
    return st, sk


def folded(text: str) -> str:
    """The text's words lowercased and folded (not stemmed), joined by spaces: for sort keys."""
    return _text_terms(text)[2]


_CODE_RE = re.compile(r"[^0-9a-z]+")


def code_term(scheme: str, code: str) -> str:
    """One exact-match term for a code or identifier: 'udc', '551.5' -> 'udc:551_5'."""
    return f"{scheme.lower()}:{bare_code_term(code)}"


# A patent number with a country code, typed with a space or hyphen: "KG 1001", "KG-20190012.1".
_PATENT_RE = re.compile(r"^([a-z]{2})[\s\-]+(\d[\d.]*)$")
_RESOLVER_RE = re.compile(r"^\s*(?:https?://(?:dx\.)?doi\.org/|doi:\s*|https?://hdl\.handle\.net/|hdl:\s*)", re.I)
_DIGITS_ONLY_RE = re.compile(r"[0-9xX][0-9xX\- ]*")


def bare_code_term(code: str) -> str:
    """A code without its scheme, as people type it: 'A01B 1/00' -> 'a01b_1_00'.

    Resolver prefixes go (https://doi.org/...), and numbers written with hyphens
    or spaces (ISBN, ISSN) lose them: '978-9967-00000-1' -> '9789967000001'.
    """
    code = _RESOLVER_RE.sub("", code).strip().lower()
    code = _PATENT_RE.sub(r"\1\2", code)
    if _DIGITS_ONLY_RE.fullmatch(code):
        return code.replace("-", "").replace(" ", "")
    return _CODE_RE.sub("_", code).strip("_")


# UDC: a main number ("502.51", "821.512.154") and auxiliaries after it: place "(575.2)",
# form "-3", relations ":", language "=", and so on. The main number is indexed alone too,
# so "502.51" finds "502.51(575.2)", and its leading parts find it by prefix.
_UDC_MAIN_RE = re.compile(r"^\s*(\d+(?:\.\d+)*)")
_UDC_NUMBER_RE = re.compile(r"^\d{1,3}(?:\.\d+)*$")


def udc_main(code: str) -> str | None:
    """The main number of a UDC code ('502.51(575.2)' -> '502.51'), None if it has none."""
    m = _UDC_MAIN_RE.match(code)
    return m.group(1) if m else None


def looks_like_udc_number(text: str) -> bool:
    """'502', '502.5', '821.512.154': a UDC main number or a leading part of one."""
    return bool(_UDC_NUMBER_RE.match(text.strip()))
