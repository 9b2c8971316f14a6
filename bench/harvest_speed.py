"""Harvest fetch speed: our OAI-PMH harvester, Sickle and the raw transport on the same pages.

One page server (bench/oai_pages.py, its own process) serves the same ListRecords pages
(oai_dc, 100 records a page) to every client. Each round runs every client once, in turn,
so load from elsewhere on the machine falls on all of them alike; the table gives medians.
Every run is a fresh child process that warms up once, then times one full listing itself
(interpreter start and imports excluded), so no client inherits another's heap or threads.

- transport: httpx with keep-alive, reading each page's bytes and finding its resumption
  token with a regular expression; no XML parsing. The ceiling for any client.
- sickle: Sickle's ListRecords iterator to the last record (parses every page with lxml and
  makes a Record, with its metadata as a dict, of every record). Sickle opens a connection
  per page (`requests.get`); sickle-keepalive is the same on one requests.Session.
- ours, fetch+parse: the OAI-PMH connector's harvest() to the last item (RawRecords with
  their payload bytes, checkpoints), nothing stored. Like for like with Sickle.
- ours, fetch+parse+store: `harvest_source` into a fresh raw store (every record, counts
  and checkpoint committed per page). Sickle stores nothing; this row does more work.
- base-parse, base-store (with `baseline`): the same two, with the connectors of another
  source tree (e.g. `git archive <commit>` unpacked).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.common import WORK, background, median, progress

TOKEN_TAIL = re.compile(rb"<resumptionToken[^>]*>([^<]*)</resumptionToken>")


def _transport(url: str) -> int:
    records = 0
    with httpx.Client(timeout=60) as client:
        params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": "oai_dc"}
        while True:
            body = client.get(url, params=params).content
            records += body.count(b"</record>")
            m = TOKEN_TAIL.search(body, max(0, len(body) - 512))
            if not m or not m.group(1):
                return records
            params = {"verb": "ListRecords", "resumptionToken": m.group(1).decode()}


def _sickle(url: str) -> int:
    from sickle import Sickle  # pip install -e '.[bench]'

    return sum(1 for _ in Sickle(url, max_retries=0, timeout=60).ListRecords(metadataPrefix="oai_dc"))


def _sickle_keepalive(url: str) -> int:
    """Sickle with its requests made on one requests.Session (keep-alive, as ours): transport alike."""
    import requests
    from sickle import Sickle

    class KeepAliveSickle(Sickle):
        session = requests.Session()

        def _request(self, kwargs):
            return self.session.get(self.endpoint, params=kwargs, **self.request_args)

    with KeepAliveSickle.session:
        return sum(1 for _ in KeepAliveSickle(url, max_retries=0, timeout=60).ListRecords(metadataPrefix="oai_dc"))


def _settings(url: str, data_dir: Path):
    from fedsearch.config import validate_settings

    return validate_settings(
        {
            "data_dir": str(data_dir),
            "harvest": {"delay_seconds": 0, "timeout_seconds": 60, "max_retries": 0},
            "reach": {"allow_private_networks": True},
            "sources": [{"id": "bench-repo", "connector": "oai-pmh", "url": url}],
        }
    )


def _ours_parse(url: str) -> int:
    from connectors.base import RawRecord
    from connectors.registry import get_connector

    settings = _settings(url, WORK / "harvest-speed")
    source = settings.source("bench-repo")
    cls = get_connector(source.connector)
    connector = cls(source, cls.Options.model_validate(source.options), settings.policy_for(source))
    return sum(1 for item in connector.harvest(since=None, checkpoint=None) if isinstance(item, RawRecord))


def _ours_store(url: str) -> int:
    try:
        from rawstore.harvest import harvest_source
        from rawstore.store import RawStore
    except ImportError:  # a --baseline tree from before the raw store had its own package
        from connectors.harvest import harvest_source  # type: ignore[no-redef]
        from connectors.rawstore import RawStore  # type: ignore[no-redef]

    data = WORK / "harvest-speed"
    shutil.rmtree(data, ignore_errors=True)
    settings = _settings(url, data)
    with RawStore.for_settings(settings) as store:
        run = harvest_source(settings, "bench-repo", store, full=True)
    if run.status != "ok":
        raise RuntimeError(f"the harvest ended {run.status}: {run.error}")
    return run.records


CLIENTS: dict[str, Callable[[str], int]] = {
    "transport": _transport,
    "sickle": _sickle,
    "sickle-keepalive": _sickle_keepalive,
    "ours-parse": _ours_parse,
    "ours-store": _ours_store,
}

# One timed run in a child process whose working directory is the source tree to measure (its
# connectors; this tree's bench helpers come first on the path). Prints {"records", "seconds", "cpu"}:
# wall seconds, and CPU seconds of the client process (all its threads; the page server excluded),
# which the load from elsewhere on the machine changes far less.
_CHILD = """
import json, sys, time
sys.path.insert(0, ".")
sys.path.insert(0, sys.argv[3])
from bench.harvest_speed import CLIENTS
fn = CLIENTS[sys.argv[2]]
fn(sys.argv[1])  # warm up
started, cpu = time.perf_counter(), time.process_time()
n = fn(sys.argv[1])
print(json.dumps({"records": n, "seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu}))
"""


def _in_tree(tree: Path, client: str, url: str) -> tuple[int, float, float]:
    """One timed run of `client` in a child process working in `tree`."""
    here = Path(__file__).resolve().parent.parent
    bench_only = WORK / "harvest-speed-bench-code"
    shutil.rmtree(bench_only, ignore_errors=True)
    (bench_only / "bench").mkdir(parents=True)
    for name in ("__init__.py", "common.py", "harvest_speed.py"):
        shutil.copy(here / "bench" / name, bench_only / "bench" / name)
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, url, client, str(bench_only)],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(tree)},
    ).stdout
    result = json.loads(out.strip().splitlines()[-1])
    return result["records"], result["seconds"], result["cpu"]


def measure(
    records: int = 20_000, rounds: int = 5, clients: list[str] | None = None, baseline: Path | None = None
) -> dict[str, Any]:
    names = clients or list(CLIENTS)
    if baseline is not None:
        names += ["base-parse", "base-store"]
    times: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    counts: dict[str, int] = {}
    with background("bench.oai_pages", "--records", str(records)) as server:
        url, served = server.info["url"], server.info["records"]
        progress(
            f"serving {served:,} records in {server.info['pages']} pages ({server.info['bytes'] / 1e6:.1f} MB) at {url}"
        )
        here = Path(__file__).resolve().parent.parent
        for i in range(rounds):
            for name in names:
                if name.startswith("base-"):
                    counts[name], seconds, cpu_seconds = _in_tree(baseline, name.replace("base-", "ours-"), url)
                else:
                    counts[name], seconds, cpu_seconds = _in_tree(here, name, url)
                times[name].append(seconds)
                cpu[name].append(cpu_seconds)
            progress(f"round {i + 1}/{rounds}: " + ", ".join(f"{n} {served / times[n][-1]:,.0f}/s" for n in names))
    shutil.rmtree(WORK / "harvest-speed", ignore_errors=True)
    rows = {}
    for name in names:
        seconds = median(times[name])
        rows[name] = {
            "seconds": seconds,
            "all_seconds": times[name],
            "records_per_s": served / seconds,
            "cpu_seconds": median(cpu[name]),
            "records_per_cpu_s": served / median(cpu[name]),
            "counted": counts[name],
        }
    result: dict[str, Any] = {
        "records": served,
        "pages": server.info["pages"],
        "bytes": server.info["bytes"],
        "rounds": rounds,
        "clients": rows,
    }
    if "sickle" in rows:
        for name in ("ours-parse", "ours-store", "base-parse", "base-store"):
            if name in rows:
                rows[name]["vs_sickle"] = rows[name]["records_per_s"] / rows["sickle"]["records_per_s"]
                if "sickle-keepalive" in rows:
                    keepalive = rows["sickle-keepalive"]["records_per_s"]
                    rows[name]["vs_sickle_keepalive"] = rows[name]["records_per_s"] / keepalive
    return result
