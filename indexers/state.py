"""What the indexer knows between runs: each normalized record, its work cluster, its blocking keys.

SQLite in data_dir (index-state.sqlite). Keeping normalized records lets the
pipeline re-merge a cluster when one member changes without re-reading every
source, and the blocking keys let it find a changed record's possible
duplicates without loading the whole collection. Each record's dedup features
are kept packed beside it, so deciding against those candidates reads small
tuples, not whole records.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from fedsearch.record import Record
from indexers.dedup.features import FEATURES_VERSION, Features, features, pack, unpack

SCHEMA = """
CREATE TABLE IF NOT EXISTS works (
    record_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    local_id TEXT NOT NULL,
    cluster TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS works_cluster ON works (cluster);
CREATE INDEX IF NOT EXISTS works_source ON works (source);
CREATE TABLE IF NOT EXISTS blocks (
    key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (key, record_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS blocks_record ON blocks (record_id);
CREATE TABLE IF NOT EXISTS dedup_features (
    record_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decisions (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('split', 'join')),
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (a, b)
);
"""
_CHUNK = 500  # SQLite's bound-variable limit is far above this
MAX_BLOCK = 200  # candidate lookups skip blocking keys shared by more records than this


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class IndexState:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self.conn.executescript(SCHEMA)

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> "IndexState":
        return cls(Path(data_dir) / "index-state.sqlite")

    def close(self) -> None:
        self.conn.close()

    def clear(self) -> None:
        """Forget every record, cluster and blocking key (for a rebuild); librarians' decisions stay."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute("DELETE FROM works")
            self.conn.execute("DELETE FROM blocks")
            self.conn.execute("DELETE FROM dedup_features")

    # --- reading ---------------------------------------------------------------------
    def keys_to_ids(self, keys: Iterable[str], max_block: int = MAX_BLOCK) -> dict[str, set[str]]:
        """Blocking key -> the record ids filed under it; keys filed under more than `max_block` are skipped.

        A huge block ("a:ivanov|2019" in a national collection) costs a comparison per member and
        almost never holds the duplicate the title and identifier keys did not already find.
        """
        out: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(set(keys))):
            marks = ",".join("?" * len(chunk))
            small = [k for k, n in self.conn.execute(
                f"SELECT key, COUNT(*) FROM blocks WHERE key IN ({marks}) GROUP BY key", chunk) if n <= max_block]
            if not small:
                continue
            marks = ",".join("?" * len(small))
            for key, rid in self.conn.execute(f"SELECT key, record_id FROM blocks WHERE key IN ({marks})", small):
                out.setdefault(key, set()).add(rid)
        return out

    def keys_under(self, prefixes: Iterable[str], limit: int = 50) -> list[str]:
        """Distinct blocking keys starting with each prefix (at most `limit` per prefix).

        The deduplicator files `g:<main title>|<first author>|<year>` per record: the keys under
        `g:<main title>|` say how many different people use a title (generic titles).
        """
        out: list[str] = []
        for prefix in sorted(set(prefixes)):
            out += [k for (k,) in self.conn.execute(
                "SELECT DISTINCT key FROM blocks WHERE key >= ? AND key < ? LIMIT ?", (prefix, prefix + "\uffff", limit))]
        return out

    def records(self, record_ids: Iterable[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            marks = ",".join("?" * len(chunk))
            for rid, js in self.conn.execute(f"SELECT record_id, json FROM works WHERE record_id IN ({marks})", chunk):
                out[rid] = Record.model_validate_json(js)
        return out

    def sources_of(self, record_ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT record_id, source FROM works WHERE record_id IN ({marks})", chunk))
        return out

    def features_of(self, record_ids: Iterable[str]) -> dict[str, Features]:
        """Stored records' dedup features: read back compact, or computed from the record when the
        stored ones are missing (a state from before they were kept) or of another code version."""
        record_ids = sorted(set(record_ids))
        out: dict[str, Features] = {}
        for chunk in _chunks(record_ids):
            marks = ",".join("?" * len(chunk))
            for rid, version, data in self.conn.execute(
                    f"SELECT record_id, version, data FROM dedup_features WHERE record_id IN ({marks})", chunk):
                if version == FEATURES_VERSION:
                    out[rid] = unpack(data)
        missing = [rid for rid in record_ids if rid not in out]
        for rid, record in self.records(missing).items():
            out[rid] = features(record)
        return out

    def clusters_of(self, record_ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            marks = ",".join("?" * len(chunk))
            out.update(self.conn.execute(f"SELECT record_id, cluster FROM works WHERE record_id IN ({marks})", chunk))
        return out

    def members_of(self, clusters: Iterable[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(sorted(set(clusters))):
            marks = ",".join("?" * len(chunk))
            for rid, js in self.conn.execute(f"SELECT record_id, json FROM works WHERE cluster IN ({marks})", chunk):
                out[rid] = Record.model_validate_json(js)
        return out

    def record_ids_of_source(self, source: str) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT record_id FROM works WHERE source = ?", (source,))]

    def iter_clusters(self) -> Iterator[list[Record]]:
        """Every cluster's members, cluster by cluster (for a rebuild)."""
        current: str | None = None
        members: list[Record] = []
        for cluster, js in self.conn.execute("SELECT cluster, json FROM works ORDER BY cluster, record_id"):
            if cluster != current and members:
                yield members
                members = []
            current = cluster
            members.append(Record.model_validate_json(js))
        if members:
            yield members

    def count(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM works").fetchone()[0]

    def merged_clusters(self, limit: int = 200) -> dict[str, list[Record]]:
        """Clusters of more than one record (the largest first, then by key): cluster key -> members."""
        keys = [k for (k,) in self.conn.execute(
            "SELECT cluster FROM works GROUP BY cluster HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC, cluster LIMIT ?",
            (limit,))]
        out: dict[str, list[Record]] = {k: [] for k in keys}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for cluster, js in self.conn.execute(
                    f"SELECT cluster, json FROM works WHERE cluster IN ({marks}) ORDER BY record_id", chunk):
                out[cluster].append(Record.model_validate_json(js))
        return out

    # --- librarians' decisions (kept across rebuilds) ---------------------------------
    def decisions(self) -> list[tuple[str, str, str, str, str]]:
        """(record a, record b, "split" | "join", who, when), a < b."""
        return [tuple(r) for r in self.conn.execute("SELECT a, b, decision, actor, at FROM decisions ORDER BY at, a, b")]

    def decide(self, a: str, b: str, decision: str, actor: str, at: str) -> None:
        if a == b:
            raise ValueError(f"a record can't be split from or joined with itself ({a})")
        if decision not in ("split", "join"):
            raise ValueError(f"unknown dedup decision {decision!r} (split or join)")
        a, b = sorted((a, b))
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute("INSERT OR REPLACE INTO decisions (a, b, decision, actor, at) VALUES (?, ?, ?, ?, ?)",
                              (a, b, decision, actor, at))

    def forget_decision(self, a: str, b: str) -> bool:
        a, b = sorted((a, b))
        with self.conn:
            self.conn.execute("BEGIN")
            return self.conn.execute("DELETE FROM decisions WHERE a = ? AND b = ?", (a, b)).rowcount > 0

    # --- writing ---------------------------------------------------------------------
    def apply(self, put: list[tuple[Record, list[str]]], removed: Iterable[str], clusters: dict[str, str],
              feats: dict[str, Features] | None = None) -> None:
        """In one transaction: store records with their blocking keys and dedup features (`feats`, or
        computed here), drop removed ids, set clusters."""
        feats = feats or {}
        with self.conn:
            self.conn.execute("BEGIN")
            gone = sorted(set(removed))
            for chunk in _chunks(gone):
                marks = ",".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM works WHERE record_id IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM blocks WHERE record_id IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM dedup_features WHERE record_id IN ({marks})", chunk)
            for record, keys in put:
                self.conn.execute(
                    "INSERT OR REPLACE INTO works (record_id, source, local_id, cluster, json) VALUES (?, ?, ?, ?, ?)",
                    (record.id, record.source, record.source_record_id, clusters.get(record.id, record.id),
                     record.model_dump_json(exclude_none=True)),
                )
                self.conn.execute("DELETE FROM blocks WHERE record_id = ?", (record.id,))
                self.conn.executemany("INSERT OR IGNORE INTO blocks (key, record_id) VALUES (?, ?)",
                                      [(k, record.id) for k in keys])
            self.conn.executemany(
                "INSERT OR REPLACE INTO dedup_features (record_id, version, data) VALUES (?, ?, ?)",
                [(record.id, FEATURES_VERSION, pack(feats.get(record.id) or features(record))) for record, _ in put])
            self.conn.executemany("UPDATE works SET cluster = ? WHERE record_id = ?",
                                  [(c, rid) for rid, c in clusters.items()])
