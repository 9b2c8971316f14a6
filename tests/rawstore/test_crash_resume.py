"""Crash and resume for real: a harvester process killed with SIGKILL between pages, then run again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import yaml

from fedsearch.config import load_config
from rawstore.harvest import harvest_source
from rawstore.store import RawStore
from tests.connectors.conftest import FAST_POLICY
from tests.connectors.peers import OaiPeer, pyoai_token_fix

PAGE = 10
TOTAL = 200


def test_killed_harvest_resumes_losing_and_duplicating_nothing(tmp_path, monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=TOTAL, batch_size=PAGE, page_delay=0.1) as peer:
        config = tmp_path / "fedsearch.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "data_dir": str(tmp_path / "data"),
                    "harvest": FAST_POLICY,
                    "sources": [
                        {"id": "repo", "connector": "oai-pmh", "url": peer.url, "allow_private_networks": True}
                    ],
                }
            )
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "rawstore.harvest", "--config", str(config), "--progress", "--log-level", "WARNING"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                line = proc.stdout.readline()
                assert line, f"the harvester ended early: {proc.stderr.read()}"
                if json.loads(line)["pages"] >= 5:
                    break
            os.kill(proc.pid, signal.SIGKILL)
        finally:
            proc.kill()
            proc.wait(10)
        assert proc.returncode == -signal.SIGKILL

        settings = load_config(config)
        with RawStore.for_settings(settings) as store:
            (killed,) = store.runs("repo")
            assert killed.status == "running"  # nobody could say otherwise
            stored = store.counts("repo").live
            assert stored == killed.records and stored % PAGE == 0 and PAGE * 5 <= stored < TOTAL  # whole pages only
            asked = len(peer.http.requests)

            resumed = harvest_source(settings, "repo", store)
            assert resumed.status == "ok", resumed.error
            assert resumed.resumed_from == killed.id
            assert "resumptionToken" in peer.http.requests[asked].params  # it went on; it did not start over
            assert (resumed.new, resumed.records) == (TOTAL - stored, TOTAL - stored)  # nothing fetched twice
            assert store.counts("repo").live == TOTAL
            assert {r.local_id for r in store.iter_all("repo")} == peer.live_ids()
            assert len(list(store.iter_changed("repo"))) == TOTAL  # one row per record: nothing duplicated
            killed = store.run(killed.id)
            assert killed.status == "failed" and "interrupted" in killed.error and f"run {resumed.id}" in killed.error
