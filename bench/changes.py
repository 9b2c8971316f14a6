"""Re-indexing a few changed records into a large collection: is the cost O(changes)?

    python -m bench.run changes --size 1000000 [--changed 1000] [--engine embedded]

Starts from the data directory an ingest run left (WORK/ingest-<size>-<engine>-full:
raw store, index state and engine, all indexed). Edits `changed` raw records spread
over every source (their title gets a revision mark where the format makes that
simple, otherwise a trailing newline: either way a new content hash, so the harvest
would store them as changed), then times `index_changes`, the step a harvest runs
after storing: normalize, dedup against the whole collection, analyse, write, commit.
The target (issue 10): 1,000 changed records into a million in <= 5 s.
"""

from __future__ import annotations

import re
from typing import Any

from bench.common import WORK, progress, run_child

_TITLE = re.compile(rb"(<dc:title[^>]*>)")


def edit(payload: bytes) -> bytes:
    """The payload with a changed title (oai_dc) or, for other formats, a trailing newline."""
    changed, n = _TITLE.subn(rb"\1(rev.) ", payload, count=1)
    return changed if n else payload + b"\n"


def change_records(config: str, changed: int) -> dict[str, Any]:
    """Edit `changed` stored records, spread evenly over the raw store (run in the child, see children.py)."""
    from connectors.base import RawRecord
    from fedsearch.config import load_config
    from rawstore.store import RawStore

    settings = load_config(config)
    with RawStore.for_settings(settings) as store:
        live = sum(store.counts(s).live for s in store.sources())
        step = max(1, live // changed)
        picked: dict[str, list[RawRecord]] = {}
        for i, stored in enumerate(store.iter_all(include_deleted=False)):
            if i % step == 0 and sum(map(len, picked.values())) < changed:
                picked.setdefault(stored.source, []).append(
                    RawRecord(
                        local_id=stored.local_id,
                        format=stored.format,
                        payload=edit(stored.payload),
                        datestamp=stored.datestamp,
                        deleted=False,
                        sets=list(stored.sets),
                    )
                )
        for source, records in picked.items():
            store.put_records(source, records)
    return {"live": live, "changed": sum(map(len, picked.values()))}


def measure(size: int, engine: str = "embedded", changed: int = 1000, timeout: float = 3600) -> dict[str, Any]:
    data = WORK / f"ingest-{size}-{engine}-full"
    cfg = data / f"{engine}.yaml"
    if not cfg.exists():
        raise SystemExit(
            f"no ingest run to change: {cfg} is missing; run `python -m bench.run ingest --size {size} "
            f"--engines {engine}` first"
        )
    progress(f"[{engine}] editing {changed:,} raw records of the {size:,}-record collection in {data}")
    edited = run_child("bench.children", "change", "--config", str(cfg), "--changed", str(changed), timeout=timeout)
    progress(f"  edited {edited['changed']:,} of {edited['live']:,}; indexing them (indexers.pipeline.index_changes)")
    index = run_child("bench.children", "index", "--config", str(cfg), timeout=timeout)
    progress(
        f"  {index['records']:,} records in {index['seconds']:.2f}s; {index['stages']}; "
        f"{index['searchable']:,} searchable, peak RSS {index['peak_rss_mib']:.0f} MiB"
    )
    return {"size": size, "engine": engine, "collection": edited["live"], "changed": edited["changed"], "index": index}
