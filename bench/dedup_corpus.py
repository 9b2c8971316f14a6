"""Deduplication on a generated corpus, scored against the corpus's own truth file.

    python -m bench.run dedup-corpus --size 3000      # the demo's corpus (same seed)
    python -m bench.run dedup-corpus --size 20000

Reads the corpus files in place (bench/rawload.py: the project's own file
connectors; the repository's OAI lines as connectors/oaipmh/connector.py stores them),
normalizes every record, clusters all of them with `Deduplicator.clusters`, and
compares the clusters with truth/duplicates.csv, the only duplicates the
generator makes: every other predicted pair is a false merge. No engine, no
network; the pipeline's clusters equal these (tests/indexers/test_pipeline.py).
"""

from __future__ import annotations

import csv
import itertools
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bench.rawload import connector_raw_records, file_sources, oai_raw_records
from fedsearch.config import Settings, SourceConfig
from fedsearch.record import Record
from fedsearch_app.corpus import FILES
from fedsearch_app.corpus.works import OAI
from indexers.dedup import Deduplicator
from indexers.normalize import NormalizationError, normalize


def corpus_records(corpus: Path) -> list[Record]:
    """Every record of a corpus, normalized as the pipeline does (records that fail are left out)."""
    settings = Settings(data_dir=corpus, reach={"import_dirs": [corpus]}, sources=file_sources(corpus))
    out: list[Record] = []
    for source in settings.sources:
        raws = (
            oai_raw_records(corpus / FILES[OAI])
            if source.connector == "oai-pmh"
            else connector_raw_records(settings, source)
        )
        for raw in raws:
            try:
                out.append(normalize(raw, source))
            except NormalizationError:
                pass
    return out


def source_records(corpus: Path, source_id: str) -> list[Record]:
    """One source's records (e.g. the patents), normalized."""
    settings = Settings(data_dir=corpus, reach={"import_dirs": [corpus]}, sources=file_sources(corpus))
    source: SourceConfig = settings.source(source_id)
    raws = (
        oai_raw_records(corpus / FILES[OAI])
        if source.connector == "oai-pmh"
        else connector_raw_records(settings, source)
    )
    return [normalize(raw, source) for raw in raws]


def true_pairs(corpus: Path) -> set[frozenset[str]]:
    with open(corpus / FILES["truth"], encoding="utf-8", newline="") as f:
        return {frozenset((t["record_id_a"], t["record_id_b"])) for t in csv.DictReader(f)}


def score(corpus: Path, examples: int = 8) -> dict[str, Any]:
    started = time.perf_counter()
    records = corpus_records(corpus)
    normalized = time.perf_counter()
    clusters = Deduplicator().clusters(records)
    clustered = time.perf_counter()
    ids = {r.id for r in records}
    truth = {p for p in true_pairs(corpus) if p <= ids}
    predicted: set[frozenset[str]] = set()
    rule_of: dict[frozenset[str], str] = {}
    by_id = {r.id: r for r in records}
    for members in clusters:
        for a, b in itertools.combinations(sorted(r.id for r in members), 2):
            predicted.add(frozenset((a, b)))
        if len(members) > 1:
            merged = Deduplicator().merge(members)
            rule = merged.match.rule if merged.match else "?"
            for a, b in itertools.combinations(sorted(r.id for r in members), 2):
                rule_of[frozenset((a, b))] = rule
    hit = predicted & truth
    wrong = sorted(predicted - truth, key=sorted)

    def brief(rid: str) -> str:
        r = by_id[rid]
        authors = ", ".join(p.name for p in r.authors[:2])
        return f"{r.source}: {r.main_title[:80]} ({r.year}; {authors}; {','.join(r.identifiers.all()[:2])})"

    # Cluster-level: a true work is recovered when exactly its records form one cluster.
    true_clusters = _components(truth, ids)
    found_clusters = {frozenset(r.id for r in members) for members in clusters}
    exact = len(true_clusters & found_clusters)
    return {
        "records": len(records),
        "works": len(clusters),
        "true_pairs": len(truth),
        "predicted_pairs": len(predicted),
        "found": len(hit),
        "false_merges": len(predicted - truth),
        "pairwise_precision": len(hit) / len(predicted) if predicted else 1.0,
        "pairwise_recall": len(hit) / len(truth) if truth else 1.0,
        "cluster_precision": exact / len(found_clusters) if found_clusters else 1.0,
        "cluster_recall": exact / len(true_clusters) if true_clusters else 1.0,
        "false_merges_by_rule": dict(Counter(rule_of[p] for p in predicted - truth)),
        "wrong_examples": [[brief(r) for r in sorted(p)] + [rule_of[p]] for p in wrong[:examples]],
        "seconds": {"normalize": round(normalized - started, 1), "cluster": round(clustered - normalized, 1)},
    }


def _components(pairs: set[frozenset[str]], ids: set[str]) -> set[frozenset[str]]:
    """The true works: connected components of the truth pairs, singletons included."""
    parent = {i: i for i in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in pairs:
        a, b = sorted(pair)
        parent[find(a)] = find(b)
    groups: dict[str, set[str]] = {}
    for i in ids:
        groups.setdefault(find(i), set()).add(i)
    return {frozenset(g) for g in groups.values()}
