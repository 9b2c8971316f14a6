"""What a rebuild changes in the OAI-PMH provider's deleted records (search_api/oai/).

A normal batch notes a departure for each work it deletes (works.write_works). A rebuild
replaces the whole index instead, so it compares: every work the served index holds that
the new index will not hold leaves a departure (with the work that absorbed it, when one
lists it among its members), and works that come back lose theirs. Both happen just before
the engine switches, while the old index can still be read for each leaving work's sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from fedsearch.engines import SearchEngine
from fedsearch.engines.changes import ChangeQuery
from fedsearch.record import Record

PAGE = 1000
EVERYTHING = 2**62  # a change query's `until` that no stamp reaches


def live_work_ids(engine: SearchEngine) -> set[str] | None:
    """Every work the served index holds (None: this engine keeps no change feed)."""
    ids: set[str] = set()
    after = None
    try:
        while True:
            page = engine.list_live(ChangeQuery(until=EVERYTHING, after=after, limit=PAGE))
            ids.update(c.id for c in page)
            if len(page) < PAGE:
                return ids
            after = page[-1].key
    except NotImplementedError:
        return None


def departed_ids(engine: SearchEngine) -> set[str]:
    """Every work with a departure on record."""
    log = engine.departure_log()
    ids: set[str] = set()
    after = None
    while True:
        page = log.list(ChangeQuery(until=EVERYTHING, after=after, limit=PAGE))
        ids.update(d.id for d in page)
        if len(page) < PAGE:
            return ids
        after = (page[-1].stamp, page[-1].id)


class RebuildDepartures:
    """Watches the works a rebuild writes; `note` records what the switch will change."""

    def __init__(self, engine: SearchEngine):
        self.engine = engine
        self.before = live_work_ids(engine)
        self.written: set[str] = set()
        self.absorbed: dict[str, str] = {}  # a member record id -> the work listing it

    def track(self, works: Iterable[Record]) -> Iterator[Record]:
        for work in works:
            self.written.add(work.id)
            if work.match is not None:
                for member in work.match.members[1:]:
                    self.absorbed[member] = work.id
            yield work

    def note(self) -> None:
        if self.before is None:
            return
        gone = sorted(self.before - self.written)
        if gone:
            self.engine.note_departures(gone, {i: self.absorbed[i] for i in gone if i in self.absorbed})
        self.engine.departure_log().clear(sorted(departed_ids(self.engine) & self.written))
