"""Other spellings of a query that found nothing: the other script, the other keyboard layout.

People in Kyrgyzstan type the same word in Cyrillic or Latin ("Bishkek" / "Бишкек")
and often with the wrong keyboard layout active ("\\'rjkjubz" for "экология").
The engines already match most romanizations of a word (analysis.skeleton), so
these rewrites catch what that misses; the caller only offers one that has hits.
"""

from __future__ import annotations

from fedsearch import analysis

# Russian/Kyrgyz Cyrillic -> a readable Latin (close to BGN/PCGN, the most common on signs).
CYR_TO_LAT = {
    "а": "a",
    "б": "b",
    "в": "v",
    "г": "g",
    "д": "d",
    "е": "e",
    "ё": "yo",
    "ж": "zh",
    "з": "z",
    "и": "i",
    "й": "y",
    "к": "k",
    "л": "l",
    "м": "m",
    "н": "n",
    "ң": "ng",
    "о": "o",
    "ө": "ö",
    "п": "p",
    "р": "r",
    "с": "s",
    "т": "t",
    "у": "u",
    "ү": "ü",
    "ф": "f",
    "х": "kh",
    "ц": "ts",
    "ч": "ch",
    "ш": "sh",
    "щ": "shch",
    "ъ": "",
    "ы": "y",
    "ь": "",
    "э": "e",
    "ю": "yu",
    "я": "ya",
}
# Latin -> Cyrillic, longest sequences first.
_LAT_TO_CYR: tuple[tuple[str, str], ...] = (
    ("shch", "щ"),
    ("sch", "щ"),
    ("zh", "ж"),
    ("kh", "х"),
    ("ts", "ц"),
    ("ch", "ч"),
    ("sh", "ш"),
    ("yu", "ю"),
    ("ya", "я"),
    ("yo", "ё"),
    ("ng", "ң"),
    ("ö", "ө"),
    ("ü", "ү"),
    ("oe", "ө"),
    ("ue", "ү"),
    ("a", "а"),
    ("b", "б"),
    ("c", "к"),
    ("d", "д"),
    ("e", "е"),
    ("f", "ф"),
    ("g", "г"),
    ("h", "х"),
    ("i", "и"),
    ("j", "ж"),
    ("k", "к"),
    ("l", "л"),
    ("m", "м"),
    ("n", "н"),
    ("o", "о"),
    ("p", "п"),
    ("q", "к"),
    ("r", "р"),
    ("s", "с"),
    ("t", "т"),
    ("u", "у"),
    ("v", "в"),
    ("w", "в"),
    ("x", "кс"),
    ("y", "ы"),
    ("z", "з"),
)

# The same physical keys on the US and Russian layouts.
_EN_KEYS = "`qwertyuiop[]asdfghjkl;'zxcvbnm,./" + '~QWERTYUIOP{}ASDFGHJKL:"ZXCVBNM<>?'
_RU_KEYS = "ёйцукенгшщзхъфывапролджэячсмитьбю." + "ЁЙЦУКЕНГШЩЗХЪФЫВАПРОЛДЖЭЯЧСМИТЬБЮ,"
_EN_TO_RU = str.maketrans(_EN_KEYS, _RU_KEYS)
_RU_TO_EN = str.maketrans(_RU_KEYS, _EN_KEYS)


def _match_case(src: str, out: str) -> str:
    if src.isupper() and len(src) > 1:
        return out.upper()
    if src[:1].isupper():
        return out[:1].upper() + out[1:]
    return out


def to_latin(text: str) -> str:
    out = []
    for ch in text:
        lat = CYR_TO_LAT.get(ch.lower())
        out.append(ch if lat is None else _match_case(ch, lat) if ch.isupper() else lat)
    return "".join(out)


def to_cyrillic(text: str) -> str:
    out: list[str] = []
    i = 0
    while i < len(text):
        low = text[i:].lower()
        for lat, cyr in _LAT_TO_CYR:
            if low.startswith(lat):
                piece = text[i : i + len(lat)]
                out.append(_match_case(piece, cyr))
                i += len(lat)
                break
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def transliterated(text: str) -> str | None:
    """The query in the other script, or None if it has no letters to convert."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cyr = sum(1 for ch in letters if analysis.is_cyrillic(ch))
    out = to_latin(text) if cyr * 2 >= len(letters) else to_cyrillic(text)
    return out if out != text else None


def other_layout(text: str) -> str | None:
    """The query as typed with the other keyboard layout (QWERTY <-> ЙЦУКЕН)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return None
    cyr = sum(1 for ch in letters if analysis.is_cyrillic(ch))
    out = text.translate(_RU_TO_EN if cyr * 2 >= len(letters) else _EN_TO_RU)
    return out if out != text else None
