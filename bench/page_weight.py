"""Page weight and server time of the results page, and the search API's latency.

    .venv/bin/python bench/page_weight.py [--config fedsearch.yaml] [--requests 200] [--no-write]

Measures the HTML of a full results page (20 hits, every facet) plus every asset
it loads (CSS, JS, icon), raw and gzip-compressed as the server sends them, and
the median server time of the page and of /api/v1/search. Without --config it
indexes the fixture corpus (tests/corpus.py) in an embedded index in a temporary
directory. Writes its section of docs/benchmarks.md between the page-weight markers.
"""

from __future__ import annotations

import argparse
import gzip
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from fedsearch.config import Settings, load_config  # noqa: E402
from fedsearch_app.app import create_app  # noqa: E402

BUDGET_BYTES = 60 * 1024  # the results page with all its assets, compressed
START, END = "<!-- page-weight:start -->", "<!-- page-weight:end -->"
RESULTS_PAGE = "/search?q=&lang=ru"  # every record: a full page of 20 hits and all facets
API_SEARCH = "/api/v1/search?q=экология&facets=type,source,year,language,access,subject,institution"


def fixture_app(tmp: Path):
    from fedsearch.engines.embedded import EmbeddedEngine
    from tests.corpus import CORPUS

    engine = EmbeddedEngine(tmp / "index", writer=True)
    engine.ensure_index()
    engine.upsert(CORPUS)
    engine.refresh()
    settings = Settings(data_dir=tmp)
    settings.server.rate_limit_per_minute = 10**9
    return create_app(settings, engine=engine), f"fixture corpus ({len(CORPUS)} records, embedded engine)"


def median_ms(client: TestClient, url: str, n: int) -> float:
    client.get(url)  # warm up
    times = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert r.status_code == 200, (url, r.status_code)
    return statistics.median(times)


def measure(client: TestClient, n: int) -> dict:
    page = client.get(RESULTS_PAGE, headers={"Accept-Encoding": "identity"})
    assert page.status_code == 200, page.text[:300]
    html = page.content
    rows = [("HTML", RESULTS_PAGE, len(html), len(gzip.compress(html, 9)))]
    for url in sorted(set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page.text))):
        body = client.get(url, headers={"Accept-Encoding": "identity"}).content
        rows.append((url.split("?")[0].rsplit("/", 1)[-1], url, len(body), len(gzip.compress(body, 9))))
    # What the server really sends compressed (GZipMiddleware), for the HTML.
    with client.stream("GET", RESULTS_PAGE, headers={"Accept-Encoding": "gzip"}) as r:
        wire_html = len(b"".join(r.iter_raw()))
    hits = len(re.findall(r'<li class="hit">', page.text))
    return {
        "rows": rows,
        "wire_html": wire_html,
        "hits": hits,
        "raw_total": sum(r[2] for r in rows),
        "gzip_total": sum(r[3] for r in rows),
        "page_ms": median_ms(client, RESULTS_PAGE, n),
        "api_ms": median_ms(client, API_SEARCH, n),
        "n": n,
    }


def section(m: dict, corpus: str) -> str:
    lines = [
        START,
        "## Page weight and server time (bench/page_weight.py)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d} on the {corpus}; the results page `{RESULTS_PAGE}` "
        f"({m['hits']} hits, all facets) and everything it loads. Budget: {BUDGET_BYTES // 1024} KB compressed.",
        "",
        "| part | raw bytes | gzip bytes |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {raw:,} | {gz:,} |" for name, _, raw, gz in m["rows"]]
    lines += [
        f"| **total** | **{m['raw_total']:,}** | **{m['gzip_total']:,}** |",
        "",
        f"- HTML as the server sends it with `Accept-Encoding: gzip`: {m['wire_html']:,} bytes.",
        f"- Within budget: {'yes' if m['gzip_total'] <= BUDGET_BYTES else 'NO'} "
        f"({m['gzip_total'] / BUDGET_BYTES:.0%} of {BUDGET_BYTES // 1024} KB).",
        f"- Server time, median of {m['n']} in-process requests: results page {m['page_ms']:.1f} ms; "
        f"`{API_SEARCH}` {m['api_ms']:.1f} ms.",
        END,
    ]
    return "\n".join(lines)


def write_section(text: str, path: Path) -> None:
    old = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in old and END in old:
        new = old[: old.index(START)] + text + old[old.index(END) + len(END) :]
    else:
        new = old.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(new, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--config", help="measure this deployment's index instead of the fixture corpus")
    ap.add_argument("--requests", type=int, default=200, help="requests per timing (median)")
    ap.add_argument("--no-write", action="store_true", help="print, don't update docs/benchmarks.md")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="fedsearch-bench-"))
    try:
        if args.config:
            settings = load_config(args.config)
            settings.server.rate_limit_per_minute = 10**9
            app, corpus = create_app(settings), f"index of {args.config} ({settings.engine} engine)"
        else:
            app, corpus = fixture_app(tmp)
        with TestClient(app) as client:
            m = measure(client, args.requests)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = section(m, corpus)
    print(text)
    if not args.no_write:
        write_section(text, ROOT / "docs" / "benchmarks.md")
    return 0 if m["gzip_total"] <= BUDGET_BYTES else 1


if __name__ == "__main__":
    raise SystemExit(main())
