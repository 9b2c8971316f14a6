"""Deduplication: records of one work from several sources become one Record, each merge with its reason.

    titles.py    title skeletons, numbers, subtitles, the list of generic titles
    features.py  what matching looks at, computed once per record (main title only, strong identifiers)
    blocking.py  keys to file a record under and to look its candidates up with
    rules.py     compare(): decisions in a fixed order (strong identifiers, source, title/author/year)
    merge.py     merge(): one Record per cluster, with Record.match (members, rule, evidence)
    cluster.py   Deduplicator: incremental clustering; a cluster never holds two conflicting records

Measured on the labeled set by `python -m bench.run dedup` (docs/dedup.md).
"""

from indexers.dedup.blocking import (
    BLOCKING_VERSION,
    block_keys,
    candidate_keys,
    file_keys,
    lookup_keys,
    title_author_key,
    title_prefix,
    title_uses,
)
from indexers.dedup.cluster import ClusterChanges, Deduplicator, title_use
from indexers.dedup.features import Features, features, name_words, surname_key
from indexers.dedup.merge import explain, merge, provenance, richness
from indexers.dedup.rules import GENERIC_AUTHORS, Decision, compare, hard_conflict, is_generic
from indexers.dedup.titles import STOPWORDS, title_numbers, title_skeleton

__all__ = [
    "BLOCKING_VERSION",
    "GENERIC_AUTHORS",
    "STOPWORDS",
    "ClusterChanges",
    "Decision",
    "Deduplicator",
    "Features",
    "block_keys",
    "candidate_keys",
    "compare",
    "explain",
    "features",
    "file_keys",
    "hard_conflict",
    "is_generic",
    "lookup_keys",
    "merge",
    "name_words",
    "provenance",
    "richness",
    "surname_key",
    "title_author_key",
    "title_numbers",
    "title_prefix",
    "title_skeleton",
    "title_use",
    "title_uses",
]
