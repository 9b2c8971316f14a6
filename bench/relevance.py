"""Relevance: nDCG@10 and recall@100 of the judged query set, on both engines.

    .venv/bin/python -m bench.relevance                 # print the table
    .venv/bin/python -m bench.relevance --write         # ... and update docs/relevance.md
    .venv/bin/python -m bench.relevance --set PHRASE_BONUS=3 --set TEXT_GROUPS.title=5   # try other boosts

The corpus (tests/relevance/corpus.jsonl) is indexed into a fresh embedded
index in a temporary directory and into Elasticsearch (--es-url) under a
temporary index prefix, deleted afterwards. Every judged query
(tests/relevance/judgments.jsonl) runs through `SearchEngine.search`, as the
API runs it; unjudged records count as not relevant. --set overrides a boost
constant of fedsearch.engines.query for this run only, to compare settings
before changing the code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "relevance"
CORPUS_FILE = FIXTURE / "corpus.jsonl"
JUDGMENTS_FILE = FIXTURE / "judgments.jsonl"
DOC = ROOT / "docs" / "relevance.md"
BEGIN, END = "<!-- relevance:results:begin -->", "<!-- relevance:results:end -->"
DEFAULT_ES_URL = "http://127.0.0.1:9200"
ENGINES = ("embedded", "elasticsearch", "baseline")  # baseline: bench/baseline.py, plain tantivy
K_NDCG, K_RECALL = 10, 100
TUNABLES = (
    "TEXT_GROUPS",
    "SKELETON_WEIGHT",
    "LATIN_SKELETON_WEIGHT",
    "PHRASE_BONUS",
    "CODE_BOOST",
    "TITLE_PHRASE_BOOST",
    "SAME_PERSON_BOOST",
    "EXACT_BOOST",
    "COVERAGE_SCORE",
)


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- fixture -------------------------------------------------------------------------------


def load_corpus(path: Path = CORPUS_FILE) -> list:
    from fedsearch.record import Record

    with open(path, encoding="utf-8") as fh:
        return [Record.model_validate_json(line) for line in fh if line.strip()]


def load_judgments(path: Path = JUDGMENTS_FILE) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- metrics -------------------------------------------------------------------------------


def dcg(gains: list[int]) -> float:
    return sum((2**g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg(ranked: list[str], grades: dict[str, int], k: int = K_NDCG) -> float:
    """nDCG@k with exponential gain (2^grade - 1); unjudged records are grade 0."""
    ideal = dcg(sorted((g for g in grades.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([grades.get(i, 0) for i in ranked[:k]]) / ideal


def recall(ranked: list[str], grades: dict[str, int], k: int = K_RECALL) -> float:
    relevant = {i for i, g in grades.items() if g > 0}
    return len(relevant & set(ranked[:k])) / len(relevant) if relevant else 0.0


@dataclass
class QueryResult:
    query: str
    lang: str
    kind: str
    ranked: list[str]
    total: int
    ndcg: float
    recall: float
    grades: dict[str, int] = field(repr=False, default_factory=dict)

    @property
    def split(self) -> str:
        return split_of(self.query)


def split_of(query: str) -> str:
    """'tune' or 'held-out', fixed by the query's text: tune boosts and rules on the tune half
    only (`--tune-only` shows it alone); the held-out half is there to catch overfitting."""
    return "held-out" if int(hashlib.sha1(query.encode("utf-8")).hexdigest(), 16) % 2 else "tune"


def evaluate(
    engine, judgments: list[dict[str, Any]], progress: Callable[[str], None] | None = None
) -> list[QueryResult]:
    from fedsearch.engines import SearchQuery

    out = []
    for n, j in enumerate(judgments, 1):
        result = engine.search(SearchQuery(q=j["query"], per_page=K_RECALL, highlight=False))
        ranked = [h.id for h in result.hits]
        grades = j["relevant"]
        out.append(
            QueryResult(
                j["query"],
                j["lang"],
                j.get("kind", ""),
                ranked,
                result.total,
                ndcg(ranked, grades),
                recall(ranked, grades),
                grades,
            )
        )
        if progress and (n % 10 == 0 or n == len(judgments)):
            progress(f"{engine.name}: {n}/{len(judgments)} queries")
    return out


def summarize(results: list[QueryResult]) -> dict[str, Any]:
    """Means overall, by query language and by kind."""

    def means(rs: list[QueryResult]) -> dict[str, float]:
        return {
            "ndcg@10": statistics.fmean(r.ndcg for r in rs),
            "recall@100": statistics.fmean(r.recall for r in rs),
            "zero": statistics.fmean(1.0 if r.total == 0 else 0.0 for r in rs),
            "queries": len(rs),
        }

    out: dict[str, Any] = {"all": means(results), "lang": {}, "kind": {}, "tune": {}, "held-out": {}}
    for attr in ("lang", "kind"):
        for value in sorted({getattr(r, attr) for r in results}):
            out[attr][value] = means([r for r in results if getattr(r, attr) == value])
    for half in ("tune", "held-out"):
        part = [r for r in results if r.split == half]
        if not part:
            continue
        out[half]["all"] = means(part)
        for attr in ("lang", "kind"):
            for value in sorted({getattr(r, attr) for r in part}):
                out[half][f"{attr} {value}"] = means([r for r in part if getattr(r, attr) == value])
    return out


# --- engines -------------------------------------------------------------------------------


@contextmanager
def indexed_engine(kind: str, records: list, es_url: str = DEFAULT_ES_URL) -> Iterator[Any]:
    """A fresh engine of `kind` holding `records`; its index is removed afterwards."""
    if kind == "baseline":
        from bench.baseline import PlainBaseline

        yield PlainBaseline(records)
        return
    if kind == "embedded":
        from fedsearch.engines.embedded import EmbeddedEngine

        with tempfile.TemporaryDirectory(prefix="fedsearch-relevance-") as tmp:
            engine = EmbeddedEngine(Path(tmp) / "index", writer=True)
            try:
                _fill(engine, records)
                yield engine
            finally:
                engine.close()
        return
    from fedsearch.config import ElasticsearchConfig
    from fedsearch.engines.elasticsearch import ElasticsearchEngine

    prefix = f"relevance{uuid.uuid4().hex[:8]}"
    engine = ElasticsearchEngine(ElasticsearchConfig(hosts=[es_url], index_prefix=prefix))
    try:
        _fill(engine, records)
        yield engine
    finally:
        try:
            _drop_es(engine, prefix)
        except Exception as err:
            say(f"could not delete the indices {prefix}-* at {es_url}: {err}")
        engine.close()


def _fill(engine, records: list) -> None:
    engine.ensure_index()
    report = engine.upsert(records)
    if report.errors or report.indexed != len(records):
        raise RuntimeError(f"{engine.name} rejected records: {report.errors[:3]}")
    engine.refresh()


def _drop_es(engine, prefix: str) -> None:
    """Delete the run's indices and template by name (the node refuses wildcard deletes)."""
    client = engine.client
    names = sorted(client.indices.get(index=f"{prefix}-*", expand_wildcards="all"))
    if names:
        client.indices.delete(index=",".join(names), ignore_unavailable=True)
    if client.indices.exists_index_template(name=f"{prefix}-template"):
        client.indices.delete_index_template(name=f"{prefix}-template")


