"""What changed in the index and when: the change feed behind the OAI-PMH provider.

Every work the index holds carries `updated`, the second the indexer last wrote it
(fedsearch/engines/document.py). A work that leaves the index (deleted at its
sources, or absorbed into another work by deduplication) leaves a *departure*: its
id, the second it left, the work that absorbed it, and the sets it was in. Both
engines keep departures durably beside the index (embedded: SQLite next to the
tantivy generations; Elasticsearch: the `<prefix>-departures` index), written by
the indexer (indexers/pipeline.py) before it deletes the work, and cleared when
the work comes back.

Both lists are read in (stamp, id) order after a cursor, so a page costs the
same at any depth: no offsets.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from fedsearch import sqlite
from fedsearch.record import Record

# Facets a change list can be restricted to (the OAI sets): facet -> values, OR within a facet.
CHANGE_FACETS = ("source", "type", "access", "id")


@dataclass(frozen=True)
class ChangeQuery:
    """Changes with since <= stamp <= until, strictly after `after` in (stamp, id) order."""

    until: int
    since: int | None = None
    after: tuple[int, str] | None = None
    filters: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    limit: int = 100

    def __post_init__(self) -> None:
        unknown = set(self.filters) - set(CHANGE_FACETS)
        if unknown:
            raise ValueError(f"a change list can be restricted by {', '.join(CHANGE_FACETS)}, not {sorted(unknown)}")


@dataclass(frozen=True)
class Departure:
    """A work that left the index: deleted, or merged into `merged_into`."""

    id: str
    stamp: int  # epoch seconds when it left
    merged_into: str | None = None
    sources: tuple[str, ...] = ()
    type: str | None = None
    access: str | None = None

    @classmethod
    def of(cls, work_id: str, stamp: int, record: Record | None, merged_into: str | None) -> Departure:
        if record is None:
            return cls(id=work_id, stamp=stamp, merged_into=merged_into)
        return cls(
            id=work_id,
            stamp=stamp,
            merged_into=merged_into,
            sources=tuple(record.sources),
            type=record.type.value,
            access=record.access.value,
        )

    def facets(self) -> dict[str, tuple[str, ...]]:
        return {
            "source": self.sources,
            "type": (self.type,) if self.type else (),
            "access": (self.access,) if self.access else (),
            "id": (self.id,),
        }

    def matches(self, filters: Mapping[str, tuple[str, ...]]) -> bool:
        mine = self.facets()
        return all(set(values) & set(mine[name]) for name, values in filters.items())


@dataclass(frozen=True)
class Change:
    """One entry of a change list: a live work (with its record) or a departure."""

    id: str
    stamp: int
    record: Record | None = None
    departure: Departure | None = None

    @property
    def key(self) -> tuple[int, str]:
        return (self.stamp, self.id)


def merge_changes(live: list[Change], gone: list[Change], limit: int) -> list[Change]:
    """The first `limit` of two (stamp, id)-ordered lists, in that order."""
    return sorted(live + gone, key=lambda c: c.key)[:limit]


class DepartureLog:
    """Departures in SQLite (the embedded engine's): one row per work id, indexed by (stamp, id).

    Readers and the one writer may be different processes: WAL mode, short transactions.
    """

    def __init__(self, path: Path):
        self.path = Path(path)
        self._local = threading.local()

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # FULL: the indexer deletes the work right after, so this must be on disk first.
            db = sqlite.connect(self.path, synchronous="FULL", threads=False, named_rows=False)
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS departures (
                    id TEXT PRIMARY KEY, stamp INTEGER NOT NULL, merged_into TEXT,
                    sources TEXT NOT NULL, type TEXT, access TEXT);
                CREATE INDEX IF NOT EXISTS departures_stamp ON departures (stamp, id);
                CREATE TABLE IF NOT EXISTS departure_sources (
                    source TEXT NOT NULL, stamp INTEGER NOT NULL, id TEXT NOT NULL, PRIMARY KEY (source, stamp, id));
                """
            )
            self._local.db = db
        return db

    def add(self, departures: Iterable[Departure]) -> None:
        """Record departures; a work that left before keeps the sets it was last seen in if none are known now."""
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            for d in departures:
                old = db.execute("SELECT sources, type, access FROM departures WHERE id = ?", (d.id,)).fetchone()
                if old is not None and not d.sources:
                    d = Departure(
                        id=d.id,
                        stamp=d.stamp,
                        merged_into=d.merged_into,
                        sources=tuple(json.loads(old[0])),
                        type=old[1],
                        access=old[2],
                    )
                db.execute("DELETE FROM departure_sources WHERE id = ?", (d.id,))
                db.execute(
                    "INSERT OR REPLACE INTO departures VALUES (?, ?, ?, ?, ?, ?)",
                    (d.id, d.stamp, d.merged_into, json.dumps(list(d.sources)), d.type, d.access),
                )
                db.executemany(
                    "INSERT INTO departure_sources VALUES (?, ?, ?)", [(s, d.stamp, d.id) for s in d.sources]
                )

    def exists(self) -> bool:
        return getattr(self._local, "db", None) is not None or self.path.exists()

    def get(self, work_id: str) -> Departure | None:
        if not self.exists():
            return None
        row = (
            self._db()
            .execute("SELECT id, stamp, merged_into, sources, type, access FROM departures WHERE id = ?", (work_id,))
            .fetchone()
        )
        if row is None:
            return None
        return Departure(
            id=row[0], stamp=row[1], merged_into=row[2], sources=tuple(json.loads(row[3])), type=row[4], access=row[5]
        )

    def clear(self, ids: Iterable[str]) -> None:
        """Forget departures of works that are back in the index."""
        ids = list(ids)
        if not ids or not self.exists():  # nothing ever left: no file to write (the indexer calls this every batch)
            return
        db = self._db()
        with db:
            db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                db.execute(f"DELETE FROM departure_sources WHERE id IN ({marks})", chunk)
                db.execute(f"DELETE FROM departures WHERE id IN ({marks})", chunk)

    def _where(self, q: ChangeQuery, table: str) -> tuple[str, list[object]]:
        sql: list[str] = [f"{table}.stamp <= ?"]
        args: list[object] = [q.until]
        if q.since is not None:
            sql.append(f"{table}.stamp >= ?")
            args.append(q.since)
        if q.after is not None:
            sql.append(f"({table}.stamp, {table}.id) > (?, ?)")
            args += list(q.after)
        return " AND ".join(sql), args

    def list(self, q: ChangeQuery) -> list[Departure]:
        """Departures in (stamp, id) order after the cursor. A source filter walks its own index;
        type/access filters skip rows (departures are few next to works)."""
        if not self.exists():
            return []
        db = self._db()
        cols = "d.id, d.stamp, d.merged_into, d.sources, d.type, d.access"
        out: list[Departure] = []
        after = q.after
        while len(out) < q.limit:
            page = ChangeQuery(until=q.until, since=q.since, after=after, limit=q.limit)
            if q.filters.get("source"):
                where, args = self._where(page, "s")
                marks = ",".join("?" * len(q.filters["source"]))
                sql = (
                    f"SELECT DISTINCT {cols} FROM departure_sources s JOIN departures d ON d.id = s.id "
                    f"WHERE s.source IN ({marks}) AND {where} ORDER BY s.stamp, s.id LIMIT ?"
                )
                rows = db.execute(sql, [*q.filters["source"], *args, q.limit]).fetchall()
            else:
                where, args = self._where(page, "d")
                rows = db.execute(
                    f"SELECT {cols} FROM departures d WHERE {where} ORDER BY d.stamp, d.id LIMIT ?", [*args, q.limit]
                ).fetchall()
            for row in rows:
                d = Departure(
                    id=row[0],
                    stamp=row[1],
                    merged_into=row[2],
                    sources=tuple(json.loads(row[3])),
                    type=row[4],
                    access=row[5],
                )
                if d.matches(q.filters):
                    out.append(d)
            if len(rows) < q.limit:
                break
            after = (rows[-1][1], rows[-1][0])
        return out[: q.limit]

    def count(self, q: ChangeQuery) -> int:
        n = 0
        after = None
        while True:  # once per list, at its first page
            page = self.list(ChangeQuery(until=q.until, since=q.since, after=after, filters=q.filters, limit=5000))
            n += len(page)
            if len(page) < 5000:
                return n
            after = (page[-1].stamp, page[-1].id)

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
