"""The pipeline's work clusters scored against the corpus's known duplicates (truth/duplicates.csv).

Pairwise: a predicted pair is two records the pipeline put in one work; a true pair is
a row of the truth file (the only duplicates the generator makes). Reads the index
state (index-state.sqlite) a pipeline run left in its data directory.
"""

from __future__ import annotations

import csv
import itertools
import json
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any


def score(state_path: Path, truth_path: Path, examples: int = 5) -> dict[str, Any]:
    conn = sqlite3.connect(f"file:{state_path}?mode=ro", uri=True)
    cluster = dict(conn.execute("SELECT record_id, cluster FROM works"))
    members: dict[str, list[str]] = defaultdict(list)
    for rid, key in cluster.items():
        members[key].append(rid)
    with open(truth_path, encoding="utf-8", newline="") as f:
        truth = list(csv.DictReader(f))
    true_pairs = {
        frozenset((t["record_id_a"], t["record_id_b"]))
        for t in truth
        if t["record_id_a"] in cluster and t["record_id_b"] in cluster
    }
    predicted = {frozenset(p) for ms in members.values() for p in itertools.combinations(sorted(ms), 2)}
    hit = predicted & true_pairs
    missed_by_variation: Counter[str] = Counter()
    for t in truth:
        if frozenset((t["record_id_a"], t["record_id_b"])) in true_pairs - hit:
            for v in t["variations"].split("+"):
                missed_by_variation[v] += 1
    wrong = sorted(predicted - true_pairs, key=sorted)[:examples]

    def brief(rid: str) -> str:
        rec = json.loads(conn.execute("SELECT json FROM works WHERE record_id = ?", (rid,)).fetchone()[0])
        authors = ", ".join(p["name"] for p in rec.get("authors", [])[:2])
        return f"{rec['source']}: {rec['title'][0]['value'][:80]} ({rec.get('year')}; {authors})"

    out = {
        "records": len(cluster),
        "works": len(members),
        "true_pairs": len(true_pairs),
        "predicted_pairs": len(predicted),
        "found": len(hit),
        "recall": len(hit) / len(true_pairs) if true_pairs else None,
        "precision": len(hit) / len(predicted) if predicted else None,
        "missed_by_variation": dict(missed_by_variation),
        "wrong_by_sources": dict(
            Counter(
                " + ".join(sorted({r.split("-", 2)[0] + "-" + r.split("-", 2)[1] for r in p}))
                for p in predicted - true_pairs
            )
        ),
        "wrong_examples": [[brief(r) for r in sorted(p)] for p in wrong],
    }
    conn.close()
    return out
