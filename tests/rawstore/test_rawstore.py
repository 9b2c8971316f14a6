"""The raw store: what changed since it was last indexed, deletions, quarantine, runs."""

from __future__ import annotations

import threading

from connectors.base import Quarantine, RawRecord
from rawstore.store import RawStore


def rec(local_id: str, payload: bytes = b"<dc/>", *, deleted: bool = False, sets=()) -> RawRecord:
    return RawRecord(local_id=local_id, format="oai_dc", payload=payload, deleted=deleted, sets=list(sets))


def test_counts_new_changed_unchanged_deleted(store):
    c = store.put_records("s", [rec("a"), rec("b"), rec("c")])
    assert (c.new, c.changed, c.unchanged, c.deleted) == (3, 0, 0, 0)
    c = store.put_records("s", [rec("a"), rec("b", b"<dc>v2</dc>"), rec("c", sets=["x"]), rec("d", deleted=True)])
    assert (c.new, c.changed, c.unchanged, c.deleted) == (0, 2, 1, 1)  # d: a deletion we never had, kept as one
    c = store.put_records("s", [rec("a", deleted=True), rec("a", deleted=True), rec("d", b"<dc>back</dc>")])
    assert (c.deleted, c.unchanged, c.changed) == (1, 1, 1)  # a deleted once; d came back
    a = store.get("s", "a")
    assert a.deleted and a.payload == b"<dc/>"  # the last live payload is kept for people to see
    assert store.counts("s").live == 3 and store.counts("s").deleted == 1


def test_the_indexer_gets_only_what_changed_since_it_last_indexed(store):
    store.put_records("s", [rec("a"), rec("b")])
    store.put_records("t", [rec("z")])
    assert [r.key for r in store.iter_changed()] == [("s", "a"), ("s", "b"), ("t", "z")]
    assert store.mark_indexed(store.iter_changed("s")) == 2
    assert [r.key for r in store.iter_changed()] == [("t", "z")]

    store.put_records("s", [rec("a"), rec("b", b"<dc>new</dc>")])  # a unchanged, b changed
    assert [r.key for r in store.iter_changed("s")] == [("s", "b")]
    store.put_records("s", [rec("a", deleted=True)])
    pending = {r.local_id: r.state for r in store.iter_changed("s")}
    assert pending["a"] == "deleted" and len(pending["b"]) == 64


def test_a_record_that_changes_while_being_indexed_stays_pending(store):
    store.put_records("s", [rec("a", b"v1")])
    (seen,) = store.iter_changed("s")
    store.put_records("s", [rec("a", b"v2")])  # a harvest in between
    assert store.mark_indexed([seen]) == 0
    (again,) = store.iter_changed("s")
    assert again.payload == b"v2"
    assert store.mark_indexed([("s", "a")]) == 1  # a bare key marks whatever is stored
    assert list(store.iter_changed("s")) == []


def test_iteration_reads_in_batches_and_survives_marking_as_it_goes(store):
    store.put_records("s", [rec(f"r{i:04d}") for i in range(1234)])
    done = 0
    for r in store.iter_changed("s", batch=100):
        done += store.mark_indexed([r])
    assert done == 1234 and store.counts("s").unindexed == 0
    store.put_records("s", [rec("r0001", deleted=True)])
    assert len(list(store.iter_all("s"))) == 1234
    assert len(list(store.iter_all("s", include_deleted=False))) == 1233


def test_quarantine_keeps_one_entry_per_bad_record_and_can_be_cleared(store):
    run = store.start_run("s", mode="full", since=None)
    bad = [Quarantine(reason="broken", local_id="x", payload=b"<x"), Quarantine(reason="garbage", location="page 2")]
    store.commit_page(run, [], bad, None, new_page=True)
    store.commit_page(run, [], bad, None, new_page=True)  # the same bad input met again
    entries = store.quarantined("s")
    assert {(q.local_id, q.location) for q in entries} == {(None, "page 2"), ("x", None)}
    assert store.counts("s").quarantined == 2 and store.run(run.id).quarantined == 4
    assert store.delete_quarantined([entries[0].id]) == 1
    assert len(store.quarantined("s")) == 1

    # The indexer quarantines what it cannot normalize; the record arriving changed clears it.
    store.put_records("s", [rec("y")])
    assert (
        store.add_quarantine(
            "s", [Quarantine(reason="could not be normalized: no title", local_id="y", location="indexing")]
        )
        == 1
    )
    assert [q.local_id for q in store.quarantined("s")][0] == "y"
    store.put_records("s", [rec("y")])  # harvested again, unchanged: it would fail again, so it stays
    assert "y" in {q.local_id for q in store.quarantined("s")}
    store.put_records("s", [rec("y", b"<dc>with a title</dc>")])
    assert "y" not in {q.local_id for q in store.quarantined("s")}


def test_delete_source_forgets_everything_about_it(store):
    store.put_records("s", [rec("a")])
    run = store.start_run("s", mode="full", since=None)
    store.finish_run(run, "ok")
    store.put_records("t", [rec("a")])
    assert store.delete_source("s") == {"records": 1, "runs": 1, "quarantined": 0}
    assert store.sources() == ["t"]


def test_wal_lets_readers_read_while_a_harvest_writes(tmp_path):
    store = RawStore(tmp_path / "raw.sqlite3")
    assert store._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    store.put_records("s", [rec("a")])
    seen = []
    with store.transaction() as conn:  # a harvest page being written, not committed yet
        conn.execute("UPDATE records SET payload = x'00' WHERE local_id = 'a'")
        reader = threading.Thread(target=lambda: seen.append(store.get("s", "a").payload))
        reader.start()
        reader.join(5)
    assert seen == [b"<dc/>"]
    store.close()


def test_runs_newest_first_and_the_last_success(store):
    first = store.start_run("s", mode="full", since=None)
    store.finish_run(first, "ok")
    second = store.start_run("s", mode="incremental", since=first.window_start)
    store.finish_run(second, "failed", "the server answered 500")
    assert [r.id for r in store.runs("s")] == [second.id, first.id]
    assert store.last_successful_run("s").id == first.id
    status = store.source_status("s")
    assert status.last_error == "the server answered 500" and status.last_run.id == second.id


def test_a_record_listed_twice_in_one_page_ends_as_its_last_copy(store):
    # New records of a page go in together; a second copy in the same page must still win.
    c = store.put_records("s", [rec("a"), rec("b"), rec("a", b"<dc>v2</dc>"), rec("c"), rec("b", deleted=True)])
    assert (c.records, c.new, c.changed, c.deleted) == (5, 3, 1, 1)
    assert store.get("s", "a").payload == b"<dc>v2</dc>"
    assert store.get("s", "b").deleted and store.get("s", "b").payload == b"<dc/>"
    assert store.counts("s").live == 2


def test_a_new_record_clears_what_a_harvest_quarantined_under_its_id_and_nothing_else(store):
    run = store.start_run("s", mode="full", since=None)
    store.commit_page(
        run,
        [],
        [
            Quarantine(reason="broken", local_id="x", payload=b"<x"),
            Quarantine(reason="broken", local_id="w", payload=b"<w"),
        ],
        None,
        new_page=True,
    )
    store.commit_page(run, [rec("x"), rec("v")], [], None, new_page=True)
    assert [q.local_id for q in store.quarantined("s")] == ["w"]
    assert store.get("s", "x") is not None and store.counts("s").live == 2
