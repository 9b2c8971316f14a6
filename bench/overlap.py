"""What the incremental overlap costs: an incremental `fedsearch harvest` with a one-day overlap against none.

    python -m bench.overlap [--records 20000] [--days 730] [--changes 200] [--repeat 5] [--delay 0]

A local OAI-PMH server (stdlib, in this process) holds `records` records stamped over
`days` days, 100 a page with completeListSize. One full harvest (raw store + embedded
index) is kept as a snapshot. Each round, `changes` records are re-stamped and retitled
at the server; then the incremental harvest (harvest + index) runs from the snapshot
once with `incremental_overlap_seconds: 0` and once with 86400, in alternating order.
The overlap re-lists the records stamped in the day before the newest datestamp: they
cost transfer and a hash comparison, and are not re-indexed. Prints JSON.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import threading
import time
import urllib.parse
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from statistics import median

from bench.common import WORK, progress

PAGE = 100


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class Repository:
    """records: id -> (datestamp, title); ListRecords by datestamp with `from`, tokens 'offset|from'."""

    def __init__(self, records: dict[str, tuple[datetime, str]]):
        self.records = records
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                params = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).items()}
                body = outer.answer(params)
                self.send_response(200)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/oai"

    def answer(self, params: dict[str, str]) -> bytes:
        head = (
            f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f"<responseDate>{stamp(datetime.now(UTC))}</responseDate><request>{self.url}</request>"
        )
        if params.get("verb") == "Identify":
            return (
                head + "<Identify><repositoryName>bench</repositoryName><protocolVersion>2.0</protocolVersion>"
                "<granularity>YYYY-MM-DDThh:mm:ssZ</granularity><deletedRecord>persistent</deletedRecord>"
                "</Identify></OAI-PMH>"
            ).encode()
        token = params.get("resumptionToken")
        start, since = (int(token.split("|")[0]), token.split("|", 1)[1]) if token else (0, params.get("from", ""))
        with self.lock:
            rows = sorted((d, i, t) for i, (d, t) in self.records.items() if not since or stamp(d) >= since)
        if not rows:
            return (head + '<error code="noRecordsMatch">none</error></OAI-PMH>').encode()
        chosen = rows[start : start + PAGE]
        nxt = start + PAGE if start + PAGE < len(rows) else None
        recs = "".join(
            f"<record><header><identifier>{i}</identifier><datestamp>{stamp(d)}</datestamp></header><metadata>"
            f'<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">'
            f"<dc:title>{t}</dc:title><dc:creator>Айтматов, Чыңгыз</dc:creator><dc:date>{d.year}</dc:date>"
            f"<dc:language>ky</dc:language></oai_dc:dc></metadata></record>"
            for d, i, t in chosen
        )
        tok = f'<resumptionToken completeListSize="{len(rows)}" cursor="{start}">{f"{nxt}|{since}" if nxt else ""}</resumptionToken>'
        return (head + f"<ListRecords>{recs}{tok}</ListRecords></OAI-PMH>").encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def settings_for(data: Path, url: str, overlap: int, delay: float):
    from fedsearch.config import validate_settings

    return validate_settings(
        {
            "data_dir": str(data),
            "engine": "embedded",
            "harvest": {
                "delay_seconds": delay,
                "timeout_seconds": 60,
                "max_retries": 2,
                "incremental_overlap_seconds": overlap,
            },
            "sources": [{"id": "repo", "connector": "oai-pmh", "url": url, "granularity": "seconds"}],
        }
    )


def quiet_harvest(settings) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process: the harvester, the indexer and the little server)."""
    from indexers.pipeline import harvest

    started, cpu = time.perf_counter(), time.process_time()
    with redirect_stdout(io.StringIO()), redirect_stderr(io.StringIO()):
        code = harvest(settings, progress=False)
    if code != 0:
        raise SystemExit(f"the harvest failed (exit {code}) in {settings.data_dir}")
    return time.perf_counter() - started, time.process_time() - cpu


def last_run(data: Path):
    from rawstore.store import RawStore

    with RawStore(data / "raw.sqlite3") as store:
        return store.last_run("repo")


def measure(records: int, days: int, changes: int, repeat: int, delay: float) -> dict:
    rng = random.Random(42)
    now = datetime.now(UTC).replace(microsecond=0)
    newest = now - timedelta(hours=1)
    original = {
        f"oai:bench:{n}": (newest - timedelta(seconds=rng.randrange(days * 86400)), f"Макала {n}")
        for n in range(records)
    }
    original["oai:bench:0"] = (newest, "Макала 0")
    work = WORK / "overlap"
    shutil.rmtree(work, ignore_errors=True)
    repo = Repository(dict(original))
    try:
        snapshot = work / "snapshot"
        progress(f"full harvest of {records:,} records")
        full, _ = quiet_harvest(settings_for(snapshot, repo.url, 86400, delay))
        results: dict[int, list[dict]] = {0: [], 86400: []}
        for r in range(repeat):
            with repo.lock:
                repo.records = dict(original)
                for n in rng.sample(range(1, records), changes):
                    repo.records[f"oai:bench:{n}"] = (now - timedelta(minutes=30), f"Макала {n}, оңдолгон {r}")
            for overlap in (0, 86400) if r % 2 == 0 else (86400, 0):
                data = work / f"run-{overlap}"
                shutil.rmtree(data, ignore_errors=True)
                shutil.copytree(snapshot, data)
                seconds, cpu = quiet_harvest(settings_for(data, repo.url, overlap, delay))
                run = last_run(data)
                results[overlap].append(
                    {
                        "seconds": seconds,
                        "cpu": cpu,
                        "records": run.records,
                        "changed": run.changed,
                        "unchanged": run.unchanged,
                    }
                )
                progress(
                    f"  round {r + 1}/{repeat}, overlap {overlap:>5} s: {seconds:.2f} s ({cpu:.2f} s CPU), "
                    f"{run.records} listed, "
                    f"{run.changed} changed, {run.unchanged} unchanged"
                )
    finally:
        repo.close()
    base = median(x["seconds"] for x in results[0])
    day = median(x["seconds"] for x in results[86400])
    base_min = min(x["seconds"] for x in results[0])
    day_min = min(x["seconds"] for x in results[86400])
    return {
        "records": records,
        "days": days,
        "changes": changes,
        "repeat": repeat,
        "delay_seconds": delay,
        "full_seconds": full,
        "listed_no_overlap": median(x["records"] for x in results[0]),
        "listed_one_day": median(x["records"] for x in results[86400]),
        "reindexed_one_day": median(x["changed"] for x in results[86400]),
        "incremental_no_overlap_seconds": base,
        "incremental_one_day_seconds": day,
        "added_median": day / base - 1,
        "added_min": day_min / base_min - 1,
        "cpu_no_overlap_seconds": median(x["cpu"] for x in results[0]),
        "cpu_one_day_seconds": median(x["cpu"] for x in results[86400]),
        "added_cpu_median": median(x["cpu"] for x in results[86400]) / median(x["cpu"] for x in results[0]) - 1,
        "min_no_overlap_seconds": base_min,
        "min_one_day_seconds": day_min,
        "runs": results,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.overlap", description=__doc__.split("\n")[0])
    p.add_argument("--records", type=int, default=20_000)
    p.add_argument("--days", type=int, default=730)
    p.add_argument("--changes", type=int, default=200)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--delay", type=float, default=0.0, help="politeness delay between requests (default 0)")
    args = p.parse_args(argv)
    result = measure(args.records, args.days, args.changes, args.repeat, args.delay)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