# --- overrides -----------------------------------------------------------------------------


def apply_overrides(pairs: list[str]) -> dict[str, Any]:
    """NAME=value or TEXT_GROUPS.group=value: set fedsearch.engines.query's constants for this run."""
    from fedsearch.engines import query

    applied: dict[str, Any] = {}
    for pair in pairs:
        name, _, raw = pair.partition("=")
        base, _, key = name.partition(".")
        if base not in TUNABLES or not hasattr(query, base) or not raw:
            raise SystemExit(
                f"--set {pair!r}: expected NAME=value with NAME one of {', '.join(t for t in TUNABLES if hasattr(query, t))}"
            )
        value = float(raw)
        if key:
            table = dict(getattr(query, base))
            if key not in table:
                raise SystemExit(f"--set {pair!r}: {base} has no {key!r} (it has {', '.join(table)})")
            table[key] = value
            setattr(query, base, table)
        else:
            setattr(query, base, value)
        applied[name] = value
    return applied


def current_settings() -> dict[str, Any]:
    from fedsearch.engines import query

    return {name: getattr(query, name) for name in TUNABLES if hasattr(query, name)}


# --- report --------------------------------------------------------------------------------


def table(summaries: dict[str, dict[str, Any]]) -> str:
    engines = list(summaries)
    head = "| queries | n | " + " | ".join(f"{e} nDCG@10 | {e} recall@100 | {e} zero-result" for e in engines) + " |"
    rule = "|---|---:|" + "---:|---:|---:|" * len(engines)
    rows = [head, rule]
    first = summaries[engines[0]]

    def row(label: str, pick: Callable[[dict[str, Any]], dict[str, float]]) -> str:
        cells = " | ".join(
            f"{pick(summaries[e])['ndcg@10']:.4f} | {pick(summaries[e])['recall@100']:.4f} | "
            f"{pick(summaries[e])['zero']:.0%}"
            for e in engines
        )
        return f"| {label} | {pick(first)['queries']} | {cells} |"

    rows.append(row("**all**", lambda s: s["all"]))
    for lang in first["lang"]:
        rows.append(row(f"lang {lang}", lambda s, lang=lang: s["lang"][lang]))
    for kind in first["kind"]:
        rows.append(row(f"kind {kind}", lambda s, kind=kind: s["kind"][kind]))
    for half in ("tune", "held-out"):
        for label in first[half]:
            rows.append(row(f"{half}: {label}", lambda s, half=half, label=label: s[half][label]))
    return "\n".join(rows)


