"""Normalizing in worker processes gives what normalizing in the indexer gives, batch by batch, in order."""

from __future__ import annotations

from connectors.rawstore import StoredRecord
from fedsearch.config import SourceConfig
from indexers.parallel import Normalizer


def stored(source: str, raw, deleted: bool = False, payload: bytes | None = None) -> StoredRecord:
    return StoredRecord(source=source, local_id=raw.local_id, format=raw.format,
                        payload=raw.payload if payload is None else payload, content_hash="h", datestamp=None,
                        deleted=deleted, sets=[], first_seen="", last_seen="", changed_at="", run_id=None,
                        indexed_hash=None)


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
        assert a.removed == b.removed
        assert [(s.local_id, reason) for s, reason in a.failed] == [(s.local_id, reason) for s, reason in b.failed]
    first = there[0][1]
    assert [s.local_id for s, _ in first.failed] == [raws[1].local_id]
    assert len(first.removed) == 2 and len(first.fresh) == 1
    assert len(there[1][1].removed) == 1  # the unknown source's record
    assert sum(len(b.fresh) for _, b in there) == len(raws) - 2  # all but the broken and the deleted one
