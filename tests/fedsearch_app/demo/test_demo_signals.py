"""`fedsearch demo` stopped by SIGTERM to its main process (docker stop, systemd): partners stop too."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from rawstore.store import RawStore
from tests.fedsearch_app.demo.test_demo_e2e import Demo, free_port, port_open

STOP_GUARD = 20  # the goal is 10 s; this only keeps a hung demo from hanging the suite


def terminate(demo: Demo) -> int:
    demo.proc.send_signal(signal.SIGTERM)
    try:
        return demo.proc.wait(timeout=STOP_GUARD)
    except subprocess.TimeoutExpired:
        demo.kill()
        pytest.fail(f"the demo still ran {STOP_GUARD} s after SIGTERM; output:\n{demo.output}", pytrace=False)


def test_sigterm_while_serving_stops_the_server_and_every_partner(tmp_path):
    port = free_port()
    demo = Demo(tmp_path / "demo", port)
    try:
        demo.wait_ready()
        partners = demo.partner_ports()
        assert partners and all(port_open(p) for p in partners.values())
    finally:
        code = terminate(demo)
    demo._reader.join(timeout=5)
    assert code == 0, demo.output
    assert "partners stopped" in demo.output
    assert not any(port_open(p) for p in partners.values()), demo.output
    assert not port_open(port)


def test_sigterm_while_harvesting_stops_the_partners_and_keeps_the_harvest_resumable(tmp_path):
    demo = Demo(tmp_path / "demo", free_port())
    deadline = time.monotonic() + 240
    while "harvesting into" not in demo.output and time.monotonic() < deadline and demo.proc.poll() is None:
        time.sleep(0.05)
    assert "harvesting into" in demo.output, demo.output
    partners = demo.partner_ports()
    code = terminate(demo)
    demo._reader.join(timeout=5)
    assert code == 0, demo.output
    assert "partners stopped" in demo.output and "is ready" not in demo.output
    assert "unexpected error" not in demo.output  # the stop is not taken for a connector's fault
    assert not any(port_open(p) for p in partners.values()), demo.output
    with RawStore(tmp_path / "demo" / "raw.sqlite3") as store:
        statuses = [run.status for run in store.runs(limit=10)]
    # Stopped (the next demo run resumes it), finished, or not started when the signal came; never
    # failed, never left running.
    assert set(statuses) <= {"stopped", "ok"}, statuses
