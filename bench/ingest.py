"""Ingest (issue 10): raw store -> searchable, beside the engine's own bulk load of the same documents.

In one run:
1. fetch: the connectors harvest the real partners (pyoai, zebrasrv, HTTP files; in
   their own process) into a raw store, once (the same raw records for every engine);
2. for each engine, on a copy of that raw store, the pipeline's index step as a harvest
   runs it (`indexers.pipeline.index_changes`): normalize, dedup, analyse, write, commit.
   Records/s = raw records / time; the child reports where the time went
   (IndexSummary.stages: normalize, dedup, analyse, engine) and its peak RSS;
3. the engine's own bulk load of the same works as pre-built documents
   (bench/rawengine.py). The ratio is works/s of (2) over documents/s of (3).
--skip-raw leaves (3) out (it reads back and re-analyses every work: on a loaded
machine that takes longer than the step measured). Optional: --with-reindex times `fedsearch reindex` too (rebuild from the raw store),
--with-harvest the full harvest (partners -> searchable) in one process.
"""

from __future__ import annotations

import json
import shutil
import time
from contextlib import nullcontext
from typing import Any

import yaml

from bench.common import (
    WORK,
    background,
    drop_es_indices,
    ensure_corpus,
    progress,
    run_child,
    settings_dict,
    write_settings,
)
from rawstore.store import FILENAME as RAW_STORE


def _fresh(engine: str, size: int, tag: str) -> tuple[Any, str]:
    data = WORK / f"ingest-{size}-{engine}-{tag}"
    shutil.rmtree(data, ignore_errors=True)
    prefix = f"fsbench-ingest-{tag}"
    if engine == "elasticsearch":
        drop_es_indices(prefix)
    return data, prefix


def _rate(result: dict[str, Any], key: str = "records") -> float:
    return result[key] / result["seconds"] if result["seconds"] else 0.0


def measure(
    size: int,
    engines: list[str],
    *,
    timeout: float = 7200,
    with_reindex: bool = False,
    with_harvest: bool = False,
    skip_raw: bool = False,
) -> dict[str, Any]:
    corpus, manifest = ensure_corpus(size)
    out: dict[str, Any] = {"size": size, "corpus_records": manifest["records"], "engines": {}, "kind": "raw-store"}
    # Fetch once: connectors into a raw store that every engine's index step starts from.
    # A complete fetch of the same corpus is kept (fetch.json) and reused: it is not what is measured,
    # and then the partners are not started at all (unless --with-harvest needs them).
    fetched = WORK / f"ingest-{size}-embedded-fetch"
    done = fetched / "fetch.json"
    fetch = json.loads(done.read_text()) if done.exists() else None
    reuse = bool(fetch and fetch.get("records") == manifest["records"] and fetch.get("ok"))
    partners_up = background("bench.partners", "--corpus", str(corpus)) if not reuse or with_harvest else nullcontext()
    with partners_up as partners:
        if partners is not None:
            sources = partners.info["sources"]
            if partners.info.get("missing"):
                progress(f"  partners missing: {partners.info['missing']}")
        else:
            sources = yaml.safe_load((fetched / "fetch.yaml").read_text(encoding="utf-8"))["sources"]
        out["sources"] = [s["id"] for s in sources]

        if reuse:
            progress(f"fetch: reusing the raw store of {fetch['records']:,} records in {fetched}")
        else:
            fetched, _ = _fresh("embedded", size, "fetch")
            cfg = fetched / "fetch.yaml"
            write_settings(cfg, settings_dict(fetched, "embedded", sources, "fsbench-ingest-fetch"))
            progress(f"fetch: rawstore.harvest of {manifest['records']:,} records from the partners")
            t = time.perf_counter()
            fetch = run_child("bench.children", "fetch", "--config", str(cfg), timeout=timeout)
            fetch["wall_seconds"] = time.perf_counter() - t
            done.write_text(json.dumps(fetch))
            progress(f"  fetched {fetch['records']:,} in {fetch['seconds']:.1f}s ({_rate(fetch):,.0f}/s)")
        out["fetch"] = fetch

        for engine in engines:
            data, prefix = _fresh(engine, size, "full")
            data.mkdir(parents=True)
            for part in fetched.glob(f"{RAW_STORE}*"):
                shutil.copy2(part, data / part.name)
            cfg = data / f"{engine}.yaml"
            write_settings(cfg, settings_dict(data, engine, sources, prefix))
            progress(f"[{engine}] index: raw store -> searchable (indexers.pipeline.index_changes)")
            index = run_child("bench.children", "index", "--config", str(cfg), timeout=timeout)
            progress(
                f"  {index['records']:,} records -> {index['searchable']:,} searchable in {index['seconds']:.1f}s "
                f"({_rate(index):,.0f} records/s), peak RSS {index['peak_rss_mib']:.0f} MiB; {index['stages']}"
            )
            row: dict[str, Any] = {
                "index": index,
                "records_per_s": _rate(index),
                "works_per_s": index["searchable"] / index["seconds"],
            }
            if with_reindex:
                progress(f"[{engine}] reindex: raw store -> fresh state and index")
                reindex = run_child("bench.children", "reindex", "--config", str(cfg), timeout=timeout)
                row["reindex"] = reindex
                row["reindex_per_s"] = _rate(reindex)
                progress(
                    f"  {reindex['records']:,} in {reindex['seconds']:.1f}s ({row['reindex_per_s']:,.0f}/s); {reindex['stages']}"
                )
            if not skip_raw:
                progress(f"[{engine}] the engine's own bulk load of the same documents")
                raw = run_child("bench.children", "rawbulk", "--config", str(cfg), timeout=timeout)
                progress(f"  {raw['documents']:,} in {raw['seconds']:.1f}s ({raw['docs_per_s']:,.0f}/s)")
                row["raw"] = raw
                row["raw_per_s"] = raw["docs_per_s"]
                row["ratio"] = row["works_per_s"] / raw["docs_per_s"]
            if with_harvest:
                hdata, hprefix = _fresh(engine, size, "harvest")
                hcfg = hdata / f"{engine}.yaml"
                write_settings(hcfg, settings_dict(hdata, engine, sources, hprefix))
                progress(f"[{engine}] full harvest in one process: partners -> searchable")
                full = run_child("bench.children", "harvest", "--config", str(hcfg), "--full", timeout=timeout)
                row["harvest"] = full
                row["harvest_per_s"] = full["searchable"] / full["seconds"]
                progress(
                    f"  {full['searchable']:,} searchable in {full['seconds']:.1f}s ({row['harvest_per_s']:,.0f}/s)"
                )
                if engine == "elasticsearch":
                    drop_es_indices(hprefix)
            out["engines"][engine] = row
            if engine == "elasticsearch":
                drop_es_indices(prefix)
    return out
