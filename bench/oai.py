"""OAI-PMH provider benchmark: records/s served to Sickle, and the cost of a page at any depth.

    python -m bench.oai --sizes 10000 100000 --engines embedded elasticsearch

For each engine and size: an index of that many synthetic works (written straight through
`engine.upsert`, in batches, as the indexer does), then the app in a child process
(`fedsearch serve`-like uvicorn), then
1. a full ListRecords (oai_dc, 100 per page) harvested by Sickle: records/s;
2. a walk of the whole ListIdentifiers list over HTTP, timing every page: the page cost by
   depth (first, middle and last tenth of the list) shows whether a page deep in the list
   costs more than the first;
3. the engine's change feed alone (no HTTP, no XML): a 100-entry page after cursors at
   0%, 50% and 99% of the list.
Results: bench/results/oai-<engine>-<size>.json; the table goes into docs/benchmarks.md by hand.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
from lxml import etree
from sickle import Sickle

from bench.common import (
    PYTHON,
    RESULTS,
    ROOT,
    WORK,
    drop_es_indices,
    free_port,
    machine,
    progress,
)
from fedsearch.config import ElasticsearchConfig, ServerConfig, Settings
from fedsearch.engines import open_engine
from fedsearch.engines.base import SearchEngine
from fedsearch.engines.changes import ChangeQuery
from fedsearch.record import Record, make_record_id

OAI = "{http://www.openarchives.org/OAI/2.0/}"
WORDS = (
    "жер",
    "суу",
    "тоо",
    "экономика",
    "история",
    "water",
    "glacier",
    "policy",
    "образование",
    "манас",
    "кыргызстан",
    "climate",
    "право",
    "медицина",
    "physics",
    "айыл",
    "чарба",
    "language",
    "наука",
    "tengri",
)
SOURCES = ("knu", "auca", "nlkr", "vak", "patent")
TYPES = ("article", "book", "thesis", "dissertation", "report", "patent")


def synthetic(n: int, rng: random.Random, lean: bool = False) -> Record:
    """A work; `lean` ones (two-word titles, no people or subjects) cost less to analyse, for big feed-only indexes."""
    source = SOURCES[n % len(SOURCES)]
    title = " ".join(rng.choice(WORDS) for _ in range(2 if lean else rng.randint(3, 8))) + f" {n}"
    if lean:
        return Record.model_validate(
            {
                "id": make_record_id(source, f"w{n}"),
                "source": source,
                "source_record_id": f"w{n}",
                "type": TYPES[n % len(TYPES)],
                "title": [{"value": title}],
                "year": 1990 + n % 35,
                "access": "open" if n % 3 == 0 else "unknown",
            }
        )
    return Record.model_validate(
        {
            "id": make_record_id(source, f"w{n}"),
            "source": source,
            "source_record_id": f"w{n}",
            "type": TYPES[n % len(TYPES)],
            "title": [{"value": title.capitalize()}],
            "authors": [{"name": f"{rng.choice(WORDS).capitalize()} {rng.choice('АБВГДЕ')}."}],
            "year": 1990 + n % 35,
            "access": "open" if n % 3 == 0 else "unknown",
            "languages": [rng.choice(["ky", "ru", "en"])],
            "subjects": [rng.choice(WORDS)],
        }
    )


def build(engine: SearchEngine, size: int, lean: bool = False) -> tuple[float, tuple[int, int]]:
    """Seconds taken, and the first and last second the works were stamped in."""
    rng = random.Random(20251)
    started = time.perf_counter()
    first = int(time.time())
    batch: list[Record] = []
    for n in range(size):
        batch.append(synthetic(n, rng, lean))
        if len(batch) == 5000 or n == size - 1:
            report = engine.upsert(batch)
            if report.errors:
                raise RuntimeError(f"the engine refused {len(report.errors)} works: {report.errors[:3]}")
            engine.commit()
            batch = []
            if n % 50_000 < 5000:
                progress(f"  {n + 1:,} of {size:,} works written")
    engine.refresh()
    return time.perf_counter() - started, (first, int(time.time()))


def settings_for(engine: str, data: Path, prefix: str, port: int) -> Settings:
    return Settings(
        engine=engine,
        data_dir=data,
        elasticsearch=ElasticsearchConfig(index_prefix=prefix, request_timeout=120),
        server=ServerConfig(port=port, base_url=f"http://127.0.0.1:{port}", rate_limit_per_minute=100_000_000),
    )


SERVER = """
import sys, uvicorn
from fedsearch.config import Settings
from search_api.app import create_app
settings = Settings.model_validate_json(sys.argv[1])
uvicorn.run(create_app(settings), host="127.0.0.1", port=settings.server.port, log_level="warning")
"""


def serve(settings: Settings) -> subprocess.Popen:
    proc = subprocess.Popen([PYTHON, "-c", SERVER, settings.model_dump_json()], cwd=ROOT)
    url = f"http://127.0.0.1:{settings.server.port}/oai"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, params={"verb": "Identify"}, timeout=5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the app did not start")


def sickle_rate(url: str, size: int) -> dict[str, Any]:
    started = time.perf_counter()
    count = sum(1 for _ in Sickle(url, timeout=120).ListRecords(metadataPrefix="oai_dc"))
    took = time.perf_counter() - started
    if count != size:
        raise RuntimeError(f"Sickle harvested {count} records, the index holds {size}")
    return {"records": count, "seconds": round(took, 2), "records_per_s": round(count / took, 1)}


def page_walk(url: str) -> dict[str, Any]:
    """ListIdentifiers over HTTP, every page timed; median ms per tenth of the list."""
    times: list[float] = []
    args: dict[str, str] = {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"}
    with httpx.Client(timeout=120) as client:
        while True:
            started = time.perf_counter()
            root = etree.fromstring(client.get(url, params=args).content)
            times.append(time.perf_counter() - started)
            token = root.find(f".//{OAI}resumptionToken")
            if token is None or not token.text:
                break
            args = {"verb": "ListIdentifiers", "resumptionToken": token.text}
    tenth = max(1, len(times) // 10)
    deciles = [round(1000 * statistics.median(times[i * tenth : (i + 1) * tenth] or times[-1:]), 2) for i in range(10)]
    return {"pages": len(times), "page_size": 500, "median_ms_by_tenth": deciles}


def feed_cost(engine: SearchEngine, size: int, written: tuple[int, int], rounds: int = 20) -> dict[str, Any]:
    """Engine-only: median ms of a 100-entry page after a cursor at the start, middle and end
    of the seconds the works were written in (how deep each cursor is: counted, not walked)."""
    until = int(time.time()) + 1
    first, last = written
    out: dict[str, Any] = {}
    for share in (0.0, 0.5, 0.99):
        cursor = None if share == 0 else (first + int(share * (last - first)), "")
        depth = 0 if cursor is None else engine.count_live(ChangeQuery(until=cursor[0] - 1))
        samples = []
        for _ in range(rounds):
            started = time.perf_counter()
            page = engine.list_changes(ChangeQuery(until=until, after=cursor, limit=100))
            samples.append(time.perf_counter() - started)
        assert len(page) == 100, f"only {len(page)} entries after {cursor}"
        out[f"at_{int(share * 100)}pct"] = {"depth": depth, "ms": round(1000 * statistics.median(samples), 2)}
    return out


def harvest_over_http(settings: Settings, size: int) -> tuple[dict[str, Any], dict[str, Any]]:
    proc = serve(settings)
    url = f"{settings.server.base_url}/oai"
    try:
        progress(f"{settings.engine} {size:,}: Sickle harvests ListRecords")
        rate = sickle_rate(url, size)
        progress(f"  {rate['records_per_s']:,} records/s")
        walk = page_walk(url)
        progress(f"  page ms by tenth: {walk['median_ms_by_tenth']}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return rate, walk


def run(engine_kind: str, size: int, feed_only: bool = False) -> dict[str, Any]:
    data = WORK / f"oai-{engine_kind}-{size}"
    shutil.rmtree(data, ignore_errors=True)
    prefix = f"benchoai{uuid.uuid4().hex[:6]}"
    settings = settings_for(engine_kind, data, prefix, free_port())
    engine = open_engine(settings, writer=True)
    try:
        engine.ensure_index()
        progress(f"{engine_kind} {size:,}: building the index")
        build_s, written = build(engine, size, lean=feed_only)
        if engine_kind == "embedded":
            engine.close()  # the server opens it; this process reads it again below
        rate, walk = (None, None) if feed_only else harvest_over_http(settings, size)
        reader = open_engine(settings) if engine_kind == "embedded" else engine
        feed = feed_cost(reader, size, written)
        progress(f"  feed page ms: {feed}")
    finally:
        engine.close()
        if engine_kind == "elasticsearch":
            drop_es_indices(prefix)
        shutil.rmtree(data, ignore_errors=True)
    return {
        "engine": engine_kind,
        "size": size,
        "lean_records": feed_only,
        "build_seconds": round(build_s, 1),
        "sickle": rate,
        "http_pages": walk,
        "feed_page": feed,
        "machine": machine(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--engines", nargs="+", default=["embedded", "elasticsearch"])
    parser.add_argument(
        "--feed-only",
        action="store_true",
        help="only the change feed's page cost (for sizes where a full HTTP harvest takes too long)",
    )
    args = parser.parse_args(argv)
    for size in args.sizes:
        for kind in args.engines:
            result = run(kind, size, feed_only=args.feed_only)
            path = RESULTS / f"oai-{kind}-{size}{'-feed' if args.feed_only else ''}.json"
            path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
            print(
                json.dumps(
                    {k: result[k] for k in ("engine", "size", "sickle", "http_pages", "feed_page")}, ensure_ascii=False
                )
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
