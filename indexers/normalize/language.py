"""Offline language guessing (py3langid) for records that do not say their language.

Short titles fool any n-gram model ("История Кыргызстана" scores as Kyrgyz),
so we only guess from enough text, restrict the candidates by script, let the
letters only Kyrgyz or Kazakh use decide between those, and give up below a
confidence threshold: no language is better than a wrong one.
"""

from __future__ import annotations

import copy
import re
from functools import lru_cache

from py3langid.langid import MODEL_FILE, LanguageIdentifier

CYRILLIC_CANDIDATES = ("ru", "ky", "kk", "uz", "tg", "uk", "be", "mn")
LATIN_CANDIDATES = ("en", "de", "fr", "tr", "uz", "es", "it", "nl", "pt", "pl", "cs")
CYRILLIC_LANGS = {"ru", "ky", "kk", "uz", "tg", "uk", "be", "mn", "bg", "sr", "mk", "tt", "ba", "cu"}
MIN_LETTERS = 25
MIN_CONFIDENCE = 0.8

_KY_LETTERS = re.compile(r"[ңөүҢӨҮ]")
_KK_LETTERS = re.compile(r"[әғқұһіӘҒҚҰҺІ]")
_UZ_LETTERS = re.compile(r"[ўЎ]")
_TG_LETTERS = re.compile(r"[ҷӣӯҶӢӮ]")
_UK_LETTERS = re.compile(r"[їєґЇЄҐ]")
_CYR = re.compile(r"[\u0400-\u04FF]")
_LAT = re.compile(r"[A-Za-zÀ-ɏ]")


@lru_cache(maxsize=1)
def _model() -> LanguageIdentifier:
    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)  # ~0.5 s: read once


@lru_cache(maxsize=2)
def _identifier(candidates: tuple[str, ...]) -> LanguageIdentifier:
    ident = copy.copy(_model())  # set_languages replaces the restricted arrays; the full model stays shared
    ident.set_languages(list(candidates))
    return ident


def script(text: str) -> str | None:
    """'cyrillic', 'latin' or None, by the majority of letters."""
    cyr, lat = len(_CYR.findall(text)), len(_LAT.findall(text))
    if not cyr and not lat:
        return None
    return "cyrillic" if cyr >= lat else "latin"


def _by_letters(text: str) -> str | None:
    """Cyrillic letters that only one of our languages uses settle it (None for other text)."""
    if _TG_LETTERS.search(text):
        return "tg"
    if _UZ_LETTERS.search(text):
        return "uz"
    if _UK_LETTERS.search(text):
        return "uk"
    if _KK_LETTERS.search(text):
        return "kk"
    if _KY_LETTERS.search(text):
        return "ky"
    return None


@lru_cache(maxsize=20_000)  # titles and abstracts repeat across a source's records and harvests
def detect(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when unsure."""
    letters = sum(ch.isalpha() for ch in text)
    sc = script(text)
    if sc is None:
        return None
    by_letters = _by_letters(text)
    if by_letters:
        return by_letters
    candidates = CYRILLIC_CANDIDATES if sc == "cyrillic" else LATIN_CANDIDATES
    if letters < MIN_LETTERS:
        return None
    lang, conf = _identifier(candidates).classify(text[:5000])
    return lang if conf >= MIN_CONFIDENCE else None


def text_language(text: str, record_languages: list[str]) -> str | None:
    """The language of one title or abstract, knowing the record's languages.

    A record that declares one language per script gives it to every text in
    that script; otherwise we guess, and keep the guess only if it is plausible.
    """
    sc = script(text)
    if sc is None:
        return None
    by_letters = _by_letters(text)
    if by_letters:
        return by_letters
    same_script = [lg for lg in record_languages if (lg in CYRILLIC_LANGS) == (sc == "cyrillic")]
    if len(same_script) == 1:
        return same_script[0]
    guess = detect(text)
    if guess and (not same_script or guess in same_script):
        return guess
    return None
