"""Relevance regression guard: the judged query set must keep its nDCG@10 and recall@100.

The floors sit a little under the values measured when the boosts were last
tuned (docs/relevance.md; `python -m bench.relevance` prints today's). If a
change lowers them, look at `python -m bench.relevance --queries` before
lowering a floor: a better engine raises the numbers, it doesn't lower them.
"""

from __future__ import annotations

import pytest

from bench.relevance import (
    evaluate,
    indexed_engine,
    load_corpus,
    load_judgments,
    ndcg,
    recall,
    summarize,
)
from fedsearch.engines import SearchQuery
from fedsearch.engines.query import Bool, Phrase, plan_for
from fedsearch.record import make_record_id

# Measured 0.8425 / 0.6368 on both engines (docs/relevance.md): relaxed queries fill a first
# screen in tiers by how many words a hit holds, a smaller exact-form boost, optional function
# words (0.8037 / 0.5175 before them; the floors were 0.78 / 0.50).
NDCG_FLOOR = 0.83
RECALL_FLOOR = 0.62
KY_NDCG_FLOOR = 0.79  # measured 0.8060
MIXED_NDCG_FLOOR = 0.52  # words of two languages; measured 0.5454 (0.4125 before the tiers)
ZERO_RESULT_CEILING = 0.03  # judged queries that find nothing; measured 0


@pytest.fixture(scope="module")
def records():
    return load_corpus()


@pytest.fixture(scope="module")
def judgments():
    return load_judgments()


@pytest.fixture(scope="module")
def embedded(records):
    with indexed_engine("embedded", records) as engine:
        yield engine


def test_fixture_files_hold_the_hand_written_records_and_grades(records, judgments):
    # The generated part follows fedsearch_app.corpus and is rewritten only by rerunning the
    # builder; the hand-written part must always match records.py and queries.py.
    from tests.relevance.build import make_record
    from tests.relevance.queries import QUERIES
    from tests.relevance.records import HAND

    stale = "run `python -m tests.relevance.build` (and bench/relevance.py --write)"
    by_id = {r.id: r for r in records}
    hand = {spec["key"]: make_record(spec) for spec in HAND}
    assert all(by_id.get(r.id) == r for r in hand.values()), f"corpus.jsonl is stale: {stale}"
    assert [q["query"] for q in QUERIES] == [j["query"] for j in judgments], f"judgments.jsonl is stale: {stale}"
    for q, j in zip(QUERIES, judgments):
        assert {hand[k].id: g for k, g in q["hand"].items()}.items() <= j["relevant"].items(), (
            f"{q['query']!r}: {stale}"
        )


def test_judged_set_is_big_and_graded(records, judgments):
    ids = {r.id for r in records}
    assert len(judgments) >= 40 and {j["lang"] for j in judgments} >= {"ky", "ru", "en"}
    for j in judgments:
        assert set(j["relevant"]) <= ids, j["query"]
        assert set(j["relevant"].values()) <= {0, 1, 2, 3} and max(j["relevant"].values()) >= 1, j["query"]


def test_metrics():
    grades = {"a": 3, "b": 1, "c": 0}
    assert ndcg(["a", "b", "x"], grades) == pytest.approx(1.0)
    assert ndcg(["b", "a"], grades) < 1.0 and ndcg(["x", "c"], grades) == 0.0
    assert recall(["x", "b"], grades) == 0.5


def _check(results) -> None:
    summary = summarize(results)["all"]
    worst = sorted(results, key=lambda r: r.ndcg)[:5]
    detail = "; ".join(f"{r.query!r} {r.ndcg:.2f}" for r in worst)
    assert summary["ndcg@10"] >= NDCG_FLOOR, f"nDCG@10 fell to {summary['ndcg@10']:.4f} (worst: {detail})"
    assert summary["recall@100"] >= RECALL_FLOOR, f"recall@100 fell to {summary['recall@100']:.4f}"
    ky = summarize(results)["lang"]["ky"]
    assert ky["ndcg@10"] >= KY_NDCG_FLOOR, f"Kyrgyz queries' nDCG@10 fell to {ky['ndcg@10']:.4f}"
    mixed = summarize(results)["kind"]["mixed"]
    assert mixed["ndcg@10"] >= MIXED_NDCG_FLOOR, f"mixed-language queries' nDCG@10 fell to {mixed['ndcg@10']:.4f}"
    empty = [r.query for r in results if r.total == 0]
    assert len(empty) / len(results) <= ZERO_RESULT_CEILING, f"these judged queries find nothing: {empty}"
    codes = [r for r in results if r.kind == "code"]
    assert codes and all(r.ndcg == 1.0 for r in codes), [r.query for r in codes if r.ndcg < 1.0]


def test_embedded_engine_keeps_its_ndcg(embedded, judgments):
    _check(evaluate(embedded, judgments))


def test_elasticsearch_keeps_its_ndcg(es_url, records, judgments):
    with indexed_engine("elasticsearch", records, es_url) as engine:
        _check(evaluate(engine, judgments))


def test_words_side_by_side_in_a_title_rank_first(embedded):
    # "Road construction and silk production" holds both words, apart; it used to rank first.
    hits = [h.id for h in embedded.search(SearchQuery(q="Silk Road", highlight=False)).hits]
    great, apart = (
        make_record_id(s, f"rel:{k}") for s, k in (("auca-repository", "s_en"), ("auca-repository", "s_en_distr"))
    )
    assert hits.index(great) < hits.index(apart)


@pytest.mark.parametrize(
    "q, phrase",
    [
        ("изменение климата", True),
        ("Silk Road", True),
        ("climate", False),
        ("change -climate", False),
        ("title:climate change", False),
        ("climat* change", False),
        ('"climate change"', False),
        ("A01B 1/00", False),
    ],
)
def test_implicit_title_phrase_only_for_plain_words(q, phrase):
    clause = plan_for(SearchQuery(q=q)).clause
    # An optional (should) title phrase beside the required words; a quoted phrase is required instead.
    optional = (
        isinstance(clause, Bool)
        and bool(clause.must)
        and any(isinstance(c, Phrase) and c.field == "title_stem" for c in clause.should)
    )
    assert optional == phrase
