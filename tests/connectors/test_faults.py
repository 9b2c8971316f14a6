"""Real faults, not mocks: a damaging proxy in front of pyoai's OAI-PMH peer, and a server of our own
that sends endless token sequences, wrong completeListSize and lagging datestamps.

For each fault: what the run reports, how many records were lost (0) and wrongly deleted (0).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import FaultProxy, OaiPeer, ScriptedOai, pyoai_token_fix

TOTAL = 500


@pytest.fixture
def peer(monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=TOTAL, batch_size=10) as p:
        yield p


def repo(url: str, **options) -> dict:
    return {"id": "repo", "connector": "oai-pmh", "url": url, **options}


def cursor_of(req) -> int | None:
    found = re.search(r"cursor%3D(\d+)", req.params.get("resumptionToken", ""))
    return int(found.group(1)) if found else None


def test_transient_damage_is_retried_and_nothing_is_lost(peer, tmp_path, store):
    with FaultProxy(peer.url, FaultProxy.random(0.2, seed=11)) as proxy:
        run = harvest_source(make_settings(tmp_path, repo(proxy.url)), "repo", store)
    kinds = {fault for _, fault in proxy.injected}
    assert kinds == {"truncate", "garbage", "cut_token"} and len(proxy.injected) >= 8
    assert run.status == "ok", run.error
    assert {r.local_id for r in store.iter_all("repo")} == peer.live_ids()  # 0 lost
    assert (run.new, store.counts("repo").live, run.quarantined) == (TOTAL, TOTAL, 0)


@pytest.mark.parametrize("fault", ["truncate", "garbage"])
def test_a_page_that_stays_damaged_ends_the_run_incomplete_naming_the_page(peer, tmp_path, store, fault):
    broken = {"on": True}
    plan = lambda n, req: fault if broken["on"] and cursor_of(req) == 130 else None  # noqa: E731 - page 14
    with FaultProxy(peer.url, plan) as proxy:
        settings = make_settings(tmp_path, repo(proxy.url))
        run = harvest_source(settings, "repo", store)
        assert run.status == "incomplete"
        assert "page 14" in run.error and "retries" in run.error
        assert store.counts("repo").live == 130  # the 13 good pages are kept
        assert [r.status for r in store.runs("repo")] == ["incomplete"]

        broken["on"] = False  # the partner recovers: the next run goes on from page 14
        again = harvest_source(settings, "repo", store)
    assert again.status == "ok", again.error
    assert again.resumed_from == run.id and again.new == TOTAL - 130
    assert {r.local_id for r in store.iter_all("repo")} == peer.live_ids()


def test_a_full_harvest_through_damage_marks_nothing_deleted(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url))
    assert harvest_source(settings, "repo", store).ok
    plan = lambda n, req: "truncate" if cursor_of(req) == 130 else None  # noqa: E731
    with FaultProxy(peer.url, plan) as proxy:
        settings = make_settings(tmp_path, repo(proxy.url))
        damaged = harvest_source(settings, "repo", store, full=True)
    assert damaged.status == "incomplete" and damaged.deleted == 0
    assert store.counts("repo").live == TOTAL and store.counts("repo").deleted == 0  # 0 wrongly deleted

    with FaultProxy(peer.url, FaultProxy.random(0.2, seed=5)) as proxy:
        settings = make_settings(tmp_path, repo(proxy.url))
        noisy = harvest_source(settings, "repo", store, full=True)
    assert proxy.injected
    assert noisy.status == "ok", noisy.error
    assert noisy.deleted == 0 and store.counts("repo").live == TOTAL


def test_a_token_lost_in_transfer_is_found_by_asking_for_the_last_page_again(peer, tmp_path, store):
    plan = lambda n, req: "drop_token" if n == 7 else None  # noqa: E731 - page 7 seems to end the list
    with FaultProxy(peer.url, plan) as proxy:
        run = harvest_source(make_settings(tmp_path, repo(proxy.url)), "repo", store)
    assert proxy.injected == [(7, "drop_token")]
    assert run.status == "ok", run.error
    assert store.counts("repo").live == TOTAL


def test_a_list_shorter_than_its_complete_list_size_is_incomplete(tmp_path, store):
    now = datetime.now(UTC)
    with ScriptedOai(announce=60) as server:
        for n in range(45):
            server.put(n, now - timedelta(days=n))
        run = harvest_source(make_settings(tmp_path, repo(server.url)), "repo", store)
    assert run.status == "incomplete"
    assert "page 5" in run.error and "ended after 45 records" in run.error and "completeListSize 60" in run.error
    assert store.counts("repo").live == 40  # the four pages that agreed


def test_an_endless_token_sequence_stops_after_pages_with_nothing_new(tmp_path, store):
    now = datetime.now(UTC)
    with ScriptedOai(page_size=5, endless=True, cycle=5) as server:
        for n in range(20):
            server.put(n, now - timedelta(hours=n))
        run = harvest_source(make_settings(tmp_path, repo(server.url), max_pages_without_new=5), "repo", store)
        listed = sum(1 for r in server.http.requests if r.params.get("verb") == "ListRecords")
    assert run.status == "failed"
    assert "5 pages in a row" in run.error and "no record not already listed" in run.error
    assert listed == 6  # the first page, then five with nothing new
    assert store.counts("repo").live == 5


def test_more_records_than_announced_stop_the_list(tmp_path, store):
    now = datetime.now(UTC)
    with ScriptedOai(page_size=10, announce=30) as server:
        for n in range(200):
            server.put(n, now - timedelta(hours=n))
        run = harvest_source(make_settings(tmp_path, repo(server.url)), "repo", store)
    assert run.status == "failed" and "more than its completeListSize of 30" in run.error
    assert store.counts("repo").live == 50  # 50 > 30 + 10: stopped after page 5


def test_the_page_cap_stops_a_list(tmp_path, store):
    now = datetime.now(UTC)
    with ScriptedOai(page_size=10) as server:
        for n in range(100):
            server.put(n, now - timedelta(hours=n))
        run = harvest_source(make_settings(tmp_path, repo(server.url), max_pages=3), "repo", store)
    assert run.status == "failed" and "max_pages (3)" in run.error
    assert store.counts("repo").live == 30


@pytest.mark.parametrize("overlap", [86400, 0])
def test_records_stamped_after_the_newest_datestamp_but_before_the_last_run_are_found(tmp_path, store, overlap):
    now = datetime.now(UTC).replace(microsecond=0)
    with ScriptedOai() as server:
        for n in range(100):
            server.put(n, now - timedelta(hours=4, minutes=n))  # the newest is 4 hours old
        settings = make_settings(tmp_path, repo(server.url), incremental_overlap_seconds=overlap)
        first = harvest_source(settings, "repo", store)
        assert first.ok and first.new == 100
        store.mark_indexed(store.iter_changed("repo"))
        # The index is rebuilt afterwards: 14 changes stamped between the newest datestamp and the run.
        for k in range(14):
            when = now - timedelta(hours=3, minutes=-k)
            if k < 7:
                server.put(1000 + k, when, f"New {k}")
            elif k < 11:
                server.put(k, when, f"Changed {k}")
            else:
                server.put(k, when, deleted=True)
        second = harvest_source(settings, "repo", store)
        froms = [r.params["from"] for r in server.http.requests if r.params.get("from")]
    assert second.status == "ok" and second.mode == "incremental"
    assert (second.new, second.changed, second.deleted) == (7, 4, 3)  # 0 of 14 missed
    assert froms[-1] <= (now - timedelta(hours=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert len(list(store.iter_changed("repo"))) == 14  # what was listed again unchanged is not re-indexed


def test_records_stamped_just_before_the_newest_are_found_with_a_day_of_overlap(tmp_path, store):
    now = datetime.now(UTC).replace(microsecond=0)
    with ScriptedOai() as server:
        for n in range(30):
            server.put(n, now - timedelta(hours=1, minutes=n))
        settings = make_settings(tmp_path, repo(server.url))
        assert harvest_source(settings, "repo", store).ok
        server.put(500, now - timedelta(hours=5), "Imported late with an older stamp")
        second = harvest_source(settings, "repo", store)
    assert second.ok and second.new == 1 and store.get("repo", "oai:s:500") is not None
