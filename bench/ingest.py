"""Ingest: the raw partner formats to searchable records, beside the engine's own bulk load.

For each engine, in this order and in one run:
1. full harvest through the real partners (pyoai, zebrasrv, HTTP files; in their
   own process) with the real pipeline (`indexers.pipeline.harvest`): fetch,
   raw store, normalize, dedup, index, commit. Records/s = searchable / time.
2. the parts: `connectors.harvest` alone (fetch into a raw store), to show where time
   goes; with --with-reindex also `indexers.pipeline.reindex` (raw store -> searchable).
3. the engine's own bulk load of the same records as pre-built documents
   (bench/rawengine.py). The ratio is (1) over (3).
"""

from __future__ import annotations

import shutil
import time
from typing import Any

from bench.common import WORK, background, drop_es_indices, ensure_corpus, progress, run_child, settings_dict, write_settings


def _fresh(engine: str, size: int, tag: str) -> tuple[Any, str]:
    data = WORK / f"ingest-{size}-{engine}-{tag}"
    shutil.rmtree(data, ignore_errors=True)
    prefix = f"fsbench-ingest-{tag}"
    if engine == "elasticsearch":
        drop_es_indices(prefix)
    return data, prefix


def measure(size: int, engines: list[str], *, timeout: float = 7200, with_reindex: bool = False) -> dict[str, Any]:
    corpus, manifest = ensure_corpus(size)
    out: dict[str, Any] = {"size": size, "corpus_records": manifest["records"], "engines": {}}
    with background("bench.partners", "--corpus", str(corpus)) as partners:
        sources = partners.info["sources"]
        if partners.info.get("missing"):
            progress(f"  partners missing: {partners.info['missing']}")
        out["sources"] = [s["id"] for s in sources]

        # Fetch alone (the same for both engines): connectors into a raw store.
        data, prefix = _fresh("embedded", size, "fetch")
        cfg = data / "fetch.yaml"
        write_settings(cfg, settings_dict(data, "embedded", sources, prefix))
        progress(f"fetch only: connectors.harvest of {manifest['records']:,} records from the partners")
        t = time.perf_counter()
        fetch = run_child("bench.children", "fetch", "--config", str(cfg), timeout=timeout)
        fetch["wall_seconds"] = time.perf_counter() - t
        out["fetch"] = fetch
        progress(f"  fetched {fetch['records']:,} in {fetch['seconds']:.1f}s ({fetch['records'] / fetch['seconds']:,.0f}/s)")

        for engine in engines:
            data, prefix = _fresh(engine, size, "full")
            cfg = data / f"{engine}.yaml"
            write_settings(cfg, settings_dict(data, engine, sources, prefix))
            progress(f"[{engine}] full harvest through the pipeline: partners -> searchable")
            full = run_child("bench.children", "harvest", "--config", str(cfg), "--full", timeout=timeout)
            progress(f"  {full['searchable']:,} searchable in {full['seconds']:.1f}s "
                     f"({full['searchable'] / full['seconds']:,.0f}/s), peak RSS {full['peak_rss_mib']:.0f} MiB")
            reindex = None
            if with_reindex:
                progress(f"[{engine}] reindex: raw store -> searchable")
                reindex = run_child("bench.children", "reindex", "--config", str(cfg), timeout=timeout)
                progress(f"  {reindex['searchable']:,} in {reindex['seconds']:.1f}s ({reindex['searchable'] / reindex['seconds']:,.0f}/s)")
            progress(f"[{engine}] the engine's own bulk load of the same documents")
            raw = run_child("bench.children", "rawbulk", "--config", str(cfg), timeout=timeout)
            progress(f"  {raw['documents']:,} in {raw['seconds']:.1f}s ({raw['docs_per_s']:,.0f}/s)")
            out["engines"][engine] = {
                "full": full, "reindex": reindex, "raw": raw,
                "ingest_per_s": full["searchable"] / full["seconds"],
                "raw_per_s": raw["docs_per_s"],
                "ratio": (full["searchable"] / full["seconds"]) / raw["docs_per_s"],
            }
            if reindex:
                out["engines"][engine]["reindex_per_s"] = reindex["searchable"] / reindex["seconds"]
                out["engines"][engine]["reindex_ratio"] = out["engines"][engine]["reindex_per_s"] / raw["docs_per_s"]
            if engine == "elasticsearch":
                drop_es_indices(prefix)
    return out
