"""`fedsearch demo` end to end, in a subprocess: partners, harvest, server, Ctrl-C, and a second run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT
from tests.net import free_port, port_open

SIZE = 300
READY = re.compile(r"fedsearch demo is ready \(([\d.]+)s\): open (http://127\.0\.0\.1:\d+/)")
PARTNER = re.compile(r"^\s+(demo-[a-z-]+)\s+.*?(http://127\.0\.0\.1:(\d+)/\S*)", re.M)
HARVEST = re.compile(r"harvest finished in ([\d.]+)s")
SOURCES = {"demo-repository", "demo-library", "demo-dissertations", "demo-patents"}


class Demo:
    """`fedsearch demo` in a subprocess, its output collected as it comes."""

    def __init__(self, data_dir: Path, port: int):
        env = {**os.environ, "FEDSEARCH_DEMO_SIZE": str(SIZE), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "fedsearch_app.cli",
                "--log-level",
                "WARNING",
                "demo",
                "--data-dir",
                str(data_dir),
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output += line

    def wait_ready(self, timeout: float = 240) -> tuple[float, str]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            m = READY.search(self.output)
            if m:
                return float(m.group(1)), m.group(2)
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        self.kill()
        pytest.fail(f"the demo did not get ready within {timeout:.0f}s; its output:\n{self.output}", pytrace=False)

    def interrupt(self, timeout: float = 30) -> int:
        self.proc.send_signal(signal.SIGINT)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"the demo did not stop within {timeout:.0f}s of SIGINT; output:\n{self.output}", pytrace=False)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def partner_ports(self) -> dict[str, int]:
        return {m.group(1): int(m.group(3)) for m in PARTNER.finditer(self.output)}


def wait_for_api(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "api/v1/search", params={"q": ""}, timeout=5).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    pytest.fail(f"the API at {url} did not answer within {timeout:.0f}s", pytrace=False)


def search(url: str, **params) -> dict:
    resp = httpx.get(
        url + "api/v1/search", params={"facets": "source,type,language", "facet_size": 50, **params}, timeout=30
    )
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_the_demo_serves_every_partner_stops_cleanly_and_reuses_its_harvest(tmp_path):
    data_dir = tmp_path / "demo"
    port = free_port()

    first = Demo(data_dir, port)
    try:
        _, url = first.wait_ready()
        wait_for_api(url)
        partners = first.partner_ports()
        assert set(partners) == SOURCES, first.output
        assert all(port_open(p) for p in partners.values())
        everything = search(url, q="")
        facets = {f["value"]: f["count"] for f in everything["facets"]["source"]}
        assert set(facets) >= SOURCES, facets
        assert everything["total"] >= SIZE * 0.8
        types = {f["value"] for f in everything["facets"]["type"]}
        assert {"article", "book", "dissertation", "patent"} <= types
        assert {f["value"] for f in everything["facets"]["language"]} >= {"ky", "ru", "en"}
        # A Kyrgyz word finds records; only the patent register holds patents.
        assert search(url, q="облусундагы")["total"] > 0
        assert search(url, q="", type="patent")["total"] == facets["demo-patents"]
    finally:
        code = first.interrupt()
    assert code == 0, first.output
    assert "partners stopped" in first.output
    assert not any(port_open(p) for p in partners.values()), first.output
    assert not port_open(port)
    config = (data_dir / "fedsearch.yaml").read_text(encoding="utf-8")
    assert "connector: oai-pmh" in config and "connector: sru" in config and "connector: tabular" in config
    first_harvest = float(HARVEST.search(first.output).group(1))

    second = Demo(data_dir, port)
    try:
        _, url = second.wait_ready()
        wait_for_api(url)
        again = search(url, q="")
        assert again["total"] == everything["total"]
        assert {f["value"]: f["count"] for f in again["facets"]["source"]} == facets
    finally:
        assert second.interrupt() == 0, second.output
    assert "reused" in second.output  # the sample corpus was not written again
    second_harvest = float(HARVEST.search(second.output).group(1))
    assert second_harvest < first_harvest, (first_harvest, second_harvest)
