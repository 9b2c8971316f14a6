"""What the indexer knows between runs: each normalized record, its work cluster, its blocking keys.

SQLite in data_dir (index-state.sqlite). Keeping normalized records lets the
pipeline re-merge a cluster when one member changes without re-reading every
source, and the blocking keys let it find a changed record's possible
duplicates without loading the whole collection. Each record's dedup features
are kept packed beside it, so deciding against those candidates reads small
tuples, not whole records.

Crash safety (docs/engines.md, "Crashes"). The engine commits separately from
this file, so the state also keeps what the engine may not have yet:
- `dirty`: a write-ahead journal of work ids whose engine copy may be stale.
  `apply` adds the works it changes in the same transaction as the change; the
  pipeline removes them (`clean`) once the engine has durably committed them.
  Replaying it (upsert the work if the state still has it, delete it if not)
  brings the engine back to the state after any crash.
- `next_*` tables: a rebuild (`fedsearch reindex`) fills these beside the live
  ones; `meta.rebuild_generation` names the engine index it is about to switch
  to. `finish_rebuild` makes them the live tables in one transaction, only once
  the engine serves that index; until then the live tables keep describing
  the index being served.
- `marks`: the raw-record states a finished rebuild read, to be marked indexed
  in the raw store (mark_indexed checks they are still current).

One module (~480 lines, over our ~400 on purpose): `apply`, `refile` and `finish_rebuild`
write several of these tables in one transaction each, and split apart a transaction
would span modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from fedsearch import sqlite
from fedsearch.record import Record
from indexers.dedup.features import FEATURES_VERSION, Features, features, pack, unpack

STAGING = "next_"  # table-name prefix of a rebuild's state


def _tables(prefix: str) -> str:
    """The record tables (and their indexes) under a name prefix: "" live, STAGING for a rebuild."""
    p = prefix
    return f"""
