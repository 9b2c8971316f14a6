"""The change feed on Elasticsearch: works by (updated, id) with search_after, and the departures index.

Departures live in `<prefix>-departures` (one document per work id), outside the records
alias, so a rebuild behind the alias keeps them. Both lists sort on (stamp, id) with
search_after and no total count: a page costs the same at any depth.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from elasticsearch import Elasticsearch, NotFoundError

from fedsearch.engines.changes import Change, ChangeQuery, Departure
from fedsearch.record import Record

Calling = Callable[[str], AbstractContextManager[None]]

DEPARTURE_MAPPING: dict[str, Any] = {
    "dynamic": "strict",
    "properties": {
        "id": {"type": "keyword"},
        "stamp": {"type": "long"},
        "merged_into": {"type": "keyword"},
        "source": {"type": "keyword"},
        "type": {"type": "keyword"},
        "access": {"type": "keyword"},
    },
}


def _filters(q: ChangeQuery, stamp_field: str) -> list[dict[str, Any]]:
    rng: dict[str, int] = {"lte": q.until}
    if q.since is not None:
        rng["gte"] = q.since
    out: list[dict[str, Any]] = [{"range": {stamp_field: rng}}]
    out += [{"terms": {name: list(values)}} for name, values in q.filters.items() if values]
    return out


def _page(q: ChangeQuery, stamp_field: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "query": {"bool": {"filter": _filters(q, stamp_field)}},
        "sort": [{stamp_field: "asc"}, {"id": "asc"}],
        "size": q.limit,
        "track_total_hits": False,
    }
    if q.after is not None:
        body["search_after"] = [q.after[0], q.after[1]]
    return body


def list_live(client: Elasticsearch, alias: str, calling: Calling, q: ChangeQuery) -> list[Change]:
    with calling(f"listing changes in {alias}"):
        try:
            resp = client.search(index=alias, source_includes=["record", "updated"], **_page(q, "updated"))
        except NotFoundError:
            return []
    out = []
    for h in resp["hits"]["hits"]:
        record = Record.model_validate_json(h["_source"]["record"])
        out.append(Change(id=record.id, stamp=int(h["_source"]["updated"]), record=record))
    return out


def count_live(client: Elasticsearch, alias: str, calling: Calling, q: ChangeQuery) -> int:
    with calling(f"counting changes in {alias}"):
        try:
            return int(client.count(index=alias, query={"bool": {"filter": _filters(q, "updated")}})["count"])
        except NotFoundError:
            return 0


class EsDepartureLog:
    """DepartureLog's methods over an Elasticsearch index."""

    def __init__(self, writer: Elasticsearch, reader: Elasticsearch, index: str, calling: Calling):
        self.writer, self.reader, self.index, self.calling = writer, reader, index, calling
        self._ready = False

    def _ensure(self) -> None:
        if self._ready:
            return
        with self.calling(f"creating {self.index}"):
            if not self.writer.indices.exists(index=self.index):
                try:
                    self.writer.indices.create(
                        index=self.index,
                        mappings=DEPARTURE_MAPPING,
                        settings={"number_of_shards": 1, "translog": {"durability": "request"}},
                    )
                except Exception as err:
                    if "resource_already_exists" not in str(err):
                        raise
        self._ready = True

    def _bulk(self, ops: list[dict[str, Any]], what: str) -> None:
        if not ops:
            return
        self._ensure()
        with self.calling(what):
            # refresh: a harvest that starts right after the indexer sees the departure.
            resp = self.writer.bulk(operations=ops, refresh=True)
        bad = [
            item
            for item in resp["items"]
            for r in item.values()
            if r.get("status", 500) >= 300 and r.get("status") != 404
        ]
        if bad:
            raise RuntimeError(f"{self.index}: {len(bad)} departures were not written: {bad[:3]}")

    def add(self, departures: Iterable[Departure]) -> None:
        departures = list(departures)
        known = {d["_id"]: d["_source"] for d in self._get([d.id for d in departures if not d.sources])}
        ops: list[dict[str, Any]] = []
        for d in departures:
            old = known.get(d.id)
            sources, type_, access = (
                (old["source"], old.get("type"), old.get("access")) if old else (list(d.sources), d.type, d.access)
            )
            ops.append({"index": {"_index": self.index, "_id": d.id}})
            ops.append(
                {
                    "id": d.id,
                    "stamp": d.stamp,
                    "merged_into": d.merged_into,
                    "source": sources,
                    "type": type_,
                    "access": access,
                }
            )
        self._bulk(ops, f"writing {len(departures)} departures to {self.index}")

    def _get(self, ids: list[str]) -> Iterator[dict[str, Any]]:
        if not ids:
            return iter(())
        self._ensure()
        with self.calling(f"reading departures from {self.index}"):
            resp = self.reader.mget(index=self.index, ids=ids)
        return (d for d in resp["docs"] if d.get("found"))

    def get(self, work_id: str) -> Departure | None:
        if not self._exists():
            return None
        for d in self._get([work_id]):
            s = d["_source"]
            return Departure(
                id=s["id"],
                stamp=int(s["stamp"]),
                merged_into=s.get("merged_into"),
                sources=tuple(s.get("source") or ()),
                type=s.get("type"),
                access=s.get("access"),
            )
        return None

    def clear(self, ids: Iterable[str]) -> None:
        ids = list(ids)
        if not ids or not self._exists():
            return
        self._bulk([{"delete": {"_index": self.index, "_id": i}} for i in ids], f"clearing departures in {self.index}")

    def _exists(self) -> bool:
        if self._ready:
            return True
        with self.calling(f"looking for {self.index}"):
            return bool(self.reader.indices.exists(index=self.index))

    def list(self, q: ChangeQuery) -> list[Departure]:
        with self.calling(f"listing departures in {self.index}"):
            try:
                resp = self.reader.search(index=self.index, **_page(q, "stamp"))
            except NotFoundError:
                return []
        out = []
        for h in resp["hits"]["hits"]:
            s = h["_source"]
            out.append(
                Departure(
                    id=s["id"],
                    stamp=int(s["stamp"]),
                    merged_into=s.get("merged_into"),
                    sources=tuple(s.get("source") or ()),
                    type=s.get("type"),
                    access=s.get("access"),
                )
            )
        return out

    def count(self, q: ChangeQuery) -> int:
        with self.calling(f"counting departures in {self.index}"):
            try:
                return int(
                    self.reader.count(index=self.index, query={"bool": {"filter": _filters(q, "stamp")}})["count"]
                )
            except NotFoundError:
                return 0

    def close(self) -> None:
        pass
