"""A Kyrgyz stemmer: strips inflection, keeps derivation (docs/analysis.md).

Kyrgyz nouns take, in this order: plural, possessive, case, and the
attributive -дагы. The stemmer strips them from the end, one slot at a time,
and only where the suffix fits the word before it:
- vowel harmony: the suffix vowel agrees with the last vowel of the stem
  (а/ы after а, ы; е/и after е, и; о/у after о, ө, у, ү; а also after у);
- consonant assimilation: н/л after vowels, д after voiced consonants,
  т/к after voiceless ones (китептин, тоонун, көлдүн);
- a stem keeps at least one vowel and three letters.
Derivational suffixes (-чы, -лык, -чылык) are not inflection and stay:
аарычы and аарычылык are different words.

The stemmer works on folded text (ө->о, ү->у, ң->н, as fedsearch.analysis
folds it): people type Kyrgyz on Russian keyboards, and a folded query must
stem like the proper spelling. A stem's final г/б is written к/п, so the
voicing before a vowel suffix (аарычылыгы, китеби) meets the bare word.
"""

from __future__ import annotations

import re
from functools import lru_cache

_VOWELS = "аеёиоуыэюяөү"
_VOICELESS = "кпстфхцчшщ"
MIN_STEM = 3

# Harmony in folded spelling: the last stem vowel -> vowels a suffix may carry.
_HARMONY = {
    "а": "аы",
    "ы": "аы",
    "я": "аы",
    "э": "еи",
    "е": "еи",
    "и": "еи",
    "ё": "оу",
    "о": "оу",
    "у": "аоу",
    "ю": "аоу",
}

A, I = "[аео]", "[ыиу]"  # noqa: E741 - archiphonemes: a low and a high suffix vowel (folded)

# Each slot: (pattern of the suffix, what must come before it). "V": a vowel,
# "Z": a voiced consonant (including й р л м н з ж), "S": voiceless, "C": any consonant,
# "R": й or р where they differ from other voiced consonants,
# "*": anything. Longer alternatives come first.
_ATTRIBUTIVE = [(f"нд{A}г{I}", "V"), (f"д{A}г{I}", "VZ"), (f"т{A}г{I}", "S")]
_CASES = [
    # after a third-person possessive (-ы/-сы) some cases take н: эпосунда, эпосуна.
    # They are stripped together with the possessive (a bare -н- is too ambiguous).
    (f"с{I}нд{A}н", "V"),
    (f"{I}нд{A}н", "C"),
    (f"с{I}нд{A}", "V"),
    (f"{I}нд{A}", "C"),
    (f"с{I}н{A}", "V"),
    (f"{I}н{A}", "C"),
    (f"н{I}н", "V"),
    (f"д{I}н", "Z"),
    (f"т{I}н", "S"),  # genitive
    (f"г{A}", "VZ"),
    (f"к{A}", "S"),  # dative
    (f"н{I}", "V"),
    (f"д{I}", "Z"),
    (f"т{I}", "S"),  # accusative
    (f"д{A}н", "VZ"),
    (f"т{A}н", "S"),  # ablative
    (f"д{A}", "VZ"),
    (f"т{A}", "S"),  # locative
]
_POSSESSIVES = [
    (f"{I}б{I}з", "C"),
    (f"б{I}з", "V"),  # our
    (f"{I}н{I}з", "C"),
    (f"н{I}з", "V"),  # your (plural, polite)
    (f"с{I}", "V"),
    (I, "C"),  # his, her, its, their
    (f"{I}м", "C"),
    ("м", "V"),  # my
]
_PLURALS = [(f"л{A}р", "VR"), (f"д{A}р", "Z"), (f"т{A}р", "S")]  # л also after й, р: үйлөр, жерлер


def _compile(slot: list[tuple[str, str]]) -> list[tuple[re.Pattern[str], str]]:
    return [(re.compile(f"(?:{pat})$"), before) for pat, before in slot]


_SLOTS = [_compile(s) for s in (_ATTRIBUTIVE, _CASES, _POSSESSIVES, _PLURALS)]
_CASE_SLOT, _POSSESSIVE_SLOT, _PLURAL_SLOT = 1, 2, 3
_VOICED = "бвгджзйлмнр"


def _last_vowel(stem: str) -> str | None:
    for ch in reversed(stem):
        if ch in _VOWELS:
            return ch.replace("ө", "о").replace("ү", "у")
    return None


def _fits(stem: str, suffix: str, before: str) -> bool:
    if len(stem) < MIN_STEM:
        return False
    last_vowel = _last_vowel(stem)
    if last_vowel is None:
        return False
    vowels = [ch for ch in suffix if ch in _VOWELS]
    if vowels and vowels[0] not in _HARMONY.get(last_vowel, vowels[0]):
        return False
    end = stem[-1]
    kind = "V" if end in _VOWELS else ("S" if end in _VOICELESS else ("R" if end in "йр" and "R" in before else "Z"))
    if before == "*":
        return True
    if "C" in before:
        return kind != "V"
    # к/п-final stems voice before a vowel but take voiceless consonant suffixes.
    return kind in before


def _strip_slot(word: str, slot: list[tuple[re.Pattern[str], str]]) -> tuple[str, str]:
    """(word without the slot's suffix, the suffix stripped or "")."""
    for pattern, before in slot:
        m = pattern.search(word)
        if m and _fits(word[: m.start()], m.group(), before):
            return word[: m.start()], m.group()
    return word, ""


_THIRD_POSSESSIVE = _compile([(I, "C")])


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """The stem of one folded, lowercase Cyrillic Kyrgyz word."""
    w = _strip_slots(word)
    # A stem that still reads as inflected (медицина: медиц+ина) is read so in every
    # form: медицинанын -> медицина -> медиц, like the bare word.
    if w != word:
        w = _strip_slots(w)
    return _normalize_end(w)


def _strip_slots(word: str) -> str:
    w = word
    with_possessive = False
    for n, slot in enumerate(_SLOTS):
        if n == _POSSESSIVE_SLOT and with_possessive:
            continue
        w, suffix = _strip_slot(w, slot)
        if n == _CASE_SLOT and suffix.startswith(("ы", "и", "у", "с")) and "н" in suffix:
            with_possessive = True  # эпосунда: the possessive went with the case
        if n == _PLURAL_SLOT and suffix:
            # A lemma ending in consonant + ы/и/у reads like a possessive and loses it
            # (оозеки -> оозек); its plural must too (оозекилер -> оозеки -> оозек).
            w, _ = _strip_slot(w, _THIRD_POSSESSIVE)
    return w


def _normalize_end(w: str) -> str:
    # A final vowel + н/с is ambiguous: нурланы is нурлан+ы or нурла+ны, эпосу is эпос+у
    # or эпо+су, нарында is нарын+да or нар+ы+нда. Dropping the н/с (and a possessive-like
    # vowel before it) gives every reading the same stem: нурла, эпо, нар.
    if len(w) > MIN_STEM and w[-1] in "нс" and w[-2] in _VOWELS:
        w = w[:-1]
        if len(w) > MIN_STEM and w[-1] in "ыиу" and w[-2] not in _VOWELS:
            w = w[:-1]
    # Final к/п voice before a vowel (аарычылыгы, китеби): write the stem's г/б as к/п.
    if len(w) > MIN_STEM and w[-1] in "гб" and w[-2] in _VOWELS:
        w = w[:-1] + ("к" if w[-1] == "г" else "п")
    return w
