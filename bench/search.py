"""Search latency and throughput: /api/v1/search (with facets) beside the engine queried directly.

For one engine and corpus size: build the index once (raw store filled from the
corpus files, then the real `indexers.pipeline.reindex`), start the server
(`fedsearch_app.app.serve`) in its own process, and send the same queries through
the API and straight to the engine, in alternating passes at concurrency 1
and 8, so both sides see the same machine noise.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    WORK, background, ensure_corpus, free_port, peak_rss_mib, progress, run_child, settings_dict, summary_ms,
    write_settings, median,
)
from bench.load import Pass, run_pass  # noqa: F401 - Pass is the type of `passes`
from bench.queries import bench_queries
from bench.rawload import file_sources

CONCURRENCY = (1, 8)
# Above this size the index is built without the pipeline (see bench/children.py fastbuild):
# the pipeline's reindex slows as its dedup state grows and would take hours at 300k and 1M.
PIPELINE_BUILD_LIMIT = 100_000


def index_settings_for(size: int, engine: str):
    corpus, manifest = ensure_corpus(size)
    data = WORK / f"search-{size}"
    cfg = data / f"{engine}.yaml"
    config = settings_dict(data, engine, file_sources(corpus), f"fsbench-{size}")
    config["reach"] = {"import_dirs": [str(corpus)]}  # the corpus files are read in place (docs/security.md)
    settings = write_settings(cfg, config)
    return corpus, manifest, data, cfg, settings


def ensure_index(size: int, engine: str, build_timeout: float) -> tuple[Path, Any, dict[str, Any]]:
    corpus, manifest, data, cfg, settings = index_settings_for(size, engine)
    stamp = data / f"built-{engine}.json"
    from bench.children import searchable_count

    if stamp.exists():
        built = json.loads(stamp.read_text())
        try:
            if searchable_count(settings) == built["searchable"] > 0:
                progress(f"reusing the {engine} index of {size:,} records ({built['searchable']:,} searchable)")
                return cfg, settings, built
        except Exception as err:  # noqa: BLE001 - rebuild
            progress(f"the saved {engine} index can't be used ({err}); rebuilding")
    other = next((e for e in ("embedded", "elasticsearch") if e != engine and (data / f"built-{e}.json").exists()), None)
    harvested = WORK / f"ingest-{size}-embedded-full"
    if engine == "embedded" and not other and (harvested / "index").is_dir():
        # The ingest benchmark's index step (harvested raw store -> pipeline) left exactly this index: use a copy.
        progress(f"using a copy of the index the ingest benchmark's index step built ({harvested})")
        shutil.rmtree(data / "index", ignore_errors=True)
        started = time.perf_counter()
        shutil.copytree(harvested / "index", data / "index")
        built = {"exit_code": 0, "copied_from_dir": str(harvested), "copy_seconds": time.perf_counter() - started,
                 "searchable": searchable_count(settings), "peak_rss_mib": None, "reused": "ingest index step"}
    elif other:
        # The pipeline already turned this corpus into merged records for the other engine:
        # index the same records (engine.rebuild, as reindex does) instead of normalizing again.
        progress(f"building the {engine} index for {size:,} records from the {other} index's records")
        built = run_child("bench.children", "copy", "--config", str(cfg), "--source-config", str(data / f"{other}.yaml"),
                          timeout=build_timeout)
    elif size > PIPELINE_BUILD_LIMIT:
        progress(f"building the {engine} index for {size:,} records (normalize in parallel, engine.rebuild, no dedup)")
        built = run_child("bench.children", "fastbuild", "--config", str(cfg), "--corpus", str(corpus), timeout=build_timeout)
    else:
        progress(f"building the {engine} index for {size:,} records (raw store from files, then pipeline.reindex)")
        built = run_child("bench.children", "build", "--config", str(cfg), "--corpus", str(corpus), timeout=build_timeout)
    built["corpus_records"] = manifest["records"]
    stamp.write_text(json.dumps(built))
    took = built.get("reindex_seconds") or built.get("copy_seconds") or built.get("fastbuild_seconds") or 0
    rss = f", peak RSS {built['peak_rss_mib']:.0f} MiB" if built.get("peak_rss_mib") else ""
    progress(f"  built: {built['searchable']:,} searchable in {took:.0f}s{rss}")
    return cfg, settings, built


def measure(size: int, engine: str, *, rounds: int = 10, budget: float = 600, build_timeout: float = 7200,
            n_queries: int = 120) -> dict[str, Any]:
    cfg, settings, built = ensure_index(size, engine, build_timeout)
    queries = bench_queries(n_queries)
    if engine == "elasticsearch":
        from bench.rawengine import RawElasticsearch as Raw
    else:
        from bench.rawengine import RawTantivy as Raw
    raw = Raw(settings)
    prepared = [raw.prepare(q.search_query()) for q in queries]
    port = free_port()
    progress(f"starting the API server ({engine}, {size:,}) on port {port}")
    with background("bench.children", "serve", "--config", str(cfg), "--port", str(port)) as server:
        base = f"http://127.0.0.1:{port}"

        def api_worker():
            client = httpx.Client(base_url=base, timeout=120)

            def work(i: int) -> None:
                resp = client.get("/api/v1/search", params=queries[i].api_params())
                resp.raise_for_status()

            return work

        def raw_worker():
            if engine == "elasticsearch":
                client = raw.client()
                return lambda i: raw.run(prepared[i], client)
            return lambda i: raw.run(prepared[i])

        # Sanity: both sides find the same number of records.
        check = httpx.Client(base_url=base, timeout=120)
        direct = raw_worker()
        mismatches = 0
        for i, q in enumerate(queries):
            api_total = check.get("/api/v1/search", params=q.api_params()).raise_for_status().json()["total"]
            mismatches += api_total != direct(i)
        progress(f"  warm-up done; {mismatches} of {len(queries)} queries count differently through the API")
        passes: dict[tuple[str, int], list[Pass]] = {}
        started = time.monotonic()
        deadline = started + budget
        for r in range(rounds):
            order = [("api", c) for c in CONCURRENCY] + [("raw", c) for c in CONCURRENCY]
            random.Random(r).shuffle(order)
            for mode, conc in order:
                if time.monotonic() > deadline:
                    break
                items = list(range(len(queries)))
                random.Random(r * 100 + conc).shuffle(items)
                p = run_pass(items, conc, api_worker if mode == "api" else raw_worker, deadline)
                passes.setdefault((mode, conc), []).append(p)
                progress(f"  round {r + 1}/{rounds} {mode:>3} c={conc}: {len(p.latencies)} requests, "
                         f"p50 {summary_ms(p.latencies)['p50']:.1f} ms, {p.throughput:.1f}/s"
                         + (f", {p.errors} errors" if p.errors else ""))
        server_rss = peak_rss_mib(server.pid)
    raw.close()
    out: dict[str, Any] = {"engine": engine, "size": size, "searchable": built["searchable"], "queries": len(queries),
                           "rounds": rounds, "count_mismatches": mismatches, "server_peak_rss_mib": server_rss,
                           "build": built, "results": {}}
    for (mode, conc), ps in sorted(passes.items()):
        lat = [x for p in ps for x in p.latencies]
        out["results"][f"{mode}-c{conc}"] = {**summary_ms(lat), "throughput": median([p.throughput for p in ps]),
                                            "errors": sum(p.errors for p in ps), "passes": len(ps)}
    for conc in CONCURRENCY:
        a, b = out["results"].get(f"api-c{conc}"), out["results"].get(f"raw-c{conc}")
        if a and b:
            out["results"][f"ratio-c{conc}"] = {"p50": a["p50"] / b["p50"], "p95": a["p95"] / b["p95"],
                                               "throughput": b["throughput"] / a["throughput"] if a["throughput"] else None}
    return out
