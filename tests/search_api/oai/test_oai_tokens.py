"""Resumption tokens stay correct while the index changes between pages (both engines).

A harvest is pinned to the moment of its first request: works changed, added or deleted
during it move after that moment, so the list neither skips nor repeats the works that
did not change, and the next incremental harvest picks up exactly the ones that did.
"""

from __future__ import annotations

import time

import httpx
import pytest
from lxml import etree

from fedsearch.record import Record, make_record_id
from search_api.oai import verbs
from tests.search_api.conftest import Served

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def get(url: str, **args: str) -> etree._Element:
    return etree.fromstring(httpx.get(url, params=args, timeout=30).content)


def page_ids(root: etree._Element) -> list[tuple[str, bool]]:
    return [
        (h.findtext(f"{OAI}identifier").rsplit(":", 1)[1], h.get("status") == "deleted")
        for h in root.iter(f"{OAI}header")
    ]


def test_a_harvest_survives_changes_between_pages(served: Served, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(verbs.PAGE, "ListIdentifiers", 9)
    engine = served.engine
    time.sleep(1.1)  # the corpus was written in an earlier second than this harvest starts
    first = get(served.url, verb="ListIdentifiers", metadataPrefix="oai_dc")
    started = first.findtext(f"{OAI}responseDate")
    token = first.find(f".//{OAI}resumptionToken")
    total = token.get("completeListSize")
    served_ids = [wid for wid, _ in page_ids(first)]
    everything = sorted(served.live_ids())
    assert int(total) == len(everything)
    time.sleep(1.1)  # the changes below are stamped after the harvest's pinned window

    # Between pages: a work not served yet changes, a served one is deleted, a new one arrives.
    pending = [w for w in everything if w not in served_ids]
    changed = engine.get(pending[len(pending) // 2])
    retitled = Record.model_validate({**changed.model_dump(), "title": [{"value": "Retitled while harvested"}]})
    assert engine.upsert([retitled]).errors == []
    deleted = served_ids[0]
    engine.note_departures([deleted])
    engine.delete([deleted])
    new = Record(
        id=make_record_id("knu", "arrived-mid-harvest"),
        source="knu",
        source_record_id="arrived-mid-harvest",
        title=[{"value": "Arrived mid-harvest"}],
    )
    assert engine.upsert([new]).errors == []
    engine.refresh()

    cursors = [token.get("cursor")]
    while token is not None and token.text:
        page = get(served.url, verb="ListIdentifiers", resumptionToken=token.text)
        assert page.find(f"{OAI}error") is None, etree.tostring(page)
        served_ids += [wid for wid, _ in page_ids(page)]
        token = page.find(f".//{OAI}resumptionToken")
        cursors.append(token.get("cursor"))
        if token.text:
            assert token.get("completeListSize") == total  # counted once, at the first request
    assert len(served_ids) == len(set(served_ids)), "a work was served twice"
    # Every work that did not change was served; the changed one moved past the window.
    assert set(served_ids) == set(everything) - {changed.id}
    assert cursors == [str(9 * i) for i in range(len(cursors))]

    # The next incremental harvest, from this one's start, gets exactly the three changes.
    since = get(served.url, verb="ListIdentifiers", metadataPrefix="oai_dc", **{"from": started})
    assert sorted(page_ids(since)) == sorted([(changed.id, False), (deleted, True), (new.id, False)])


def test_a_page_reads_only_past_its_cursor(served: Served):
    """The engine's change feed: pages after a (stamp, id) cursor tile the list exactly, at any size."""
    from fedsearch.engines.changes import ChangeQuery

    until = int(time.time()) + 1
    whole = served.engine.list_changes(ChangeQuery(until=until, limit=10_000))
    assert [c.key for c in whole] == sorted(c.key for c in whole)
    for size in (1, 4, 13):
        got, after = [], None
        while True:
            page = served.engine.list_changes(ChangeQuery(until=until, after=after, limit=size))
            got += page
            if len(page) < size:
                break
            after = page[-1].key
        assert [c.key for c in got] == [c.key for c in whole]