CREATE TABLE IF NOT EXISTS {p}works (
    record_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    local_id TEXT NOT NULL,
    cluster TEXT NOT NULL,
    json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS {p}blocks (
    key TEXT NOT NULL,
    record_id TEXT NOT NULL,
    PRIMARY KEY (key, record_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {p}marks (
    source TEXT NOT NULL,
    local_id TEXT NOT NULL,
    state TEXT NOT NULL,
    PRIMARY KEY (source, local_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS {p}dedup_features (
    record_id TEXT PRIMARY KEY,
    version TEXT NOT NULL,
    data BLOB NOT NULL
) WITHOUT ROWID;
{_indexes(p)}
"""


def _indexes(p: str) -> str:
    return f"""
CREATE INDEX IF NOT EXISTS {p}works_cluster ON {p}works (cluster);
CREATE INDEX IF NOT EXISTS {p}works_source ON {p}works (source);
CREATE INDEX IF NOT EXISTS {p}blocks_record ON {p}blocks (record_id);
"""


SCHEMA = (
    _tables("")
    + """
CREATE TABLE IF NOT EXISTS dirty (work_id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS decisions (
    a TEXT NOT NULL,
    b TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('split', 'join')),
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (a, b)
);
"""
)
_CHUNK = 500  # SQLite's bound-variable limit is far above this
CACHE_KIB = 64 * 1024  # SQLite page cache per connection
MAX_BLOCK = 200  # candidate lookups skip blocking keys shared by more records than this


def _chunks(items: list[str]) -> Iterator[list[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


class IndexState:
    """The live state, or with `prefix=STAGING` the one a rebuild is filling (same file, other tables)."""

    def __init__(self, path: str | Path, prefix: str = ""):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.prefix = prefix
        self.works, self.blocks, self.marks = f"{prefix}works", f"{prefix}blocks", f"{prefix}marks"
        self.features = f"{prefix}dedup_features"
        # FULL: a transaction (and so the journal entry for what the engine is about to get) is on
        # disk before the engine write that follows, even through a power cut. One fsync a batch.
        self.conn = sqlite.connect(self.path, synchronous="FULL", named_rows=False)
        # A bounded page cache well above SQLite's 2 MB: the blocking-key and cluster lookups of a
        # batch touch index pages all over a collection of a million.
        self.conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        self.conn.executescript(SCHEMA)
        if prefix:
            self.conn.executescript(_tables(prefix))

    @classmethod
    def for_data_dir(cls, data_dir: Path) -> IndexState:
        return cls(Path(data_dir) / "index-state.sqlite")

    def close(self) -> None:
        self.conn.close()

    def clear(self) -> None:
        """Forget every record, cluster and blocking key (for a rebuild); librarians' decisions stay."""
        with self.conn:
            self.conn.execute("BEGIN")
            for table in (self.works, self.blocks, self.marks, self.features):
                self.conn.execute(f"DELETE FROM {table}")
            if not self.prefix:
                self.conn.execute("DELETE FROM dirty")

    # --- reading ---------------------------------------------------------------------
    def keys_to_ids(self, keys: Iterable[str], max_block: int = MAX_BLOCK) -> dict[str, set[str]]:
        """Blocking key -> the record ids filed under it; keys filed under more than `max_block` are skipped.

        A huge block ("a:ivanov|2019" in a national collection) costs a comparison per member and
        almost never holds the duplicate the title and identifier keys did not already find.
        """
        out: dict[str, set[str]] = {}
        for chunk in _chunks(sorted(set(keys))):
            marks = ",".join("?" * len(chunk))
            small = [
                k
                for k, n in self.conn.execute(
                    f"SELECT key, COUNT(*) FROM {self.blocks} WHERE key IN ({marks}) GROUP BY key", chunk
                )
                if n <= max_block
            ]
            if not small:
                continue
            marks = ",".join("?" * len(small))
            for key, rid in self.conn.execute(
                f"SELECT key, record_id FROM {self.blocks} WHERE key IN ({marks})", small
            ):
                out.setdefault(key, set()).add(rid)
        return out

    def keys_under(self, prefixes: Iterable[str], limit: int = 50) -> list[str]:
        """Distinct blocking keys starting with each prefix (at most `limit` per prefix).

        The deduplicator files `g:<main title>|<first author>|<year>` per record: the keys under
        `g:<main title>|` say how many different people use a title (generic titles).
        """
        out: list[str] = []
        for prefix in sorted(set(prefixes)):
            out += [
                k
                for (k,) in self.conn.execute(
                    f"SELECT DISTINCT key FROM {self.blocks} WHERE key >= ? AND key < ? LIMIT ?",
                    (prefix, prefix + "\uffff", limit),
                )
            ]
        return out

    def records(self, record_ids: Iterable[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            marks = ",".join("?" * len(chunk))
            for rid, js in self.conn.execute(
                f"SELECT record_id, json FROM {self.works} WHERE record_id IN ({marks})", chunk
            ):
                out[rid] = Record.model_validate_json(js)
        return out

    def sources_of(self, record_ids: Iterable[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for chunk in _chunks(sorted(set(record_ids))):
            marks = ",".join("?" * len(chunk))
            out.update(
                self.conn.execute(f"SELECT record_id, source FROM {self.works} WHERE record_id IN ({marks})", chunk)
            )
        return out

    def features_of(self, record_ids: Iterable[str]) -> dict[str, Features]:
        """Stored records' dedup features: read back compact, or computed from the record when the
        stored ones are missing (a state from before they were kept) or of another code version."""
        record_ids = sorted(set(record_ids))
        out: dict[str, Features] = {}
        for chunk in _chunks(record_ids):
            marks = ",".join("?" * len(chunk))
            for rid, version, data in self.conn.execute(
                f"SELECT record_id, version, data FROM {self.features} WHERE record_id IN ({marks})", chunk
            ):
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
            out.update(
                self.conn.execute(f"SELECT record_id, cluster FROM {self.works} WHERE record_id IN ({marks})", chunk)
            )
        return out

    def members_of(self, clusters: Iterable[str]) -> dict[str, Record]:
        out: dict[str, Record] = {}
        for chunk in _chunks(sorted(set(clusters))):
            marks = ",".join("?" * len(chunk))
            for rid, js in self.conn.execute(
                f"SELECT record_id, json FROM {self.works} WHERE cluster IN ({marks})", chunk
            ):
                out[rid] = Record.model_validate_json(js)
        return out

    def works_of(self, clusters: Iterable[str]) -> dict[str, list[Record]]:
        """Cluster key -> its members in id order, for the clusters that exist."""
        out: dict[str, list[Record]] = {}
        for chunk in _chunks(sorted(set(clusters))):
            marks = ",".join("?" * len(chunk))
            for cluster, js in self.conn.execute(
                f"SELECT cluster, json FROM {self.works} WHERE cluster IN ({marks}) ORDER BY cluster, record_id", chunk
            ):
                out.setdefault(cluster, []).append(Record.model_validate_json(js))
        return out

    def record_ids_of_source(self, source: str) -> list[str]:
        return [r[0] for r in self.conn.execute(f"SELECT record_id FROM {self.works} WHERE source = ?", (source,))]

    def iter_clusters(self) -> Iterator[list[Record]]:
        """Every cluster's members, cluster by cluster (for a rebuild)."""
        current: str | None = None
        members: list[Record] = []
        for cluster, js in self.conn.execute(f"SELECT cluster, json FROM {self.works} ORDER BY cluster, record_id"):
            if cluster != current and members:
                yield members
                members = []
            current = cluster
            members.append(Record.model_validate_json(js))
        if members:
            yield members

    def count(self) -> int:
        return self.conn.execute(f"SELECT COUNT(*) FROM {self.works}").fetchone()[0]

    def count_clusters(self) -> int:
        return self.conn.execute(f"SELECT COUNT(DISTINCT cluster) FROM {self.works}").fetchone()[0]

    def cluster_keys(self) -> set[str]:
        """Every work id the state holds (what the engine should hold)."""
        return {r[0] for r in self.conn.execute(f"SELECT DISTINCT cluster FROM {self.works}")}

    def merged_clusters(self, limit: int = 200) -> dict[str, list[Record]]:
        """Clusters of more than one record (the largest first, then by key): cluster key -> members."""
        keys = [
            k
            for (k,) in self.conn.execute(
                f"SELECT cluster FROM {self.works} GROUP BY cluster HAVING COUNT(*) > 1 ORDER BY COUNT(*) DESC, cluster LIMIT ?",
                (limit,),
            )
        ]
        out: dict[str, list[Record]] = {k: [] for k in keys}
        for chunk in _chunks(keys):
            marks = ",".join("?" * len(chunk))
            for cluster, js in self.conn.execute(
                f"SELECT cluster, json FROM {self.works} WHERE cluster IN ({marks}) ORDER BY record_id", chunk
            ):
                out[cluster].append(Record.model_validate_json(js))
        return out

    # --- librarians' decisions (kept across rebuilds) ---------------------------------
    def decisions(self) -> list[tuple[str, str, str, str, str]]:
        """(record a, record b, "split" | "join", who, when), a < b."""
        return [
            tuple(r) for r in self.conn.execute("SELECT a, b, decision, actor, at FROM decisions ORDER BY at, a, b")
        ]

    def decide(self, a: str, b: str, decision: str, actor: str, at: str) -> None:
        if a == b:
            raise ValueError(f"a record can't be split from or joined with itself ({a})")
        if decision not in ("split", "join"):
            raise ValueError(f"unknown dedup decision {decision!r} (split or join)")
        a, b = sorted((a, b))
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT OR REPLACE INTO decisions (a, b, decision, actor, at) VALUES (?, ?, ?, ?, ?)",
                (a, b, decision, actor, at),
            )

    def forget_decision(self, a: str, b: str) -> bool:
        a, b = sorted((a, b))
        with self.conn:
            self.conn.execute("BEGIN")
            return self.conn.execute("DELETE FROM decisions WHERE a = ? AND b = ?", (a, b)).rowcount > 0

    # --- writing ---------------------------------------------------------------------
    def apply(
        self,
        put: list[tuple[Record, list[str]]],
        removed: Iterable[str],
        clusters: dict[str, str],
        feats: dict[str, Features] | None = None,
        dirty: Iterable[str] = (),
        json_of: dict[str, str] | None = None,
    ) -> None:
        """In one transaction: store records with their blocking keys and dedup features (`feats`, or
        computed here), drop removed ids, set clusters, and journal `dirty`, the work ids the engine must
        now be told about. `json_of`: records' JSON already serialized (model_dump_json(exclude_none=True)).

        Statements go in batches (executemany), not one per record: this runs in the indexer's process.
        """
        feats = feats or {}
        json_of = json_of or {}
        put_ids = [record.id for record, _ in put]
        with self.conn:
            self.conn.execute("BEGIN")
            gone = sorted(set(removed))
            for chunk in _chunks(gone):
                marks = ",".join("?" * len(chunk))
                self.conn.execute(f"DELETE FROM {self.works} WHERE record_id IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM {self.blocks} WHERE record_id IN ({marks})", chunk)
                self.conn.execute(f"DELETE FROM {self.features} WHERE record_id IN ({marks})", chunk)
            for chunk in _chunks(put_ids):
                self.conn.execute(f"DELETE FROM {self.blocks} WHERE record_id IN ({','.join('?' * len(chunk))})", chunk)
            self.conn.executemany(
                f"INSERT OR REPLACE INTO {self.works} (record_id, source, local_id, cluster, json) VALUES (?, ?, ?, ?, ?)",
                [
                    (
                        record.id,
                        record.source,
                        record.source_record_id,
                        clusters.get(record.id, record.id),
                        json_of.get(record.id) or record.model_dump_json(exclude_none=True),
                    )
                    for record, _ in put
                ],
            )
            self.conn.executemany(
                f"INSERT OR IGNORE INTO {self.blocks} (key, record_id) VALUES (?, ?)",
                [(k, record.id) for record, keys in put for k in keys],
            )
            self.conn.executemany(
                f"INSERT OR REPLACE INTO {self.features} (record_id, version, data) VALUES (?, ?, ?)",
                [(record.id, FEATURES_VERSION, pack(feats.get(record.id) or features(record))) for record, _ in put],
            )
            # Stored records that changed cluster (the ones just put were written with theirs).
            fresh = set(put_ids)
            self.conn.executemany(
                f"UPDATE {self.works} SET cluster = ? WHERE record_id = ?",
                [(c, rid) for rid, c in clusters.items() if rid not in fresh],
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO dirty (work_id) VALUES (?)", [(w,) for w in sorted(set(dirty))]
            )

    # --- blocking keys of an older scheme (live state only) ----------------------------
    def blocking_version(self) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'blocking_version'").fetchone()
        return row[0] if row else None

    def refile(self, keys_of: Callable[[Features], list[str]], version: str, chunk: int = 5000) -> int:
        """File every record again under `keys_of(its features)`, then record `version` (blocking.BLOCKING_VERSION).

        Idempotent, one transaction per chunk: a kill part-way leaves the old version recorded and
        the next run files them all again. Returns how many records were re-filed.
        """
        ids = [r[0] for r in self.conn.execute(f"SELECT record_id FROM {self.works} ORDER BY record_id")]
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            feats = self.features_of(part)
            with self.conn:
                self.conn.execute("BEGIN")
                for sub in _chunks(part):
                    self.conn.execute(f"DELETE FROM {self.blocks} WHERE record_id IN ({','.join('?' * len(sub))})", sub)
                self.conn.executemany(
                    f"INSERT OR IGNORE INTO {self.blocks} (key, record_id) VALUES (?, ?)",
                    [(k, rid) for rid in part for k in keys_of(feats[rid])],
                )
        with self.conn:
            self.conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('blocking_version', ?)", (version,))
        return len(ids)

    # --- the journal (live state only) -------------------------------------------------
    def dirty_works(self) -> list[str]:
        """Work ids whose engine copy may differ from this state (a run died before committing them)."""
        return [r[0] for r in self.conn.execute("SELECT work_id FROM dirty ORDER BY work_id")]

    def clean(self, work_ids: Iterable[str]) -> None:
        """The engine has durably committed these works as this state has them."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany("DELETE FROM dirty WHERE work_id = ?", [(w,) for w in set(work_ids)])

    # --- rebuilds ----------------------------------------------------------------------
    def add_marks(self, states: Iterable[tuple[str, str, str]]) -> None:
        """Remember raw records read, as (source, local_id, state), to mark them indexed after the switch."""
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                f"INSERT OR REPLACE INTO {self.marks} (source, local_id, state) VALUES (?, ?, ?)", list(states)
            )

    def pending_marks(self, limit: int) -> list[tuple[str, str, str]]:
        return [
            tuple(r)
            for r in self.conn.execute(
                f"SELECT source, local_id, state FROM {self.marks} ORDER BY source, local_id LIMIT ?", (limit,)
            )
        ]

    def drop_marks(self, states: Iterable[tuple[str, str, str]]) -> None:
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                f"DELETE FROM {self.marks} WHERE source = ? AND local_id = ?", [(s, lid) for s, lid, _ in states]
            )

    def staging_exists(self) -> bool:
        return (
            self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (f"{STAGING}works",)
            ).fetchone()
            is not None
        )

    def rebuild_generation(self) -> str | None:
        """The engine index a rebuild was about to switch to (None: it had not got that far)."""
        row = self.conn.execute("SELECT value FROM meta WHERE key = 'rebuild_generation'").fetchone()
        return row[0] if row else None

    def set_rebuild_generation(self, generation: str) -> None:
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('rebuild_generation', ?)", (generation,)
            )

    def start_rebuild(self) -> IndexState:
        """Empty staging tables beside the live ones; returns the state that writes to them."""
        self.abandon_rebuild()
        return IndexState(self.path, prefix=STAGING)

    def abandon_rebuild(self) -> None:
        """Forget a rebuild that never switched the engine: the live tables still describe it."""
        with self.conn:
            self.conn.execute("BEGIN")
            for table in ("works", "blocks", "marks", "dedup_features"):
                self.conn.execute(f"DROP TABLE IF EXISTS {STAGING}{table}")
            self.conn.execute("DELETE FROM meta WHERE key = 'rebuild_generation'")

    def finish_rebuild(self) -> None:
        """The engine now serves the rebuilt index: in one transaction, the staging tables become the
        live ones (their marks still to be applied) and the journal, which was about the old index, empties."""
        with self.conn:
            self.conn.execute("BEGIN")
            for table in ("works", "blocks", "marks", "dedup_features"):
                self.conn.execute(f"DROP TABLE {table}")
                self.conn.execute(f"ALTER TABLE {STAGING}{table} RENAME TO {table}")
            for index in ("works_cluster", "works_source", "blocks_record"):
                self.conn.execute(f"DROP INDEX IF EXISTS {STAGING}{index}")
            for statement in _indexes("").strip().splitlines():
                self.conn.execute(statement)
            self.conn.execute("DELETE FROM dirty")
            self.conn.execute("DELETE FROM meta WHERE key = 'rebuild_generation'")
