"""The Kyrgyz stemmer against an independent oracle (docs/analysis.md).

The oracle is the PyPI package `kyrgyz` (MIT), which builds case forms by
vowel harmony and consonant assimilation. Lemmas are real Kyrgyz words from
our corpora (the synthetic corpus vocabulary, the judged corpus). Plural and
possessive forms are built here from the textbook tables (written
independently of fedsearch/kyrgyz.py), and the oracle puts each of them in
every case. A form "meets its lemma" when both stem to the same term.
"""

from __future__ import annotations

import json
import re

import kyrgyz as kyrgyz_oracle
import pytest
from kyrgyz.cases import Case

from fedsearch import analysis, kyrgyz
from fedsearch_app.corpus import vocab
from tests.conftest import ROOT

TESTS = ROOT / "tests"
_WORD = re.compile(r"^[а-яөүң]{3,}$")
_BACK, _FRONT = set("аоуы"), set("еиөү")
_VOWELS = "аоуыеиөүэюяё"


def _lemmas() -> list[str]:
    """Distinct Kyrgyz words of our corpora that are not an inflected form of a shorter
    word (as the oracle and the tables below inflect it), in a stable order."""
    texts: list[str] = list(vocab.KY_MALE + vocab.KY_FEMALE + vocab.KY_ROOTS)
    texts += [p[0] for p in vocab.PLACES] + [h[0] for h in vocab.HEADS] + [i[0] for i in vocab.INSTITUTIONS]
    for d in vocab.DISCIPLINES:
        texts += [d.name[0]] + [t[0] for t in d.topics] + [s[0] for s in d.subjects] + [p[0] for p in d.patents]
    for line in (TESTS / "relevance" / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        texts += [
            t["value"]
            for t in rec["title"] + rec.get("title_alt", []) + rec.get("abstract", [])
            if t.get("lang") == "ky"
        ]
    seen: dict[str, None] = {}
    for text in texts:
        for w in analysis.words(text.lower()):
            if _WORD.match(w) and any(v in w for v in _VOWELS):
                seen.setdefault(w, None)
    return [w for w in seen if not _is_inflected(w)]


def _is_inflected(word: str) -> bool:
    for k in range(3, len(word)):
        base = word[:k]
        for cand in {base, base[:-1] + {"г": "к", "б": "п"}.get(base[-1], base[-1])}:
            if any(v in cand for v in _VOWELS) and word in _forms(cand)[1:]:
                return True
    return False


def _last_vowel(w: str) -> str:
    return next(ch for ch in reversed(w) if ch in _VOWELS)


def _low(w: str) -> str:
    return {
        "а": "а",
        "ы": "а",
        "я": "а",
        "о": "о",
        "у": "а",
        "ю": "а",
        "е": "е",
        "и": "е",
        "э": "е",
        "ө": "ө",
        "ү": "ө",
        "ё": "о",
    }[_last_vowel(w)]


def _high(w: str) -> str:
    return {
        "а": "ы",
        "ы": "ы",
        "я": "ы",
        "о": "у",
        "у": "у",
        "ю": "у",
        "е": "и",
        "и": "и",
        "э": "и",
        "ө": "ү",
        "ү": "ү",
        "ё": "у",
    }[_last_vowel(w)]


def _plural(w: str) -> str:
    end = w[-1]
    c = "л" if end in _VOWELS or end in "йр" else ("т" if end in "кпстфхцчшщ" else "д")
    return w + c + _low(w) + "р"


def _possessives(w: str) -> list[str]:
    """3rd person, 1st singular, 1st plural, 2nd plural."""
    h = _high(w)
    if w[-1] in _VOWELS:
        return [w + "с" + h, w + "м", w + "б" + h + "з", w + "ң" + h + "з"]
    base = w[:-1] + {"к": "г", "п": "б"}.get(w[-1], w[-1]) if len(w) > 3 and w[-2] in _VOWELS else w
    return [base + h, base + h + "м", base + h + "б" + h + "з", base + h + "ң" + h + "з"]


def _forms(lemma: str) -> list[str]:
    bases = [lemma, _plural(lemma)] + _possessives(lemma) + _possessives(_plural(lemma))
    forms: list[str] = []
    for base in bases:
        for case in Case:
            try:
                forms.append(kyrgyz_oracle.inflect(base, case=case))
            except kyrgyz_oracle.KyrgyzError:
                continue
    return forms


def _stem(word: str) -> str:
    return analysis.stem(word, "ky")


LEMMAS = _lemmas()


def test_enough_real_lemmas():
    assert len(LEMMAS) >= 300, len(LEMMAS)


def test_inflected_forms_meet_their_lemma():
    total = met = 0
    misses: list[tuple[str, str]] = []
    for lemma in LEMMAS:
        want = _stem(lemma)
        for form in _forms(lemma):
            total += 1
            if _stem(form) == want:
                met += 1
            else:
                misses.append((lemma, form))
    assert total >= 300 * 30
    rate = met / total
    assert rate >= 0.95, f"{rate:.3f} of {total} forms meet their lemma; e.g. {misses[:20]}"


def test_distinct_lemmas_rarely_collide():
    by_stem: dict[str, list[str]] = {}
    for lemma in LEMMAS:
        by_stem.setdefault(_stem(lemma), []).append(lemma)
    # Words of one lemma (мөңгү, мөңгүлөрү) share a prefix; distinct lemmas do not. Lemmas
    # that only the keyboard folding merges (көкөн, кокон) are not the stemmer's doing.
    collided = set()
    for group in by_stem.values():
        for a in group:
            if any(
                analysis.fold(b) != analysis.fold(a) and not (a.startswith(b[:-1]) or b.startswith(a[:-1]))
                for b in group
            ):
                collided.add(a)
    assert len(collided) / len(LEMMAS) < 0.01, sorted(collided)[:30]


@pytest.mark.parametrize(
    "a, b",
    [
        ("мөңгүлөрүнүн", "мөңгүлөрү"),
        ("китепканалардын", "китепканалар"),
        ("аарычылыктын", "аарычылык"),
        ("аарычылыгы", "аарычылык"),
        ("эпосунун", "эпосу"),
        ("эпосу", "эпос"),
        ("Бишкектеги", "Бишкек"),
        ("китеби", "китеп"),
        ("тоолордо", "тоо"),
        ("Ысык-Көлдө", "Ысык-Көл"),
    ],
)
def test_examples_meet(a, b):
    assert analysis.stem_terms(a, "ky") == analysis.stem_terms(b, "ky")


@pytest.mark.parametrize("a, b", [("аарычы", "аарычылык"), ("китеп", "китепкана"), ("тоо", "тоолуу")])
def test_derivation_stays(a, b):
    assert _stem(a) != _stem(b)


def test_folded_typing_stems_like_proper_spelling():
    for w in ("мөңгүлөрүнүн", "өлкөбүздүн", "изилдөөлөрү"):
        assert _stem(w) == _stem(analysis.fold(w))
        assert kyrgyz.stem(analysis.fold(w)) == _stem(w)


if __name__ == "__main__":  # a report of the misses, for tuning the rules
    from collections import Counter

    misses = Counter()
    for lemma in LEMMAS:
        for form in _forms(lemma):
            if _stem(form) != _stem(lemma):
                misses[(lemma, _stem(lemma))] += 1
                print(lemma, form, _stem(lemma), _stem(form))
    print(len(LEMMAS), sum(misses.values()))
