"""The harvest runner: stop and resume, several sources, locks, a broken connector, `fedsearch sources`."""

from __future__ import annotations

import io
import json
import threading

from connectors.base import Checkpoint, Connector, ConnectorOptions, RawRecord
from rawstore import harvest as harvest_module
from rawstore.harvest import harvest_source, harvest_sources, source_lock
from rawstore.status import print_sources
from rawstore.store import RawStore
from tests.connectors.conftest import make_settings
from tests.connectors.peers import free_port


def repo(url: str, sid: str = "repo", **options) -> dict:
    return {"id": sid, "connector": "oai-pmh", "url": url, **options}


def test_stop_keeps_what_was_stored_and_the_next_run_resumes_from_the_checkpoint(oai_peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(oai_peer.url))
    stop = threading.Event()

    def progress(run):
        if run.pages == 2:
            stop.set()  # what the admin UI's "stop" button does

    first = harvest_source(settings, "repo", store, progress=progress, stop=stop)
    assert first.status == "stopped" and "resumes" in first.error
    assert first.records == 20 and store.counts("repo").live == 20
    asked = len(oai_peer.http.requests)

    second = harvest_source(settings, "repo", store)
    assert second.status == "ok", second.error
    assert second.resumed_from == first.id and second.window_id == first.id
    assert (second.records, second.new) == (25, 25)  # nothing fetched twice
    assert "resumptionToken" in oai_peer.http.requests[asked].params
    assert {r.local_id for r in store.iter_all("repo")} == oai_peer.live_ids()
    # The next incremental run starts from the start of the first (stopped) run: nothing in between is missed.
    assert store.last_successful_run("repo").window_start == first.started_at


def test_one_failing_source_does_not_stop_the_others(oai_peer, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/oai"
    settings = make_settings(
        tmp_path, repo(dead, "dead"), repo(oai_peer.url, "alive"), repo(oai_peer.url, "off", enabled=False)
    )
    results = harvest_sources(settings)
    assert [(r.source, r.status) for r in results] == [("dead", "failed"), ("alive", "ok")]
    assert "could not connect to 127.0.0.1" in results[0].error
    assert results[1].records == 45

    named = harvest_sources(settings, ["off", "nosuch"])
    assert [(r.source, r.status) for r in named] == [("off", "ok"), ("nosuch", "failed")]
    assert "no source 'nosuch'" in named[1].error


def test_a_second_harvest_of_the_same_source_is_refused_while_one_runs(oai_peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(oai_peer.url))
    with source_lock(store, "repo"):
        run = harvest_source(settings, "repo", store)
    assert run.status == "failed" and "another harvest of this source is running" in run.error
    assert store.runs("repo") == []


class ExplodingConnector(Connector):
    name = "exploding"
    Options = ConnectorOptions

    def harvest(self, *, since, checkpoint):
        yield RawRecord(local_id="a", format="tabular", payload=b"{}")
        yield Checkpoint({"n": 1})
        yield RawRecord(local_id="b", format="tabular", payload=b"{}")
        raise ZeroDivisionError("a bug in the connector")


def test_a_connector_bug_fails_the_run_and_keeps_the_records(tmp_path, store, monkeypatch):
    monkeypatch.setattr(harvest_module, "get_connector", lambda name: ExplodingConnector)
    monkeypatch.setattr("connectors.registry.validate_options", lambda source: None)
    settings = make_settings(tmp_path, {"id": "bug", "connector": "exploding"})
    run = harvest_source(settings, "bug", store)
    assert run.status == "failed"
    assert run.error == "unexpected error: ZeroDivisionError: a bug in the connector"
    assert {r.local_id for r in store.iter_all("bug")} == {"a", "b"}
    assert store.run(run.id).checkpoint == {"n": 1}


def test_sources_status_text_and_json(oai_peer, tmp_path):
    dead = f"http://127.0.0.1:{free_port()}/oai"
    settings = make_settings(tmp_path, repo(oai_peer.url), repo(dead, "dead"))
    harvest_sources(settings)
    with RawStore.for_settings(settings) as store:
        store.put_records("retired", [RawRecord(local_id="x", format="oai_dc", payload=b"<x/>")])

    out = io.StringIO()
    assert print_sources(settings, as_json=False, out=out) == 0
    text = out.getvalue()
    assert "repo  (oai-pmh)" in text and "ok full" in text
    assert "records: 45 live, 0 deleted, 0 quarantined, 45 waiting to be indexed" in text
    assert "dead  (oai-pmh)" in text and "last error: could not connect to 127.0.0.1" in text
    assert "retired  (not in the configuration)" in text

    out = io.StringIO()
    print_sources(settings, as_json=True, out=out)
    data = {e["source"]: e for e in json.loads(out.getvalue())}
    assert data["repo"]["counts"] == {"live": 45, "deleted": 0, "quarantined": 0, "unindexed": 45}
    assert data["repo"]["last_run"]["status"] == "ok" and data["repo"]["last_run"]["new"] == 45
    assert data["dead"]["last_run"]["status"] == "failed" and data["dead"]["last_success"] is None
    assert data["retired"]["configured"] is False