def failures(results: dict[str, list[QueryResult]], titles: dict[str, str], limit: int = 40) -> list[str]:
    """Queries worth a look: nDCG@10 under 0.6 or a grade 2-3 record missing from the top 100 (on any engine)."""
    lines = []
    engines = [e for e in results if e != "baseline"] or list(results)
    for n, r in enumerate(results[engines[0]]):
        per = {e: results[e][n] for e in engines}
        missed = sorted(
            {i for e in engines for i, g in r.grades.items() if g >= 2 and i not in per[e].ranked[:K_RECALL]}
        )
        if min(p.ndcg for p in per.values()) >= 0.6 and not missed:
            continue
        scores = ", ".join(f"{e} {per[e].ndcg:.2f}/{per[e].recall:.2f}" for e in engines)
        line = f"- `{r.query}` ({r.lang}, {r.kind}; nDCG@10/recall@100 {scores}; {r.total} hits)"
        top_wrong = [i for i in r.ranked[:3] if r.grades.get(i, 0) == 0]
        if top_wrong:
            line += "; in the top 3 but not relevant: " + "; ".join(f"«{titles.get(i, i)}»" for i in top_wrong)
        if missed:
            shown = "; ".join(f"«{titles.get(i, i)}» ({r.grades[i]})" for i in missed[:4])
            line += f"; grade 2-3 not in the top {K_RECALL}: {shown}" + (
                f" and {len(missed) - 4} more" if len(missed) > 4 else ""
            )
        lines.append(line)
    return lines[:limit]


