"""A hung Elasticsearch node: what the rest of the site costs while searches wait on it.

    .venv/bin/python bench/hung_engine.py [--searches 60] [--rounds 3] [--no-write]

A socket that accepts connections and never answers stands in for the node.
The app runs under uvicorn with its defaults (search_timeout 5 s, 8 engine
requests in flight, breaker after 5 failures for 10 s). Each round fires
`--searches` concurrent searches and, while they are in flight, requests
/healthz, /static/app.css, /admin/login and /metrics one after another; reports
p50/p99/max per path and how the searches ended. Writes its section of
docs/benchmarks.md between the hung-engine markers.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from fedsearch.config import ElasticsearchConfig, ServerConfig, Settings  # noqa: E402
from tests.search_api.test_resilience import BlackHole, Served  # noqa: E402

START, END = "<!-- hung-engine:start -->", "<!-- hung-engine:end -->"
OTHERS = ("/healthz", "/static/app.css", "/admin/login", "/metrics")


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


async def _round(base: str, searches: int) -> tuple[list[tuple[int, float]], dict[str, list[float]]]:
    limits = httpx.Limits(max_connections=searches + 10)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:

        async def one(path: str) -> tuple[int, float]:
            started = time.perf_counter()
            r = await client.get(path)
            return r.status_code, time.perf_counter() - started

        pending = [asyncio.create_task(one(f"/api/v1/search?q=bench{i}")) for i in range(searches)]
        others: dict[str, list[float]] = defaultdict(list)
        while not all(t.done() for t in pending):
            for path in OTHERS:
                others[path].append((await one(path))[1])
        return await asyncio.gather(*pending), others


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--searches", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    hole = BlackHole()
    tmp = Path(tempfile.mkdtemp(prefix="fedsearch-hung-"))
    settings = Settings(
        engine="elasticsearch",
        data_dir=tmp,
        elasticsearch=ElasticsearchConfig(hosts=[f"http://127.0.0.1:{hole.port}"]),
        server=ServerConfig(rate_limit_per_minute=1_000_000, secure_cookies=False),
    )
    searches: list[tuple[int, float]] = []
    others: dict[str, list[float]] = defaultdict(list)
    with Served(settings) as app:
        for n in range(args.rounds):
            started = time.perf_counter()
            s, o = asyncio.run(_round(app.url, args.searches))
            searches += s
            for k, v in o.items():
                others[k] += v
            print(f"round {n + 1}: {len(s)} searches ended in {time.perf_counter() - started:.1f} s", file=sys.stderr)
            time.sleep(settings.server.engine_breaker_seconds + 1)  # let the breaker close: every round starts cold
    hole.close()
    statuses = defaultdict(int)
    for code, _ in searches:
        statuses[code] += 1
    s_times = [t for _, t in searches]
    rows = [
        f"| `{path}` | {len(v)} | {statistics.median(v) * 1000:.0f} | {_pct(v, 99) * 1000:.0f} | {max(v) * 1000:.0f} |"
        for path, v in others.items()
    ]
    text = "\n".join(
        [
            "## Hung engine (bench/hung_engine.py)",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d} on the machine below: Elasticsearch replaced by a socket that accepts "
            f"connections and never answers; the app under uvicorn with its default guard settings. {args.rounds} rounds "
            f"of {args.searches} concurrent searches, each starting with the breaker closed; meanwhile the paths below, "
            "one after another. Command: `.venv/bin/python bench/hung_engine.py`.",
            "",
            "| path (while searches hang) | requests | p50 ms | p99 ms | max ms |",
            "| --- | ---: | ---: | ---: | ---: |",
            *rows,
            "",
            f"- Searches: {', '.join(f'{n} × {code}' for code, n in sorted(statuses.items()))}; "
            f"median {statistics.median(s_times):.2f} s, p99 {_pct(s_times, 99):.2f} s, max {max(s_times):.2f} s "
            "(5 s engine timeout; the breaker opens after 5 failures, the rest are refused at once).",
            "- /healthz and /metrics wait at most 1 s for a fresh probe (`server.health_timeout_seconds`), and answer at "
            "once while a probe is stuck; static files and the admin login never wait for the engine.",
            "- Before (issue 12, main): with 60 searches in flight /static/app.css took 29 s, /admin/login 29 s, /healthz 69 s.",
        ]
    )
    print(text)
    if not args.no_write:
        doc = ROOT / "docs" / "benchmarks.md"
        body = doc.read_text(encoding="utf-8")
        block = f"{START}\n{text}\n{END}"
        body = (
            body[: body.index(START)] + block + body[body.index(END) + len(END) :]
            if START in body
            else body.rstrip("\n") + "\n\n" + block + "\n"
        )
        doc.write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
