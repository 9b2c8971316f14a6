"""Harvest rate against the local peers: `python -m tests.connectors.bench_rate [RECORDS]`.

Full harvests with delay_seconds 0 into a fresh raw store: pyoai's OAI-PMH data
provider (100 records a page) and Zebra over SRU (page_size 100). Prints
records per second for each. Not a test; run it by hand.
"""

from __future__ import annotations

import sys
import tempfile
import time
import types
import urllib.parse
from pathlib import Path

from rawstore.harvest import harvest_source
from rawstore.store import RawStore
from tests.connectors.conftest import make_settings
from tests.connectors.peers import OaiPeer, ZebraPeer, marcxml_record


def _report(name: str, run, seconds: float) -> None:
    print(
        f"{name:8} {run.status}: {run.records} records, {run.pages} pages in {seconds:.2f} s "
        f"= {run.records / seconds:,.0f} records/s"
    )


def bench_oai(records: int, workdir: Path) -> None:
    from oaipmh import server

    server.cgi = types.SimpleNamespace(parse_qs=urllib.parse.parse_qs)  # pyoai 2.5 on Python >= 3.8
    with OaiPeer(count=records, batch_size=100) as peer, RawStore(workdir / "oai" / "raw.sqlite3") as store:
        settings = make_settings(workdir / "oai", {"id": "repo", "connector": "oai-pmh", "url": peer.url})
        started = time.perf_counter()
        run = harvest_source(settings, "repo", store)
        _report("oai-pmh", run, time.perf_counter() - started)


def bench_sru(records: int, workdir: Path) -> None:
    zebra = ZebraPeer(workdir / "zebra")
    zebra.put({f"kg{i:06d}": marcxml_record(f"kg{i:06d}", f"Манас эпосу, том {i}") for i in range(records)})
    zebra.start()
    try:
        with RawStore(workdir / "sru" / "raw.sqlite3") as store:
            settings = make_settings(
                workdir / "sru", {"id": "cat", "connector": "sru", "url": zebra.url, "page_size": 100}
            )
            started = time.perf_counter()
            run = harvest_source(settings, "cat", store)
            _report("sru", run, time.perf_counter() - started)
    finally:
        zebra.stop()


def main() -> None:
    records = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    with tempfile.TemporaryDirectory() as tmp:
        bench_oai(records, Path(tmp))
        bench_sru(records, Path(tmp))


if __name__ == "__main__":
    main()
