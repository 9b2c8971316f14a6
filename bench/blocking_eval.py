"""How well the dedup blocking keys find the known duplicates, and what they cost.

    python -m bench.blocking_eval --size 100000

Reads the dedup features an ingest run left in its index state
(WORK/ingest-<size>-embedded-full/index-state.sqlite) and the generated corpus's
truth/duplicates.csv. For every record it looks up its candidates the way the
pipeline does (`lookup_keys` against every record's `file_keys`, blocks above
MAX_BLOCK skipped) and reports:
- candidate pairs per record, and per key family (t: title start, l: longest
  words, a: first author, identifiers, ...);
- blocking recall: the truth pairs that share at least one key, overall and
  for the pairs the rules accept (a pair the rules reject costs nothing when missed);
- truth pairs found by one family only (what dropping that family would lose).
"""

from __future__ import annotations

import argparse
import csv
import json
import sqlite3
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from bench.common import WORK, corpus_dir
from indexers.dedup.blocking import file_keys, lookup_keys
from indexers.dedup.features import Features, unpack
from indexers.dedup.rules import compare
from indexers.state import MAX_BLOCK


def _family(key: str) -> str:
    return key.split(":", 1)[0]


def load_features(state: Path) -> dict[str, Features]:
    conn = sqlite3.connect(f"file:{state}?mode=ro", uri=True)
    try:
        return {rid: unpack(data) for rid, data in conn.execute("SELECT record_id, data FROM dedup_features")}
    finally:
        conn.close()


def evaluate(feats: dict[str, Features], truth: list[tuple[str, str]], max_block: int = MAX_BLOCK) -> dict[str, Any]:
    blocks: dict[str, list[str]] = defaultdict(list)
    for rid in sorted(feats):
        for key in file_keys(feats[rid]):
            if not key.startswith("g:"):
                blocks[key].append(rid)
    skipped = {k for k, ids in blocks.items() if len(ids) > max_block}
    by_family: Counter[str] = Counter()
    pairs = 0
    for rid, f in feats.items():
        seen: set[str] = set()
        for key in lookup_keys(f):
            if key in skipped:
                continue
            new = [o for o in blocks.get(key, ()) if o != rid and o not in seen]
            by_family[_family(key)] += len(new)
            seen.update(new)
        pairs += len(seen)
    only: Counter[str] = Counter()
    found = 0
    accepted = accepted_found = 0
    lost: list[list[str]] = []
    for a, b in truth:
        if a not in feats or b not in feats:
            continue
        shared = {k for k in lookup_keys(feats[a]) if k not in skipped} & set(file_keys(feats[b]))
        shared |= {k for k in lookup_keys(feats[b]) if k not in skipped} & set(file_keys(feats[a]))
        families = {_family(k) for k in shared}
        same = compare(feats[a], feats[b]).same
        accepted += same
        if families:
            found += 1
            accepted_found += same
            if len(families) == 1:
                only[next(iter(families))] += 1
        elif same and len(lost) < 10:
            lost.append([" ".join(feats[a].main), " ".join(feats[b].main)])
    n = len(feats)
    usable = sum(1 for a, b in truth if a in feats and b in feats)
    return {
        "records": n,
        "candidates_per_record": round(pairs / n, 1) if n else 0,
        "candidates_per_record_by_family": {k: round(v / n, 1) for k, v in by_family.most_common()},
        "blocks_skipped": len(skipped),
        "truth_pairs": usable,
        "blocking_recall": round(found / usable, 4) if usable else None,
        "rule_accepted_pairs": accepted,
        "blocking_recall_of_accepted": round(accepted_found / accepted, 4) if accepted else None,
        "found_by_one_family_only": dict(only),
        "accepted_but_not_blocked": lost,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--state", type=Path, help="index-state.sqlite (default: the size's embedded ingest run)")
    args = parser.parse_args()
    state = args.state or WORK / f"ingest-{args.size}-embedded-full" / "index-state.sqlite"
    with open(corpus_dir(args.size) / "truth" / "duplicates.csv", encoding="utf-8", newline="") as f:
        truth = [(row["record_id_a"], row["record_id_b"]) for row in csv.DictReader(f)]
    print(json.dumps(evaluate(load_features(state), truth), ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
