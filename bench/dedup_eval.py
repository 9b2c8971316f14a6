"""Measure deduplication on the labeled set: pairwise precision and recall.

    .venv/bin/python bench/dedup_eval.py [--threshold 92] [--errors] [--sweep]

Two measurements over tests/indexers/data/dedup_labeled.jsonl:
- decisions: every pair of records inside a group (all labeled: same work or not),
  judged by `Deduplicator.decide`;
- clusters: all records clustered together with `Deduplicator.clusters`, then every
  pair of the whole set counted (pairs across groups are different works), so
  chaining through a third record and blocking misses are included.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fedsearch.config import DedupConfig  # noqa: E402
from fedsearch.record import Identifiers, LangText, Record, RecordType, make_record_id  # noqa: E402
from indexers.dedup import Deduplicator, features, title_use  # noqa: E402
from indexers.normalize import identifiers as ids  # noqa: E402
from indexers.normalize.people import parse_person  # noqa: E402

# The labeled file holds identifiers as catalogues write them; normalize them as the normalizers do.
NORMALIZE = {
    "doi": ids.doi,
    "isbn": ids.isbn,
    "issn": ids.issn,
    "handle": ids.handle_or_bare,
    "patent": ids.patent,
    "register_number": ids.register,
}
LABELED = ROOT / "tests" / "indexers" / "data" / "dedup_labeled.jsonl"


SPLITS = ("all", "tuning", "holdout", "holdout2", "adversarial", "heldout")


@dataclass
class Labeled:
    record: Record
    group: str
    work: str
    case: str
    # "tuning": tuned on it; "holdout": written after, then used for fixes; "holdout2": reported as is;
    # "adversarial": bench/dedup_families.py, tuned on; "heldout": the families' hash-chosen third, never tuned on
    split: str


def load(path: Path = LABELED) -> list[Labeled]:
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return labeled(lines)


def labeled(lines: list[dict]) -> list[Labeled]:
    """Labeled lines (as bench/make_dedup_labeled.py writes them) as records."""
    out = []
    for item in lines:
        r = item["record"]
        record = Record(
            id=make_record_id(r["source"], r["local_id"]),
            source=r["source"],
            source_record_id=r["local_id"],
            type=RecordType(r["type"]),
            title=[LangText(value=r["title"], lang=r["lang"])],
            title_alt=[LangText(**t) for t in r.get("title_alt", [])],
            authors=[p for p in (parse_person(a) for a in r["authors"]) if p],
            year=r.get("year"),
            languages=[r["lang"]],
            identifiers=Identifiers(**{k: [NORMALIZE[k](v) for v in vs] for k, vs in r.get("identifiers", {}).items()}),
        )
        out.append(Labeled(record, item["group"], item["work"], item["case"], item.get("split", "tuning")))
    return out


def fresh_families(seed: int) -> list[Labeled]:
    """The adversarial families drawn again with another seed: instances nobody has looked at."""
    from bench.dedup_families import build
    from bench.make_dedup_labeled import translit

    return labeled(build(translit, seed))


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    def add(self, truth: bool, predicted: bool) -> None:
        if truth and predicted:
            self.tp += 1
        elif predicted:
            self.fp += 1
        elif truth:
            self.fn += 1
        else:
            self.tn += 1

    def line(self) -> str:
        return (
            f"precision {self.precision:.3f}  recall {self.recall:.3f}  "
            f"(TP {self.tp}, FP {self.fp}, FN {self.fn}, TN {self.tn})"
        )


def evaluate(items: list[Labeled], config: DedupConfig) -> tuple[Score, Score, list[str]]:
    dedup = Deduplicator(config)
    # As the index state would: every title's first authors are known, so generic titles are.
    titles: dict[str, set[tuple[str, int | None]]] = {}
    for it in items:
        f = features(it.record)
        titles.setdefault(f.title_key, set()).add(title_use(f))
    dedup.know_titles(titles)
    decisions, errors = Score(), []
    by_group: dict[str, list[Labeled]] = {}
    for it in items:
        by_group.setdefault(it.group, []).append(it)
    for members in by_group.values():
        for a, b in combinations(members, 2):
            truth = a.work == b.work
            d = dedup.decide(a.record, b.record)
            decisions.add(truth, d.same)
            if truth != d.same:
                kind = "FP" if d.same else "FN"
                errors.append(
                    f"{kind} {a.group} [{a.case}] x [{b.case}]: {d.reason} ({d.score:.0f})\n"
                    f"     {a.record.main_title!r} / {b.record.main_title!r}"
                )
    clustered = Score()
    cluster_of = {}
    for k, members in enumerate(dedup.clusters([it.record for it in items])):
        for r in members:
            cluster_of[r.id] = k
    for a, b in combinations(items, 2):
        clustered.add(a.work == b.work, cluster_of[a.record.id] == cluster_of[b.record.id])
    return decisions, clustered, errors


def cluster_level(items: list[Labeled], config: DedupConfig) -> dict[str, float]:
    """Whole clusters: precision = share of predicted clusters that are exactly one true work,
    recall = share of true works found exactly (singletons included)."""
    truth: dict[str, set[str]] = {}
    for it in items:
        truth.setdefault(it.work, set()).add(it.record.id)
    true_sets = {frozenset(v) for v in truth.values()}
    found = {frozenset(r.id for r in members) for members in Deduplicator(config).clusters([it.record for it in items])}
    exact = len(true_sets & found)
    return {
        "precision": exact / len(found),
        "recall": exact / len(true_sets),
        "works": len(true_sets),
        "clusters": len(found),
    }


def measure(config: DedupConfig | None = None, fresh_seed: int | None = None) -> dict[str, dict]:
    """Every split's pairwise (decisions and clusters) and whole-cluster scores, for bench/results.

    With `fresh_seed`, also "fresh": the adversarial families drawn anew with that seed."""
    config = config or DedupConfig()
    items = load()
    subsets = {split: [it for it in items if split in ("all", it.split)] for split in SPLITS}
    if fresh_seed is not None:
        subsets[f"fresh-{fresh_seed}"] = fresh_families(fresh_seed)
    out: dict[str, dict] = {}
    for split, subset in subsets.items():
        decisions, clustered, _ = evaluate(subset, config)
        out[split] = {
            "records": len(subset),
            "pair_decisions": {
                "precision": decisions.precision,
                "recall": decisions.recall,
                "tp": decisions.tp,
                "fp": decisions.fp,
                "fn": decisions.fn,
                "tn": decisions.tn,
            },
            "clustered_pairs": {
                "precision": clustered.precision,
                "recall": clustered.recall,
                "tp": clustered.tp,
                "fp": clustered.fp,
                "fn": clustered.fn,
            },
            "clusters": cluster_level(subset, config),
        }
    return out


def speed(items: list[Labeled], copies: int) -> int:
    """Incremental assign() throughput on copies of the set made distinct (extra words, no shared ids)."""
    import random

    rng = random.Random(1)
    words = ["алма", "тоо", "суу", "жер", "кол", "мал", "эл", "жол", "таш", "кум", "бак", "үй", "ата", "эне", "бала"]
    records = []
    for k in range(copies):
        for it in items:
            r = it.record
            local = f"{r.source_record_id}-{k}"
            title = f"{r.main_title} {' '.join(rng.sample(words, 2))} {k}"
            records.append(
                r.model_copy(
                    update={
                        "id": make_record_id(r.source, local),
                        "source_record_id": local,
                        "title": [LangText(value=title, lang=r.title[0].lang)],
                        "identifiers": Identifiers(),
                    }
                )
            )
    dedup = Deduplicator()
    t0 = time.perf_counter()
    for r in records:
        dedup.assign(r)
    took = time.perf_counter() - t0
    print(
        f"{len(records)} records assigned in {took:.1f}s: {len(records) / took:.0f} records/s, "
        f"{len(dedup.cluster_keys())} clusters"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threshold", type=float, default=DedupConfig().fuzzy_threshold)
    ap.add_argument("--errors", action="store_true", help="list every wrong decision")
    ap.add_argument("--sweep", action="store_true", help="precision/recall for thresholds 80..100")
    ap.add_argument("--speed", type=int, metavar="N", help="time assign() over N copies of the set, varied")
    args = ap.parse_args(argv)
    items = load()
    if args.speed:
        return speed(items, args.speed)
    groups = len({it.group for it in items})
    pairs = sum(1 for g in {it.group for it in items} for _ in combinations([i for i in items if i.group == g], 2))
    positives = sum(
        1
        for g in {it.group for it in items}
        for a, b in combinations([i for i in items if i.group == g], 2)
        if a.work == b.work
    )
    print(
        f"{len(items)} records, {groups} groups, {pairs} labeled pairs ({positives} same work, "
        f"{pairs - positives} different)"
    )
    thresholds = [80, 84, 86, 88, 90, 92, 94, 96, 98, 100] if args.sweep else [args.threshold]
    for th in thresholds:
        print(f"threshold {th:g}:")
        for split in SPLITS:
            subset = [it for it in items if split in ("all", it.split)]
            t0 = time.perf_counter()
            decisions, clustered, errors = evaluate(subset, DedupConfig(fuzzy_threshold=th))
            print(f"  {split:8} pair decisions:  {decisions.line()}")
            print(f"  {split:8} batch clusters:  {clustered.line()}  [{time.perf_counter() - t0:.2f}s]")
            whole = cluster_level(subset, DedupConfig(fuzzy_threshold=th))
            print(
                f"  {split:8} whole clusters:  precision {whole['precision']:.3f}  recall {whole['recall']:.3f}  "
                f"({whole['clusters']} clusters, {whole['works']} works)"
            )
            if args.errors and split == "all":
                for e in errors:
                    print("  " + e)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
