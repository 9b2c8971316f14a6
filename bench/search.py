"""Search latency and throughput: /api/v1/search (with facets) beside the engine queried directly.

For one engine and corpus size: build the index once (raw store filled from the
corpus files, then the real `indexers.pipeline.reindex`), start the server
(`fedsearch_app.app.serve`) in its own process, and send the same queries through
the API and straight to the engine, in alternating passes at concurrency 1
and 8, so both sides see the same machine noise.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.common import (
    WORK,
    background,
    ensure_corpus,
    free_port,
    median,
    peak_rss_mib,
    progress,
    run_child,
    settings_dict,
    summary_ms,
    write_settings,
)
from bench.load import Pass, run_pass
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
        except Exception as err:
            progress(f"the saved {engine} index can't be used ({err}); rebuilding")
    other = next(
        (e for e in ("embedded", "elasticsearch") if e != engine and (data / f"built-{e}.json").exists()), None
    )
    harvested = WORK / f"ingest-{size}-embedded-full"
    if engine == "embedded" and not other and (harvested / "index").is_dir():
        # The ingest benchmark's index step (harvested raw store -> pipeline) left exactly this index: use a copy.
        progress(f"using a copy of the index the ingest benchmark's index step built ({harvested})")
        shutil.rmtree(data / "index", ignore_errors=True)
        started = time.perf_counter()
        shutil.copytree(harvested / "index", data / "index")
        built = {
            "exit_code": 0,
            "copied_from_dir": str(harvested),
            "copy_seconds": time.perf_counter() - started,
            "searchable": searchable_count(settings),
            "peak_rss_mib": None,
            "reused": "ingest index step",
        }
    elif other:
        # The pipeline already turned this corpus into merged records for the other engine:
        # index the same records (engine.rebuild, as reindex does) instead of normalizing again.
        progress(f"building the {engine} index for {size:,} records from the {other} index's records")
        built = run_child(
            "bench.children",
            "copy",
            "--config",
            str(cfg),
            "--source-config",
            str(data / f"{other}.yaml"),
            timeout=build_timeout,
        )
    elif size > PIPELINE_BUILD_LIMIT:
        progress(f"building the {engine} index for {size:,} records (normalize in parallel, engine.rebuild, no dedup)")
        built = run_child(
            "bench.children", "fastbuild", "--config", str(cfg), "--corpus", str(corpus), timeout=build_timeout
        )
    else:
        progress(f"building the {engine} index for {size:,} records (raw store from files, then pipeline.reindex)")
        built = run_child(
            "bench.children", "build", "--config", str(cfg), "--corpus", str(corpus), timeout=build_timeout
        )
    built["corpus_records"] = manifest["records"]
    stamp.write_text(json.dumps(built))
    took = built.get("reindex_seconds") or built.get("copy_seconds") or built.get("fastbuild_seconds") or 0
    rss = f", peak RSS {built['peak_rss_mib']:.0f} MiB" if built.get("peak_rss_mib") else ""
    progress(f"  built: {built['searchable']:,} searchable in {took:.0f}s{rss}")
    return cfg, settings, built


# What /api/v1/search does that its reference does not (docs/benchmarks.md lists these next to the table).
WORK_DIFFERENCES = {
    "both": [
        (
            "parses and validates the query string (FastAPI, `SearchParams`, `SearchQuery`) on every request, and "
            "compiles a query text to the engine's query the first time it sees it (then from an LRU, as the 120 "
            "bench queries repeat); the reference's queries were prepared once at start"
        ),
        "highlights the 20 hits (title, authors, subjects, abstract window) and adds `title_html`",
        "builds each hit's response (links, holdings, record URLs), the `query` echo and the `next` cursor link",
        (
            "parses the stored records' JSON (orjson, not validated again) to build its own hits instead of passing "
            "it through; queries with under 10 hits, which the engine may widen, validate their records (pydantic)"
        ),
        (
            "runs the middleware stack: metrics, rate limit, engine gate (circuit breaker), HEAD/OPTIONS; "
            "adds an ETag and Cache-Control (If-None-Match answers 304)"
        ),
    ],
    "embedded": [
        (
            "asks tantivy again when the 11th facet bucket ties with the 10th (exact tie order); the reference takes "
            "tantivy's first answer"
        ),
        (
            "facet counts of queries without words (the `browse` queries, ~4%) come from the facet cache while the "
            "index is unchanged; the reference counts them every time"
        ),
    ],
    "elasticsearch": [
        "decodes Elasticsearch's JSON (orjson) and re-encodes its own; the reference client only reads the response",
        (
            "our engine adapter talks to Elasticsearch through the official Python client (its own connection pool; "
            "bodies encoded and decoded with orjson)"
        ),
    ],
}
# Both sides: no access log, no compression (the clients send Accept-Encoding: identity),
# the same uvicorn worker count for the API and the bare endpoint.
CLIENT_HEADERS = {"Accept-Encoding": "identity"}


def _reference(engine: str, cfg: Path, settings, n_queries: int, workers: int):
    """(start the reference, worker factory, totals): the bare endpoint for tantivy, `_search` for Elasticsearch."""
    if engine == "elasticsearch":
        from bench.rawengine import RawElasticsearch

        raw = RawElasticsearch(settings)
        prepared = [raw.prepare(q.search_query()) for q in bench_queries(n_queries)]

        def es_worker():
            client = httpx.Client(timeout=120, headers={"Content-Type": "application/json", **CLIENT_HEADERS})
            return lambda i: (
                client.post(raw.url, content=prepared[i]).raise_for_status().json()["hits"]["total"]["value"]
            )

        return None, es_worker, raw.close
    port = free_port()
    server = background(
        "bench.bareapi",
        "--config",
        str(cfg),
        "--port",
        str(port),
        "--queries",
        str(n_queries),
        "--workers",
        str(workers),
    )

    def bare_worker():
        client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120, headers=CLIENT_HEADERS)
        return lambda i: client.get("/search", params={"i": i}).raise_for_status().json()["total"]

    return server, bare_worker, lambda: None


def measure(
    size: int,
    engine: str,
    *,
    rounds: int = 10,
    budget: float = 600,
    build_timeout: float = 7200,
    n_queries: int = 120,
    workers: int = 2,
) -> dict[str, Any]:
    cfg, settings, built = ensure_index(size, engine, build_timeout)
    queries = bench_queries(n_queries)
    port = free_port()
    progress(f"starting the API server ({engine}, {size:,}, {workers} workers) on port {port} and its reference")
    ref_server, ref_worker, ref_close = _reference(engine, cfg, settings, n_queries, workers)
    with (
        background(
            "bench.children", "serve", "--config", str(cfg), "--port", str(port), "--workers", str(workers)
        ) as server,
        ref_server or _nothing(),
    ):
        base = f"http://127.0.0.1:{port}"

        def api_worker():
            client = httpx.Client(base_url=base, timeout=120, headers=CLIENT_HEADERS)
            return lambda i: (
                client.get("/api/v1/search", params=queries[i].api_params()).raise_for_status().json()["total"]
            )

        # Sanity, and warm-up of every worker process: both sides find the same number of records.
        api, ref = api_worker(), ref_worker()
        mismatches = 0
        for _ in range(max(1, workers)):
            mismatches = sum(api(i) != ref(i) for i in range(len(queries)))
        progress(f"  warm-up done; {mismatches} of {len(queries)} queries count differently through the API")
        passes: dict[tuple[str, int], list[Pass]] = {}
        load_before = os.getloadavg()
        deadline = time.monotonic() + budget
        for r in range(rounds):
            order = [("api", c) for c in CONCURRENCY] + [("ref", c) for c in CONCURRENCY]
            random.Random(r).shuffle(order)
            for mode, conc in order:
                if time.monotonic() > deadline:
                    break
                items = list(range(len(queries)))
                random.Random(r * 100 + conc).shuffle(items)
                p = run_pass(items, conc, api_worker if mode == "api" else ref_worker, deadline)
                passes.setdefault((mode, conc), []).append(p)
                progress(
                    f"  round {r + 1}/{rounds} {mode:>3} c={conc}: {len(p.latencies)} requests, "
                    f"p50 {summary_ms(p.latencies)['p50']:.1f} ms, {p.throughput:.1f}/s"
                    + (f", {p.errors} errors" if p.errors else "")
                )
        load_after = os.getloadavg()
        server_rss = peak_rss_mib(server.pid)
        worker_rss = max((peak_rss_mib(pid) or 0.0 for pid in _children(server.pid)), default=None)
    ref_close()
    reference = (
        "bare uvicorn endpoint over tantivy (bench/bareapi.py)"
        if engine == "embedded"
        else "Elasticsearch REST `_search`"
    )
    out: dict[str, Any] = {
        "engine": engine,
        "size": size,
        "searchable": built["searchable"],
        "queries": len(queries),
        "rounds": rounds,
        "workers": workers,
        "reference": reference,
        "work_differences": WORK_DIFFERENCES["both"] + WORK_DIFFERENCES[engine],
        "load_avg_before": [round(x, 2) for x in load_before],
        "load_avg_after": [round(x, 2) for x in load_after],
        "count_mismatches": mismatches,
        "server_peak_rss_mib": server_rss,
        "worker_peak_rss_mib": worker_rss,
        "build": built,
        "results": {},
    }
    for (mode, conc), ps in sorted(passes.items()):
        lat = [x for p in ps for x in p.latencies]
        out["results"][f"{mode}-c{conc}"] = {
            **summary_ms(lat),
            "throughput": median([p.throughput for p in ps]),
            "errors": sum(p.errors for p in ps),
            "passes": len(ps),
        }
    for conc in CONCURRENCY:
        a, b = out["results"].get(f"api-c{conc}"), out["results"].get(f"ref-c{conc}")
        if a and b:
            out["results"][f"ratio-c{conc}"] = {
                "p50": a["p50"] / b["p50"],
                "p95": a["p95"] / b["p95"],
                "throughput": a["throughput"] / b["throughput"] if b["throughput"] else None,
            }
    return out


def _children(pid: int) -> list[int]:
    """The worker processes of a multi-process server (uvicorn's supervisor is `pid`)."""
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@contextmanager
def _nothing() -> Iterator[None]:
    yield None
