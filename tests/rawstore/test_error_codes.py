"""Runs and quarantine entries keep a stable code beside their text; older stores gain the columns on open."""

from __future__ import annotations

import io
import sqlite3
from pathlib import Path

from connectors.base import Quarantine, RawRecord
from rawstore.harvest import harvest_source
from rawstore.status import print_sources
from rawstore.store import RawStore
from tests.connectors.conftest import make_settings


def test_a_failed_run_keeps_the_partner_errors_code(tmp_path, store):
    # Port 9 on localhost: nothing listens, the connection is refused.
    settings = make_settings(tmp_path, {"id": "knu", "connector": "oai-pmh", "url": "http://127.0.0.1:9/oai"})
    run = harvest_source(settings, "knu", store)
    assert run.status == "failed" and run.error_code == "partner.http.unreachable", (run.error, run.error_code)
    stored = store.run(run.id)
    assert (stored.error, stored.error_code) == (run.error, "partner.http.unreachable")
    status = store.source_status("knu")
    assert status.last_error_code == "partner.http.unreachable"
    assert status.as_dict()["last_error_code"] == "partner.http.unreachable"
    out = io.StringIO()
    print_sources(settings, out=out)  # `fedsearch sources`
    assert "last error: could not connect to 127.0.0.1" in out.getvalue()
    assert "[partner.http.unreachable]" in out.getvalue()


def test_an_invalid_source_fails_with_a_config_code(tmp_path, store):
    settings = make_settings(tmp_path, {"id": "knu", "connector": "oai-pmh", "url": "http://127.0.0.1:9/oai"})
    missing = harvest_source(settings, settings.sources[0].model_copy(update={"options": {}}), store)
    assert missing.status == "failed" and missing.error_code == "config.invalid_value", missing.error


def test_a_quarantined_record_keeps_its_code(tmp_path, store):
    big = "Ж" * 2000  # 4000 bytes in UTF-8, over the limit of 1024 set below
    path = tmp_path / "t.csv"
    path.write_text(f"id,title\n1,Short\n2,{big}\n,No id\n3,Short\n", encoding="utf-8")
    source = {"id": "t", "connector": "tabular", "path": str(path), "id_column": "id", "mapping": {"title": "title"}}
    run = harvest_source(make_settings(tmp_path, source, max_record_bytes=1024), "t", store)
    assert (run.status, run.new, run.quarantined) == ("ok", 2, 2), run.error
    too_large, no_id = sorted(store.quarantined("t"), key=lambda e: e.id)
    assert too_large.local_id == "2" and too_large.code == "record.too_large"  # the runner's own check
    assert "over the limit of 1024" in too_large.reason
    assert no_id.local_id is None and no_id.code == "record.no_identifier"  # the connector's code


def test_a_quarantine_without_a_code_is_stored_as_malformed_and_a_given_code_is_kept(store):
    store.add_quarantine("s", [Quarantine(reason="the record has no title", local_id="a")])
    store.add_quarantine("s", [Quarantine(reason="odd", local_id="b", code="partner.oai.badArgument")])
    codes = {e.local_id: e.code for e in store.quarantined("s")}
    assert codes == {"a": "record.malformed", "b": "partner.oai.badArgument"}


def test_finishing_a_run_with_an_error_and_no_code_marks_it_internal(store):
    run = store.start_run("s", mode="full", since=None)
    store.finish_run(run, "failed", "something nobody named")
    assert store.run(run.id).error_code == "internal"
    ok = store.finish_run(store.start_run("s", mode="full", since=None), "ok")
    assert store.run(ok.id).error_code is None


def test_a_run_left_running_is_marked_interrupted_with_its_code(store):
    dead = store.start_run("s", mode="full", since=None)
    store.mark_interrupted("s", resumed_by=None)
    assert (store.run(dead.id).status, store.run(dead.id).error_code) == ("failed", "harvest.interrupted")


# The schema of a store written before codes were kept (runs without error_code, quarantine without code).
OLD_SCHEMA = """
CREATE TABLE runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, status TEXT NOT NULL, mode TEXT NOT NULL,
    started_at TEXT NOT NULL, ended_at TEXT, since TEXT, window_start TEXT NOT NULL, window_id INTEGER,
    resumed_from INTEGER, checkpoint TEXT, pages INTEGER NOT NULL DEFAULT 0, records INTEGER NOT NULL DEFAULT 0,
    new INTEGER NOT NULL DEFAULT 0, changed INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0, quarantined INTEGER NOT NULL DEFAULT 0, error TEXT, pid INTEGER
);
CREATE TABLE quarantine (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, run_id INTEGER, local_id TEXT,
    reason TEXT NOT NULL, payload BLOB NOT NULL, location TEXT, created TEXT NOT NULL
);
INSERT INTO runs (source, status, mode, started_at, ended_at, window_start, window_id, error)
    VALUES ('knu', 'failed', 'full', '2026-01-01T00:00:00+00:00', '2026-01-01T00:01:00+00:00',
            '2026-01-01T00:00:00+00:00', 1, 'could not connect to repo.example.kg');
INSERT INTO quarantine (source, local_id, reason, payload, created)
    VALUES ('knu', 'x', 'the record has no title', X'3C64632F3E', '2026-01-01T00:00:30+00:00');
"""


def test_an_older_store_gains_the_code_columns_on_open_and_its_rows_keep_working(tmp_path: Path):
    path = tmp_path / "raw.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
    with RawStore(path) as store:
        [old_run] = store.runs("knu")
        assert (old_run.error, old_run.error_code) == ("could not connect to repo.example.kg", None)
        [old_entry] = store.quarantined("knu")
        assert (old_entry.reason, old_entry.code, old_entry.payload) == ("the record has no title", None, b"<dc/>")
        assert store.source_status("knu").last_error_code is None
        # New rows in the migrated store carry codes.
        store.put_records("knu", [RawRecord(local_id="y", format="oai_dc", payload=b"<dc/>")])
        store.add_quarantine("knu", [Quarantine(reason="bad", local_id="z", code="record.no_title")])
        assert {e.local_id: e.code for e in store.quarantined("knu")} == {"x": None, "z": "record.no_title"}
    with RawStore(path) as again:  # opening a migrated store again changes nothing
        assert len(again.quarantined("knu")) == 2


def test_the_api_lists_a_sources_last_error_code(tmp_path):
    from fastapi.testclient import TestClient

    from fedsearch_app.app import create_app
    from fedsearch_app.jobs import index_writer

    settings = make_settings(tmp_path / "data", {"id": "knu", "connector": "oai-pmh", "url": "http://127.0.0.1:9/oai"})
    with RawStore.for_settings(settings) as store:
        harvest_source(settings, "knu", store)  # nothing listens on port 9
    with index_writer(settings):  # an empty index, so the API can count records
        pass
    with TestClient(create_app(settings)) as client:
        sources = {s["id"]: s for s in client.get("/api/v1/sources").json()["sources"]}
    last = sources["knu"]["last_harvest"]
    assert last["status"] == "failed" and last["error_code"] == "partner.http.unreachable"
