"""Fast paths give exactly what the code they replaced gave: the analysis chain, whitespace collapsing.

tests/fedsearch/analysis_reference.py is fedsearch/analysis.py as it was before the
per-word caches, translate tables and fast paths; every word and text below
must come out the same (stems, skeletons, folds, sort keys), on real record
text in Kyrgyz, Russian and English and on random mixtures of scripts,
diacritics and apostrophes.
"""

from __future__ import annotations

import json
import random

import pytest

from fedsearch import analysis
from fedsearch_app.corpus import vocab as vocabulary
from tests.conftest import ROOT
from tests.fedsearch import analysis_reference as ref

CORPUS = ROOT / "tests" / "relevance" / "corpus.jsonl"

HANDPICKED = [
    "Айтматов Ч. Т.",
    "Айтматова Гүлнара",
    "Aytmatov",
    "Ajtmatov",
    "Ысык-Көл",
    "Issyk-Kul",
    "Ysyk-Köl",
    "Жамийла",
    "Zhamijla",
    "Jumabaev",
    "Бишкек",
    "Bishkek",
    "Бишкекский государственный университет",
    "Кыргыз Республикасынын өкмөтү",
    "Щучинск",
    "Shchuchinsk",
    "Šč",
    "Naïve café résumé",
    "rayone Mayor",
    "551.5",
    "УДК 551.5:631.4",
    "O’zbekiston",
    "Qo‘qon",
    "d'Alembert",
    "Мұхтар Әуезов",
    "Һәм ә",
    "Ivanova Kalinina Petrovna",
    "Ёлка ёжик",
    "x²³ ½ ﬁnance",
    "ŊŋÆæŒœßǅ",
    "Tschaikowsky Czajkowski",
    "ЪЬъь Подъезд объём",
    "",
    "   ",
    "—",
    "Ǉubljana ǈ",
    "İstanbul ıı",
    "ÑANDÚ niño",
    "Žilina žžž",
]

_ALPHABET = (
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяңөүһәіАБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯҢӨҮ"
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "öüıñžčšćéèêëïîôàçğşāēīōūŋ"
    "0123456789"
    "'’ʼʹʺ`´‘′″ˮ\""
    "  ..--_/,;:()«»"
    "\u0301\u0308\u030c"
)


def _texts() -> list[str]:
    texts = list(HANDPICKED)
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        texts += [t["value"] for t in rec["title"] + rec.get("title_alt", []) + rec.get("abstract", [])]
        texts += [p["name"] for p in rec.get("authors", []) + rec.get("contributors", [])]
        texts += rec.get("subjects", [])
    rng = random.Random(20251)
    for _ in range(3000):
        texts.append("".join(rng.choice(_ALPHABET) for _ in range(rng.randint(1, 40))))
    return texts


TEXTS = _texts()


def test_the_texts_cover_all_three_languages_and_both_scripts():
    joined = " ".join(TEXTS)
    assert "ң" in joined and "ө" in joined  # Kyrgyz
    assert "ы" in joined and "ё" in joined.lower()  # Russian
    assert any(t.isascii() and " the " in f" {t.lower()} " for t in TEXTS)  # English
    assert len(TEXTS) > 3000


def test_words_stems_skeletons_and_folds_match_the_reference():
    mismatches = []
    for text in TEXTS:
        words = analysis.words(text)
        if words != ref.words(text):
            mismatches.append(("words", text))
        for w in words:
            if (
                analysis.stem(w) != ref.stem(w)
                or analysis.skeleton(w) != ref.skeleton(w)
                or analysis.fold(w) != ref.fold(w)
            ):
                mismatches.append(("word", w))
    assert not mismatches, mismatches[:10]


def _uncached_analyzed(text: str, lang: str | None = None) -> tuple[str, str]:
    """analyzed() without the caches. Stems are the reference's except for Kyrgyz text, which
    issue 13 gave its own stemmer; the cross-script key (issue 13) has no older reference."""
    lang = analysis.text_language(text, lang)
    ws = ref.words(text)
    stems = [ref.stem(w) if lang != "ky" else analysis._stem(w, "ky") for w in ws]
    return " ".join(stems), " ".join(analysis._key(w, lang) for w in ws)


def test_the_kyrgyz_stemmer_only_changes_kyrgyz_words():
    changed = [w for t in TEXTS for w in analysis.words(t) if analysis._stem(w, "ky") != ref.stem(w)]
    assert changed and all(analysis.is_cyrillic(w) for w in changed)


@pytest.mark.parametrize("rounds", [1, 2])  # cold caches, then every text and word from the caches
def test_analyzed_texts_and_sort_keys_match_the_reference(rounds):
    for _ in range(rounds):
        for text in TEXTS:
            assert analysis.analyzed(text) == _uncached_analyzed(text), text
            assert analysis.analyzed(text, "ky") == _uncached_analyzed(text, "ky"), text
            assert analysis.folded(text) == " ".join(ref.fold(w) for w in ref.words(text)), text


def test_the_caches_stay_bounded_and_correct_when_they_overflow(monkeypatch):
    monkeypatch.setattr(analysis, "_WORD_CACHE_MAX", 50)
    monkeypatch.setattr(analysis, "_TEXT_CACHE_MAX", 20)
    analysis._word_cache.clear()
    analysis._text_cache.clear()
    for text in TEXTS[:600]:
        assert analysis.analyzed(text) == _uncached_analyzed(text), text
        assert len(analysis._word_cache) <= 50 and len(analysis._text_cache) <= 20


def test_the_generated_corpus_vocabulary_matches_the_reference():
    names = [n for n in dir(vocabulary) if n.isupper()]
    words = set()
    for name in names:
        value = getattr(vocabulary, name)
        items = value.values() if isinstance(value, dict) else value if isinstance(value, (list, tuple)) else []
        for item in items:
            for part in item if isinstance(item, (list, tuple)) else [item]:
                if isinstance(part, str):
                    words.update(ref.words(part))
    assert len(words) > 200
    for w in sorted(words):
        assert (analysis.stem(w), analysis.skeleton(w)) == (ref.stem(w), ref.skeleton(w)), w


def test_whitespace_collapsing_matches_the_regex_it_replaced():
    """clean_text and parse_person collapse whitespace with str.split(); re's \\s is the reference."""
    import re
    import sys

    from fedsearch.record import clean_text
    from indexers.normalize.people import parse_person

    ws = re.compile(r"\s+")
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if ws.fullmatch(chr(c)) or chr(c).isspace()]
    assert len(spaces) > 20
    for sp in spaces:
        for text in (f"{sp}Айтматов{sp}{sp}Ч.{sp}", f"a{sp}b", sp, f"Ivanova,{sp}Anna{sp}"):
            assert clean_text(text) == (ws.sub(" ", text).strip() or None), repr(text)
            person = parse_person(text)
            assert (person.name if person else None) == (ws.sub(" ", text).strip().strip(",;") or None), repr(text)
