"""Normalizing in worker processes gives what normalizing in the indexer gives, batch by batch, in order."""

from __future__ import annotations

from fedsearch.config import SourceConfig
from indexers.parallel import Normalizer
from rawstore.models import StoredRecord


def stored(source: str, raw, deleted: bool = False, payload: bytes | None = None) -> StoredRecord:
    return StoredRecord(
        source=source,
        local_id=raw.local_id,
        format=raw.format,
        payload=raw.payload if payload is None else payload,
        content_hash="h",
        datestamp=None,
        deleted=deleted,
        sets=[],
        first_seen="",
        last_seen="",
        changed_at="",
        run_id=None,
        indexed_hash=None,
    )


def test_workers_normalize_like_the_indexer_in_the_same_order(oai, source: SourceConfig):
    raws = oai("oai-cyberleninka-listrecords-oai_dc-russian-truncated.xml")
    assert len(raws) >= 4
    items = [stored(source.id, r) for r in raws]
    items[1] = stored(source.id, raws[1], payload=b"<not xml")  # quarantined, with its reason
    items[2] = stored(source.id, raws[2], deleted=True)  # taken out
    items.append(stored("no-such-source", raws[3]))  # its source left the configuration: taken out
    batches = [items[:3], items[3:]]
    sources = {source.id: source}

    with Normalizer(sources, workers=0) as inline, Normalizer(sources, workers=2) as pool:
        here = list(inline.ahead(batches))
        there = list(pool.ahead(batches))

    assert [b for b, _ in there] == batches  # each result with its own batch, in order
    for (_, a), (_, b) in zip(here, there, strict=True):
        assert [r.model_dump_json() for r in a.fresh] == [r.model_dump_json() for r in b.fresh]
        assert a.feats == b.feats
        assert a.filed == b.filed and a.lookups == b.lookups
        assert {k: {**d, "updated": 0} for k, d in a.docs.items()} == {
            k: {**d, "updated": 0} for k, d in b.docs.items()
        }
        assert a.removed == b.removed
        assert [(s.local_id, reason) for s, reason in a.failed] == [(s.local_id, reason) for s, reason in b.failed]
    first = there[0][1]
    assert [s.local_id for s, _ in first.failed] == [raws[1].local_id]
    assert len(first.removed) == 2 and len(first.fresh) == 1
    assert len(there[1][1].removed) == 1  # the unknown source's record
    assert sum(len(b.fresh) for _, b in there) == len(raws) - 2  # all but the broken and the deleted one


def test_workers_die_with_a_killed_indexer(tmp_path):
    """kill -9 of the indexer must not leave its worker processes waiting for work forever."""
    import os
    import signal
    import subprocess
    import sys
    import time

    script = (
        "import os, sys, time\n"
        "from rawstore.models import StoredRecord\n"
        "from indexers.parallel import Normalizer\n"
        "gone = StoredRecord('s', '1', 'oai_dc', b'', 'h', None, True, [], '', '', '', None, None)\n"
        "with Normalizer({}, workers=2) as n:\n"
        "    list(n.ahead([[gone]]))\n"  # the workers exist once a batch went through
        "    print(' '.join(str(p) for p in n._pool._processes), flush=True)\n"
        "    time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        pids = [int(p) for p in proc.stdout.readline().split()]
        assert pids  # (workers start on demand: one batch part, one worker)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    def alive(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as f:
                return f.read().split(") ")[1][0] != "Z"
        except FileNotFoundError:
            return False

    deadline = time.monotonic() + 60
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(alive(p) for p in pids), f"workers {pids} outlived the killed indexer"
    for p in pids:  # tidy, should the assertion above ever be relaxed
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_what_the_workers_prepare_is_what_the_indexer_would_compute(oai, source: SourceConfig):
    """Blocking keys and engine documents made ahead equal those made from the record in the indexer;
    both engines build from a Prepared record the document they build from the bare Record."""
    from fedsearch.engines.document import index_document
    from fedsearch.engines.embedded.documents import DocumentBuilder
    from fedsearch.engines.prepared import Prepared, document_of
    from indexers.dedup import features, file_keys, lookup_keys
    from indexers.parallel import normalize_batch

    raws = oai("oai-cyberleninka-listrecords-oai_dc-russian-truncated.xml")
    done = normalize_batch([stored(source.id, r) for r in raws], {source.id: source})
    assert done.fresh and set(done.docs) == {r.id for r in done.fresh}
    builder = DocumentBuilder()
    for record in done.fresh:
        f = features(record)
        assert done.filed[record.id] == file_keys(f) and done.lookups[record.id] == lookup_keys(f)
        assert {**done.docs[record.id], "updated": 0} == {**index_document(record), "updated": 0}
        # Elasticsearch's bulk writes send document_of(item) as it is
        assert {**document_of(Prepared(record, done.docs[record.id]))[1], "updated": 0} == {
            **document_of(record)[1],
            "updated": 0,
        }
        assert done.docs[record.id]["record"] == record.model_dump_json(exclude_none=True)  # what the state keeps
        plain = builder.build(record)[1].to_dict()
        prepared = builder.build(Prepared(record, done.docs[record.id]))[1].to_dict()
        plain.pop("updated"), prepared.pop("updated")
        assert prepared == plain
