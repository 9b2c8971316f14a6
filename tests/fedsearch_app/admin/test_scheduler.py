"""Scheduled harvests: intervals and cron, catching up a missed run once, never the same source twice
at once, one scheduler at a time, in the server or in `fedsearch scheduler`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from fedsearch_app.app import create_app
from fedsearch_app.scheduler import (
    AlreadyRunning,
    Harvests,
    InvalidSchedule,
    Scheduler,
    next_run,
    parse_schedule,
    source_next_run,
)
from rawstore.harvest import source_lock
from rawstore.store import RawStore
from tests.conftest import ROOT
from tests.fedsearch_app.admin.conftest import AdminClient, admin_settings, http_client

UTC = UTC


def test_schedules_are_intervals_or_cron_expressions():
    assert parse_schedule("30m") == timedelta(minutes=30)
    assert parse_schedule(" 6h ") == timedelta(hours=6)
    assert parse_schedule("1d") == timedelta(days=1)
    assert parse_schedule("0  3 * * 1-5") == "0 3 * * 1-5"
    for bad in ("0m", "6 hours", "every day", "* * * *", "0 3 * * * *", "61 * * * *", ""):
        with pytest.raises(InvalidSchedule):
            parse_schedule(bad)


def test_the_next_run_counts_from_the_last_start_so_a_missed_run_happens_once():
    last = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert next_run("6h", last) == datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)  # the server was down for days
    assert next_run("6h", last, now) <= now  # due now: one run, not sixteen
    assert next_run("6h", now, now) == now + timedelta(hours=6)  # and after it, the normal rhythm
    assert next_run("1d", None, now) == now  # never harvested: due at once
    assert next_run(None, last, now) is None
    daily = next_run("30 2 * * *", last)  # cron, in the server's local time
    local = daily.astimezone()
    assert (local.hour, local.minute) == (2, 30) and last < daily <= last + timedelta(days=1)


def configured(tmp_path: Path, *sources: dict) -> tuple:
    settings = admin_settings(tmp_path / "data", *sources)
    harvests = Harvests(lambda: settings)
    return settings, harvests


def backdate_last_run(settings, source_id: str, hours: float) -> None:
    with RawStore.for_settings(settings) as store:
        when = (datetime.now(UTC) - timedelta(hours=hours)).isoformat()
        with store.transaction() as conn:
            conn.execute("UPDATE runs SET started_at = ?, ended_at = ? WHERE source = ?", (when, when, source_id))


def test_a_missed_run_is_caught_up_once_and_disabled_or_unscheduled_sources_wait(tmp_path, partner):
    settings, harvests = configured(
        tmp_path,
        {"id": "hourly", "connector": "oai-pmh", "url": partner.url, "schedule": "1h"},
        {"id": "off", "connector": "oai-pmh", "url": partner.url, "schedule": "1h", "enabled": False},
        {"id": "by-hand", "connector": "oai-pmh", "url": partner.url},
    )
    scheduler = Scheduler(lambda: settings, harvests)
    assert scheduler.tick() == ["hourly"]  # never harvested: due at once
    assert harvests.wait("hourly", 30).status == "ok"
    assert scheduler.tick() == []  # just ran: next in an hour
    backdate_last_run(settings, "hourly", hours=5)  # five runs missed
    assert scheduler.tick() == ["hourly"]
    assert harvests.wait("hourly", 30).status == "ok"
    assert scheduler.tick() == []  # caught up once, not five times
    with RawStore.for_settings(settings) as store:
        assert len(store.runs("hourly")) == 2 and store.runs("off") == [] and store.runs("by-hand") == []
        nxt = source_next_run(settings.source("hourly"), store)
        assert timedelta(minutes=59) < nxt - datetime.now(UTC) <= timedelta(hours=1)
    scheduler.stop()


def test_the_same_source_never_runs_twice_at_once(tmp_path, partner):
    partner.page_delay = 0.2
    settings, harvests = configured(
        tmp_path, {"id": "knu", "connector": "oai-pmh", "url": partner.url, "schedule": "1h"}
    )
    job = harvests.start("knu", trigger="boss")
    with pytest.raises(AlreadyRunning):
        harvests.start("knu", trigger="boss")
    assert Scheduler(lambda: settings, harvests).tick() == []  # due, but running here already
    harvests.stop("knu")
    assert harvests.wait("knu", 30).status == "stopped"
    # Another process harvesting it (it holds rawstore.harvest's lock): the run does not start.
    with RawStore.for_settings(settings) as store, source_lock(store, "knu"):
        job = harvests.start("knu", trigger="schedule")
        harvests.wait("knu", 30)
    assert job.status == "failed" and "another harvest of this source is running" in job.error


def test_one_scheduler_at_a_time(tmp_path, partner):
    settings, harvests = configured(
        tmp_path, {"id": "knu", "connector": "oai-pmh", "url": partner.url, "schedule": "1h"}
    )
    first = Scheduler(lambda: settings, harvests)
    second = Scheduler(lambda: settings, Harvests(lambda: settings))
    assert first.tick() == ["knu"] and first.active
    harvests.wait("knu", 30)
    backdate_last_run(settings, "knu", hours=2)
    assert second.tick() == [] and not second.active  # the first holds the lock
    first.stop()
    assert second.tick() == ["knu"] and second.active  # it takes over
    second.harvests.wait("knu", 30)
    second.stop()


def test_the_server_schedules_unless_switched_off(settings, monkeypatch):
    with http_client(create_app(settings)) as client:
        assert client.app.state.admin.scheduler is not None
    monkeypatch.setenv("FEDSEARCH_SCHEDULER", "off")
    with http_client(create_app(settings)) as client:
        assert client.app.state.admin.scheduler is None
        admin = AdminClient(client)
        assert admin.login("boss").status_code == 303
        assert "fedsearch scheduler" in admin.get("/admin").text


def test_fedsearch_scheduler_runs_due_harvests_until_sigterm(tmp_path, partner):
    data = tmp_path / "data"
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(data),
                "harvest": {"delay_seconds": 0, "timeout_seconds": 5, "max_retries": 0},
                "sources": [
                    {
                        "id": "knu",
                        "connector": "oai-pmh",
                        "url": partner.url,
                        "schedule": "1d",
                        "allow_private_networks": True,
                    }
                ],
            }
        )
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "scheduler"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        deadline = time.monotonic() + 60
        runs = []
        while time.monotonic() < deadline and proc.poll() is None:
            if (data / "raw.sqlite3").exists():
                with RawStore(data / "raw.sqlite3") as store:
                    runs = store.runs("knu")
                    if runs and runs[0].status == "ok" and store.counts("knu").unindexed == 0:
                        break
            time.sleep(0.2)
        assert runs and runs[0].status == "ok" and runs[0].new == 12, proc.stdout and proc.poll()
    finally:
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=30)[0]
    assert proc.returncode == 0, output
    assert "scheduled harvest started" in output and "scheduler stopping" in output
