"""Prefetching the next OAI-PMH page while the current one is stored (delay_seconds 0 only)."""

from __future__ import annotations

import threading
import time

import pytest

from connectors.base import Checkpoint, RawRecord
from connectors.oaipmh import OaiPmhConnector, OaiPmhOptions
from connectors.prefetch import PagePrefetch
from fedsearch.config import SourceConfig
from tests.connectors.conftest import local_policy


def harvest_all(url: str, **policy) -> tuple[OaiPmhConnector, list[RawRecord], list[dict]]:
    source = SourceConfig(id="repo", connector="oai-pmh", url=url)
    connector = OaiPmhConnector(source, OaiPmhOptions(url=url), local_policy(**policy))
    records, checkpoints = [], []
    for item in connector.harvest(since=None, checkpoint=None):
        if isinstance(item, RawRecord):
            records.append(item)
        elif isinstance(item, Checkpoint):  # the server's clock aside, the same state after the same page
            checkpoints.append({k: v for k, v in item.state.items() if k != "response_date"})
    return connector, records, checkpoints


def test_with_no_delay_every_next_page_is_ready_ahead_and_what_is_read_is_the_same(oai_peer):
    fast, fast_records, fast_points = harvest_all(oai_peer.url)  # FAST_POLICY: delay_seconds 0
    slow, slow_records, slow_points = harvest_all(oai_peer.url, delay_seconds=0.001)

    assert fast.prefetched == 4  # 45 records, 10 a page: pages 2 to 5 came from the prefetch
    assert slow.prefetched == 0  # a partner that asks for a delay gets one request at a time, as before
    assert [(r.local_id, r.payload, r.datestamp, r.sets) for r in fast_records] == [
        (r.local_id, r.payload, r.datestamp, r.sets) for r in slow_records
    ]
    assert len(fast_records) == 45 and fast_points == slow_points


def test_a_request_other_than_the_guess_waits_for_the_guess_then_runs_on_its_own():
    prefetch: PagePrefetch[str] = PagePrefetch()
    running, most, order = [0], [0], []
    lock = threading.Lock()

    def request(name: str, seconds: float = 0.0):
        def call() -> str:
            with lock:
                running[0] += 1
                most[0] = max(most[0], running[0])
            time.sleep(seconds)
            with lock:
                running[0] -= 1
                order.append(name)
            return name

        return call

    try:
        prefetch.ahead("page 2", request("page 2", 0.05))
        assert prefetch.get("page 2 again", request("page 2 again")) == "page 2 again"
        assert order == ["page 2", "page 2 again"] and most[0] == 1  # never two requests at once
        assert prefetch.hits == 0

        prefetch.ahead("page 3", request("page 3"))
        prefetch.ahead("page 4", request("page 4"))  # one page ahead at most: ignored
        assert prefetch.get("page 3", request("not asked")) == "page 3"
        assert prefetch.hits == 1 and "not asked" not in order and "page 4" not in order
    finally:
        prefetch.close()


def test_an_error_of_the_prefetched_request_is_raised_where_it_is_asked_for():
    prefetch: PagePrefetch[str] = PagePrefetch()

    def broken() -> str:
        raise TimeoutError("the partner did not answer")

    try:
        prefetch.ahead("page 2", broken)
        with pytest.raises(TimeoutError, match="did not answer"):
            prefetch.get("page 2", lambda: "fresh")
        prefetch.ahead("page 3", broken)
    finally:
        prefetch.close()  # an unused failed guess is dropped quietly
