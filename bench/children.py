"""The measured work, each in its own process so its time and peak memory are its own.

    python -m bench.children harvest --config CFG [--full] [--source ID]
    python -m bench.children fetch   --config CFG                  (connectors only, into the raw store)
    python -m bench.children index   --config CFG                  (harvest's index step: raw store -> searchable)
    python -m bench.children change  --config CFG --changed N      (edit N raw records of an indexed collection)
    python -m bench.children reindex --config CFG                  (rebuild: raw store -> fresh state and index)
    python -m bench.children build   --config CFG --corpus DIR     (raw store from files, then reindex)
    python -m bench.children fastbuild --config CFG --corpus DIR   (normalize in parallel, engine.rebuild; no dedup)
    python -m bench.children copy    --config CFG --source-config OTHER  (index the other engine's records)
    python -m bench.children rawbulk --config CFG --out FILE       (the engine's own bulk load of pre-built docs)
    python -m bench.children serve   --config CFG --port N         (fedsearch_app.app.serve; prints when ready)

Each prints one JSON line (its result) on stdout; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import peak_rss_mib, progress, self_peak_rss_mib
from fedsearch.config import load_config
from fedsearch.logs import setup_logging


def main_cpu_seconds() -> float:
    """CPU time of this process alone: the indexer's own share, which two cores can't split."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def cpu_seconds() -> float:
    """CPU time of this process and the workers it ran: on a shared machine, steadier than wall time."""
    import resource

    return sum(
        r.ru_utime + r.ru_stime
        for r in (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    )


def searchable_count(settings) -> int:
    from fedsearch.engines import SearchQuery, open_engine

    engine = open_engine(settings)
    try:
        return engine.search(SearchQuery(q="", per_page=1, highlight=False)).total
    finally:
        engine.close()


def cmd_corpus(args: argparse.Namespace) -> dict[str, Any]:
    from fedsearch_app.corpus import generate

    started = time.perf_counter()
    manifest = generate(
        args.out,
        args.size,
        seed=args.seed,
        progress=lambda done, total: progress(f"  corpus {done:,}/{total:,}") if done % 100_000 == 0 else None,
    )
    return {"seconds": time.perf_counter() - started, "peak_rss_mib": self_peak_rss_mib(), "manifest": manifest}


def cmd_harvest(args: argparse.Namespace) -> dict[str, Any]:
    from indexers.pipeline import harvest

    settings = load_config(args.config)
    started = time.perf_counter()
    code = harvest(settings, source_ids=args.source or None, full=args.full)
    seconds = time.perf_counter() - started
    return {
        "exit_code": code,
        "seconds": seconds,
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_fetch(args: argparse.Namespace) -> dict[str, Any]:
    """Connectors only: every source into the raw store, nothing indexed."""
    from rawstore.harvest import harvest_sources

    settings = load_config(args.config)
    started = time.perf_counter()
    runs = harvest_sources(settings, None, full=True)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "records": sum(r.records for r in runs),
        "ok": all(r.ok for r in runs),
        "errors": [r.error for r in runs if r.error],
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_index(args: argparse.Namespace) -> dict[str, Any]:
    """The index step of a harvest (`indexers.pipeline.harvest` after fetching): raw store -> searchable."""
    from fedsearch.engines import open_engine
    from indexers.pipeline import index_changes
    from indexers.state import IndexState
    from rawstore.store import RawStore

    settings = load_config(args.config)
    started = time.perf_counter()

    def report(summary) -> None:
        if summary.seen % 50_000 < 2000:
            progress(
                f"  indexed {summary.seen:,} ({summary.seen / (time.perf_counter() - started):,.0f}/s; "
                f"{summary.stages.describe()})"
            )

    with RawStore.for_settings(settings) as store:
        engine = open_engine(settings, writer=True)
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            engine.ensure_index()
            summary = index_changes(settings, store, engine, state, progress=report)
        finally:
            state.close()
            engine.close()
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": cpu_seconds(),
        "main_cpu_seconds": main_cpu_seconds(),
        "records": summary.seen,
        "written": summary.written,
        "quarantined": summary.quarantined,
        "errors": len(summary.errors),
        "stages": summary.stages.as_dict(),
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_change(args: argparse.Namespace) -> dict[str, Any]:
    """Edit raw records of an indexed collection (bench/changes.py), so that the next index step has changes."""
    from bench.changes import change_records

    return change_records(args.config, args.changed)


def cmd_reindex(args: argparse.Namespace) -> dict[str, Any]:
    """`fedsearch reindex`: the raw store re-normalized into a fresh state and a new index."""
    from fedsearch.engines import open_engine
    from indexers.pipeline import rebuild_index

    settings = load_config(args.config)
    started = time.perf_counter()
    engine = open_engine(settings, writer=True)
    try:
        engine.ensure_index()
        summary = rebuild_index(settings, engine)
    finally:
        engine.close()
    return {
        "exit_code": 0 if not summary.errors else 1,
        "seconds": time.perf_counter() - started,
        "records": summary.seen,
        "stages": summary.stages.as_dict(),
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_build(args: argparse.Namespace) -> dict[str, Any]:
    from bench.rawload import fill
    from indexers.pipeline import reindex
    from rawstore.store import RawStore

    settings = load_config(args.config)
    with RawStore.for_settings(settings) as store:
        stored = sum(store.counts(s.id).live for s in settings.sources)
    fill_seconds = 0.0
    if not stored:
        t = time.perf_counter()
        fill(settings, Path(args.corpus), say=progress)
        fill_seconds = time.perf_counter() - t
    t = time.perf_counter()
    code = reindex(settings)
    return {
        "exit_code": code,
        "fill_seconds": fill_seconds,
        "reindex_seconds": time.perf_counter() - t,
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


_WORKER_SOURCES: dict = {}


def _init_worker(config: str) -> None:
    setup_logging("ERROR")
    _WORKER_SOURCES.update({s.id: s for s in load_config(config).sources})


def _normalize_one(item: tuple[str, str, str, bytes, str | None]) -> str | None:
    from connectors.base import RawRecord
    from indexers.normalize import NormalizationError, normalize

    source, local_id, fmt, payload, datestamp = item
    try:
        return normalize(
            RawRecord(local_id=local_id, format=fmt, payload=payload, datestamp=datestamp), _WORKER_SOURCES[source]
        ).model_dump_json()
    except NormalizationError:
        return None


def cmd_fastbuild(args: argparse.Namespace) -> dict[str, Any]:
    """Corpus files -> normalize (one process per core) -> engine.rebuild, without the dedup step.

    For indexes too big to build with the pipeline's reindex in the time a benchmark has
    (it deduplicates one record at a time against its state): the search benchmark needs
    an index of the size, with the records the normalizers make.
    """
    import multiprocessing
    import os

    from bench.rawload import connector_raw_records, oai_raw_records
    from fedsearch.engines import open_engine
    from fedsearch.record import Record
    from fedsearch_app.corpus import FILES

    settings = load_config(args.config)
    corpus = Path(args.corpus)

    def raw_items():
        for source in settings.sources:
            items = (
                oai_raw_records(corpus / FILES["oai"])
                if source.connector == "oai-pmh"
                else connector_raw_records(settings, source)
            )
            for raw in items:
                yield source.id, raw.local_id, raw.format, raw.payload, raw.datestamp

    started = time.perf_counter()
    done = [0]
    with multiprocessing.Pool(os.cpu_count() or 2, initializer=_init_worker, initargs=(args.config,)) as pool:

        def records():
            for text in pool.imap(_normalize_one, raw_items(), chunksize=500):
                done[0] += 1
                if done[0] % 50_000 == 0:
                    progress(
                        f"  fastbuild: {done[0]:,} normalized ({done[0] / (time.perf_counter() - started):,.0f}/s)"
                    )
                if text:
                    yield Record.model_validate_json(text)

        engine = open_engine(settings, writer=True)
        try:
            report = engine.rebuild(records())
        finally:
            engine.close()
    return {
        "exit_code": 0 if not report.errors else 1,
        "fill_seconds": 0.0,
        "reindex_seconds": None,
        "fastbuild_seconds": time.perf_counter() - started,
        "normalized": done[0],
        "dedup": False,
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_copy(args: argparse.Namespace) -> dict[str, Any]:
    """Index what the pipeline wrote to the other engine: its merged records, `engine.rebuild` as reindex does."""
    from bench.rawengine import iter_indexed_records
    from fedsearch.engines import open_engine

    settings, other = load_config(args.config), load_config(args.source_config)
    records = iter_indexed_records(other)
    progress(f"  copying the {other.engine} index's records into {settings.engine} (streamed)")
    engine = open_engine(settings, writer=True)
    started = time.perf_counter()
    try:
        report = engine.rebuild(records)
    finally:
        engine.close()
    return {
        "exit_code": 0 if not report.errors else 1,
        "fill_seconds": 0.0,
        "reindex_seconds": None,
        "copy_seconds": time.perf_counter() - started,
        "copied_from": other.engine,
        "searchable": searchable_count(settings),
        "peak_rss_mib": self_peak_rss_mib(),
    }


def cmd_rawbulk(args: argparse.Namespace) -> dict[str, Any]:
    """Pre-build the engine's documents for every indexed record, then time only the engine's bulk load."""
    from bench import rawengine

    settings = load_config(args.config)
    return rawengine.bulk_load(settings, say=progress)


def cmd_serve(args: argparse.Namespace) -> dict[str, Any] | None:
    import socket

    from fedsearch_app.app import serve

    settings = load_config(args.config)

    def announce() -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", args.port)) == 0:
                    print(json.dumps({"port": args.port, "pid": __import__("os").getpid()}), flush=True)
                    return
            time.sleep(0.1)

    threading.Thread(target=announce, daemon=True).start()
    logging.getLogger("uvicorn.access").disabled = True
    try:
        serve(settings, host="127.0.0.1", port=args.port, workers=args.workers, access_log=False)
    except KeyboardInterrupt:
        pass
    progress(f"server peak RSS {peak_rss_mib():.0f} MiB")
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.children")
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("corpus")
    sp.add_argument("--size", type=int, required=True)
    sp.add_argument("--out", required=True)
    sp.add_argument("--seed", type=int, required=True)
    sp = sub.add_parser("harvest")
    sp.add_argument("--config", required=True)
    sp.add_argument("--full", action="store_true")
    sp.add_argument("--source", action="append")
    for name in ("fetch", "index", "reindex"):
        sp = sub.add_parser(name)
        sp.add_argument("--config", required=True)
    sp = sub.add_parser("change")
    sp.add_argument("--config", required=True)
    sp.add_argument("--changed", type=int, default=1000)
    sp = sub.add_parser("build")
    sp.add_argument("--config", required=True)
    sp.add_argument("--corpus", required=True)
    sp = sub.add_parser("fastbuild")
    sp.add_argument("--config", required=True)
    sp.add_argument("--corpus", required=True)
    sp = sub.add_parser("copy")
    sp.add_argument("--config", required=True)
    sp.add_argument("--source-config", required=True)
    sp = sub.add_parser("rawbulk")
    sp.add_argument("--config", required=True)
    sp = sub.add_parser("serve")
    sp.add_argument("--config", required=True)
    sp.add_argument("--port", type=int, required=True)
    sp.add_argument("--workers", type=int, default=1)
    args = p.parse_args(argv)
    setup_logging("WARNING")
    result = {
        "corpus": cmd_corpus,
        "harvest": cmd_harvest,
        "fetch": cmd_fetch,
        "index": cmd_index,
        "reindex": cmd_reindex,
        "build": cmd_build,
        "fastbuild": cmd_fastbuild,
        "copy": cmd_copy,
        "rawbulk": cmd_rawbulk,
        "serve": cmd_serve,
        "change": cmd_change,
    }[args.cmd](args)
    if result is not None:
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