def render(
    summaries: dict[str, dict[str, Any]],
    results: dict[str, list[QueryResult]],
    titles: dict[str, str],
    n_records: int,
    n_judged: int,
    overrides: dict[str, Any],
    took: float,
) -> str:
    settings = current_settings()
    shown = ", ".join(f"{k} = {v}" for k, v in settings.items())
    lines = [
        BEGIN,
        f"Measured {time.strftime('%Y-%m-%d')} with `.venv/bin/python -m bench.relevance --write` "
        f"({n_records} records, {len(next(iter(results.values())))} queries, {n_judged} graded records; {took:.0f} s).",
        "",
        f"Boosts: {shown}." + (f" Overrides for this run: {overrides}." if overrides else ""),
        "",
        table(summaries),
        "",
        "Per-query failures worth noting (nDCG@10 under 0.6, or a grade 2-3 record not in the top 100):",
        "",
        *(failures(results, titles) or ["- none"]),
        END,
    ]
    return "\n".join(lines)


def write_doc(block: str) -> None:
    text = DOC.read_text(encoding="utf-8") if DOC.exists() else f"# Relevance\n\n{BEGIN}\n{END}\n"
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f"\n\n## Current numbers\n\n{BEGIN}\n{END}\n"
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    DOC.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")


# --- main ------------------------------------------------------------------------------------


def run(
    engines: list[str], es_url: str, progress: Callable[[str], None] | None = say, tune_only: bool = False
) -> tuple[dict, dict, list, list]:
    records = load_corpus()
    judgments = [j for j in load_judgments() if not tune_only or split_of(j["query"]) == "tune"]
    results: dict[str, list[QueryResult]] = {}
    for kind in engines:
        if progress:
            progress(f"{kind}: indexing {len(records)} records")
        with indexed_engine(kind, records, es_url) as engine:
            results[kind] = evaluate(engine, judgments, progress)
    summaries = {k: summarize(v) for k, v in results.items()}
    return summaries, results, records, judgments


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relevance", description=__doc__.split("\n\n")[0])
    parser.add_argument("--es-url", default=DEFAULT_ES_URL, help=f"Elasticsearch node (default {DEFAULT_ES_URL})")
    parser.add_argument("--engines", default=",".join(ENGINES), help="comma-separated: embedded,elasticsearch")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a boost of fedsearch.engines.query for this run (repeatable)",
    )
    parser.add_argument("--write", action="store_true", help="update the numbers in docs/relevance.md")
    parser.add_argument("--json", type=Path, help="also write per-query results as JSON here")
    parser.add_argument("--queries", action="store_true", help="print every query's nDCG@10 and recall@100")
    parser.add_argument(
        "--tune-only", action="store_true", help="only the tune half of the queries (use it when tuning)"
    )
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if unknown := [e for e in engines if e not in ENGINES]:
        parser.error(f"unknown engine(s) {unknown}; choose from {ENGINES}")
    if args.write and (args.set or args.tune_only):
        parser.error("--write records the code's own boosts on every query; run without --set and --tune-only")
    overrides = apply_overrides(args.set)
    started = time.perf_counter()
    from fedsearch.engines import EngineError

    try:
        summaries, results, records, judgments = run(engines, args.es_url, tune_only=args.tune_only)
    except EngineError as err:
        say(f"failed: {err}")
        return 2
    took = time.perf_counter() - started
    titles = {r.id: r.main_title for r in records}
    print(table(summaries))
    if args.queries:
        print()
        for n, j in enumerate(judgments):
            cells = "  ".join(f"{e[:5]} {results[e][n].ndcg:.2f}/{results[e][n].recall:.2f}" for e in engines)
            print(f"{j['query'][:44]:46} {j['lang']:3} {cells}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "settings": {k: v for k, v in current_settings().items()},
                    "overrides": overrides,
                    "summaries": summaries,
                    "queries": {
                        e: [
                            {"query": r.query, "ndcg@10": r.ndcg, "recall@100": r.recall, "top10": r.ranked[:10]}
                            for r in rs
                        ]
                        for e, rs in results.items()
                    },
                },
                ensure_ascii=False,
                indent=1,
            ),
            encoding="utf-8",
        )
    if args.write:
        n_judged = sum(1 for j in judgments for g in j["relevant"].values() if g > 0)
        write_doc(render(summaries, results, titles, len(records), n_judged, overrides, took))
        say(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
