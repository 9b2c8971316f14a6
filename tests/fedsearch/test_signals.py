"""Real signals to real `fedsearch` processes: SIGTERM or SIGINT to the main process stops it cleanly.

`docker stop` and systemd send SIGTERM to the main process only. A harvest stores the page in hand,
keeps its checkpoint and ends 'stopped'; the next run resumes. A second signal stops at once.
The goal is 10 s from the signal to the exit; STOP_GUARD only keeps a hung test from hanging the suite.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import yaml

from fedsearch.config import load_config
from rawstore.harvest import harvest_source
from rawstore.store import RawStore
from tests.conftest import ROOT
from tests.connectors.peers import OaiPeer, free_port, pyoai_token_fix

STOP_GUARD = 20
TOTAL = 100


class Fedsearch:
    """`fedsearch ARGS` in a subprocess; its output (stdout and stderr) collected as it comes."""

    def __init__(self, *args: str, config: Path | None = None):
        cmd = [sys.executable, "-m", "fedsearch_app.cli", "--log-level", "INFO"]
        if config is not None:
            cmd += ["--config", str(config)]
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "FEDSEARCH_SCHEDULER": "on"}
        self.proc = subprocess.Popen(
            [*cmd, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self.output = ""
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.output += line

    def wait_for(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.output:
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        pytest.fail(f"never saw {text!r}; output:\n{self.output}", pytrace=False)

    def stop(self, *signals: signal.Signals, between: float = 0.2) -> tuple[int, float]:
        """Send the signals to the main process only; (exit code, seconds from the first signal to the exit)."""
        started = time.monotonic()
        for i, sig in enumerate(signals):
            if i:
                time.sleep(between)
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=STOP_GUARD)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"still running {STOP_GUARD} s after {signals}; output:\n{self.output}", pytrace=False)
        self._reader.join(timeout=5)
        return code, time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


@pytest.fixture
def slow_peer(monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=TOTAL, batch_size=10, page_delay=0.3) as peer:
        yield peer


def write_config(tmp_path: Path, url: str, **source) -> Path:
    path = tmp_path / "fedsearch.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "data"),
                "harvest": {"delay_seconds": 0, "timeout_seconds": 120, "max_retries": 0},
                "reach": {"allow_private_networks": True},  # the peers are local
                "sources": [{"id": "repo", "connector": "oai-pmh", "url": url, **source}],
            }
        )
    )
    return path


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_a_harvest_after_the_page_in_hand_and_the_next_run_resumes(slow_peer, tmp_path, sig):
    config = write_config(tmp_path, slow_peer.url)
    proc = Fedsearch("harvest", config=config)
    proc.wait_for("repo: page 3,")
    code, _ = proc.stop(sig)
    assert code == 130, proc.output
    assert "stopping after the current page" in proc.output

    settings = load_config(config)
    with RawStore.for_settings(settings) as store:
        (stopped,) = store.runs("repo")
        assert stopped.status == "stopped" and "resumes" in stopped.error
        assert stopped.checkpoint and stopped.checkpoint["token"]
        kept = store.counts("repo").live
        assert kept == stopped.records and 30 <= kept < TOTAL
        resumed = harvest_source(settings, "repo", store)
        assert resumed.status == "ok" and resumed.resumed_from == stopped.id
        assert resumed.new == TOTAL - kept  # nothing lost, nothing fetched twice
        assert {r.local_id for r in store.iter_all("repo")} == slow_peer.live_ids()


def test_a_harvest_waiting_on_a_partner_that_does_not_answer_stops_after_the_grace(tmp_path, monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=TOTAL, batch_size=10) as peer:
        answered = 0
        original = peer._answer

        def hang_after_two_pages(req):
            nonlocal answered
            if req.params.get("verb") == "ListRecords":
                answered += 1
                if answered > 2:
                    time.sleep(60)
            return original(req)

        peer.http.app = hang_after_two_pages
        proc = Fedsearch("harvest", config=write_config(tmp_path, peer.url))
        proc.wait_for("repo: page 2,")
        time.sleep(0.3)  # it is now waiting for page 3
        code, seconds = proc.stop(signal.SIGTERM)
        assert code == 130, proc.output
        assert "stopping here" in proc.output  # the grace ran out
        with RawStore(tmp_path / "data" / "raw.sqlite3") as store:
            (run,) = store.runs("repo")
            assert run.status == "stopped" and store.counts("repo").live == 20


def test_a_second_signal_stops_at_once(tmp_path, monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=TOTAL, batch_size=10, page_delay=60) as peer:  # every page takes a minute
        proc = Fedsearch("harvest", config=write_config(tmp_path, peer.url))
        proc.wait_for("harvest started")
        time.sleep(0.5)
        code, seconds = proc.stop(signal.SIGTERM, signal.SIGTERM)
        assert code == 130, proc.output
        assert "again: stopping at once" in proc.output
        with RawStore(tmp_path / "data" / "raw.sqlite3") as store:
            assert store.runs("repo")[0].status == "stopped"


def test_sigterm_stops_the_scheduler_and_its_running_harvest(slow_peer, tmp_path):
    config = write_config(tmp_path, slow_peer.url, schedule="1d")
    proc = Fedsearch("scheduler", config=config)
    proc.wait_for("harvest started")
    with RawStore(tmp_path / "data" / "raw.sqlite3") as store:
        deadline = time.monotonic() + 30
        while store.counts("repo").live < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
    code, _ = proc.stop(signal.SIGTERM)
    assert code == 0, proc.output
    with RawStore(tmp_path / "data" / "raw.sqlite3") as store:
        run = store.runs("repo")[0]
        assert run.status == "stopped" and 20 <= run.records < TOTAL


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_server(tmp_path, sig):
    port = free_port()
    config = tmp_path / "fedsearch.yaml"
    config.write_text(yaml.safe_dump({"data_dir": str(tmp_path / "data"), "server": {"port": port}}))
    proc = Fedsearch("serve", config=config)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
            break
        except httpx.HTTPError:
            if proc.proc.poll() is not None:
                pytest.fail(proc.output, pytrace=False)
            time.sleep(0.2)
    code, _ = proc.stop(sig)
    assert code == 0, proc.output
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0  # the port is free again


def test_demo_sh_checks_its_port_before_installing_anything(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            ["bash", str(ROOT / "scripts" / "demo.sh"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
            env={**os.environ, "PYTHON": "/nonexistent"},
        )
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is in use" in done.stderr
    assert "installing" not in done.stdout + done.stderr
