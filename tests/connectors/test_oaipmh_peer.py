"""OAI-PMH against a real data provider: pyoai's server, fed with test records."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from lxml import etree

from connectors.http import PoliteClient
from connectors.oaipmh import OaiClient
from rawstore.harvest import harvest_source
from rawstore.models import parse_time
from tests.connectors.conftest import local_policy, make_settings

OAI_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"
DC = "{http://purl.org/dc/elements/1.1/}"


def repo(url: str, **options) -> dict:
    return {"id": "repo", "connector": "oai-pmh", "url": url, **options}


def test_full_harvest_stores_every_record_the_peer_has(oai_peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(oai_peer.url))
    seen = []
    run = harvest_source(settings, "repo", store, progress=lambda r: seen.append((r.pages, r.records)))

    assert run.status == "ok", run.error
    assert (run.mode, run.since) == ("full", None)
    assert (run.records, run.new, run.changed, run.deleted, run.pages) == (45, 45, 0, 0, 5)
    assert {r.local_id for r in store.iter_all("repo")} == oai_peer.live_ids()
    assert seen[0] == (1, 10) and seen[-1][1] == 45  # progress after every page

    rec = store.get("repo", "oai:test:7")
    root = etree.fromstring(rec.payload)
    assert rec.format == "oai_dc" and root.tag == OAI_DC
    assert root.findtext(f"{DC}title") == "Кыргыз тили жана адабияты 7"
    assert rec.sets == ["theses"] and rec.datestamp.startswith("2020-")
    assert rec.content_hash == hashlib.sha256(rec.payload).hexdigest()
    assert store.counts("repo").live == 45


def test_incremental_harvest_fetches_only_what_changed_deletions_included(oai_peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(oai_peer.url))
    first = harvest_source(settings, "repo", store)
    assert first.ok
    store.mark_indexed(store.iter_changed("repo"))
    assert list(store.iter_changed("repo")) == []

    oai_peer.put(3, "Тема өзгөрдү: changed title")
    oai_peer.put(100, "A new thesis")
    oai_peer.delete(5)
    before = len(oai_peer.http.requests)
    second = harvest_source(settings, "repo", store)

    assert second.status == "ok", second.error
    assert second.mode == "incremental" and second.since == first.window_start
    # `from` is the first run's newest datestamp (earlier than its clock) minus the one-day overlap:
    # records 44 and 45, stamped that last day, are listed again and cost only a hash comparison.
    assert (second.records, second.new, second.changed, second.deleted, second.unchanged) == (5, 1, 1, 1, 2)
    asked = [r.params for r in oai_peer.http.requests[before:] if r.params.get("verb") == "ListRecords"]
    newest = max(
        r.datestamp
        for r in store.iter_all("repo")
        if r.local_id != "oai:test:100" and r.local_id != "oai:test:3" and r.local_id != "oai:test:5"
    )
    expected_from = (datetime.fromisoformat(newest.replace("Z", "+00:00")) - timedelta(days=1)).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    assert asked[0]["from"] == expected_from
    assert parse_time(first.window_start) > datetime.fromisoformat(expected_from.replace("Z", "+00:00"))
    assert store.get("repo", "oai:test:5").deleted
    assert (
        etree.fromstring(store.get("repo", "oai:test:3").payload).findtext(f"{DC}title")
        == "Тема өзгөрдү: changed title"
    )
    # The indexer is told exactly these three.
    assert sorted(r.local_id for r in store.iter_changed("repo")) == ["oai:test:100", "oai:test:3", "oai:test:5"]
    assert store.counts("repo").live == 45 and store.counts("repo").deleted == 1

    third = harvest_source(settings, "repo", store)
    assert third.ok and third.mode == "incremental"
    # The overlap lists the last changes again: never as new or changed.
    assert third.new == third.changed == third.deleted == 0


def test_full_flag_relists_everything_and_counts_it_unchanged(oai_peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(oai_peer.url))
    assert harvest_source(settings, "repo", store).ok
    oai_peer.delete(9)
    run = harvest_source(settings, "repo", store, full=True)
    assert run.ok and run.mode == "full" and run.since is None
    assert (run.records, run.unchanged, run.deleted) == (45, 44, 1)


def test_sets_are_harvested_one_after_another(oai_peer, tmp_path, store):
    for n in (200, 201):
        oai_peer.put(n, f"Article {n}", sets=["articles"])
    settings = make_settings(tmp_path, repo(oai_peer.url, sets=["articles"]))
    run = harvest_source(settings, "repo", store)
    assert run.ok and run.records == 2
    assert {r.local_id for r in store.iter_all("repo")} == {"oai:test:200", "oai:test:201"}
    assert all(r.sets == ["articles"] for r in store.iter_all("repo"))


def test_client_reads_identify_formats_and_sets(oai_peer):
    with PoliteClient("repo", local_policy()) as http:
        client = OaiClient(oai_peer.url, http)
        info = client.identify()
        assert info.granularity == "YYYY-MM-DDThh:mm:ssZ" and info.deleted_record == "persistent"
        assert info.earliest_datestamp.startswith("2000-01-01")
        assert [f.prefix for f in client.list_metadata_formats()] == ["oai_dc"]
        assert [s.spec for s in client.list_sets()] == ["theses", "articles"]
