"""Harvests in background threads, and the scheduler that starts them on each source's schedule.

    harvests = Harvests(lambda: settings)
    job = harvests.start("knu")          # harvest (rawstore.harvest) then index what changed
    harvests.stop("knu")                 # stored records are kept; the next run resumes
    Scheduler(lambda: settings, harvests).tick()   # start what is due

A source's `schedule` is an interval ("30m", "6h", "1d") counted from the
start of its last run, or a five-field cron expression read in the server's
local time zone. A source never harvested is due at once. A run that was
missed (the server was down) is due once, not once per missed slot: the next
time is always computed from the last run's start.

Where scheduled runs happen (docs/admin.md): in the server process (a thread
started with the app, unless FEDSEARCH_SCHEDULER=off) or in a `fedsearch
scheduler` process. Whichever holds the scheduler lock (data_dir/locks/
scheduler.lock) schedules; another one waits, so running both never doubles
the runs. The same source never runs twice at once (rawstore.harvest's
per-source lock), whoever starts it.

The parts: fedsearch_app/schedules.py (parsing a schedule, when a source is due),
fedsearch_app/jobs.py (the background jobs and the one index writer), and here the
scheduler that ticks.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fedsearch.config import Settings
from fedsearch.signals import GracefulStop
from fedsearch_app.jobs import (  # noqa: F401 - re-exported: the admin and the tests import them from here
    AlreadyRunning,
    HarvestJob,
    Harvests,
    JobKind,
    JobStatus,
    index_sources,
    index_writer,
    remove_source_from_index,
)
from fedsearch_app.schedules import (  # noqa: F401 - re-exported
    InvalidSchedule,
    next_run,
    parse_schedule,
    source_next_run,
    utcnow,
)
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.scheduler")

ENV_SWITCH = "FEDSEARCH_SCHEDULER"  # "off" (or 0/false/no): the server process does not schedule
TICK_SECONDS = 30.0
MAX_SCHEDULED_AT_ONCE = 2  # scheduled harvests running together; the admin's own starts are not counted


# -- the scheduler ------------------------------------------------------------------------------


class Scheduler:
    """Starts due harvests through `harvests`; `tick()` once, or `start()` a thread that ticks."""

    def __init__(
        self,
        settings: Callable[[], Settings],
        harvests: Harvests,
        *,
        tick_seconds: float = TICK_SECONDS,
        max_at_once: int = MAX_SCHEDULED_AT_ONCE,
    ):
        self._settings = settings
        self.harvests = harvests
        self.tick_seconds = tick_seconds
        self.max_at_once = max_at_once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock_fd: int | None = None
        self._said_waiting = False
        self._bad_schedules: set[tuple[str, str]] = set()

    @property
    def active(self) -> bool:
        """True while this scheduler holds the scheduler lock (another one may hold it instead)."""
        return self._lock_fd is not None

    def _take_lock(self, data_dir: Path) -> bool:
        if self._lock_fd is not None:
            return True
        lock_dir = Path(data_dir) / "locks"
        lock_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock_dir / "scheduler.lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            if not self._said_waiting:
                log.info("another scheduler is running (the server's or `fedsearch scheduler`); this one waits")
                self._said_waiting = True
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd
        log.info("scheduler active (pid %s)", os.getpid())
        return True

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def due(self, settings: Settings, store: RawStore, now: datetime) -> list[str]:
        """Enabled sources whose next run is now or past, oldest first."""
        due: list[tuple[datetime, str]] = []
        for source in settings.sources:
            try:
                when = source_next_run(source, store, now)
            except InvalidSchedule as err:
                if (source.id, source.schedule or "") not in self._bad_schedules:
                    log.error("schedule ignored: %s", err, extra={"source": source.id})
                    self._bad_schedules.add((source.id, source.schedule or ""))
                continue
            if when is not None and when <= now:
                due.append((when, source.id))
        return [sid for _, sid in sorted(due)]

    def tick(self, now: datetime | None = None) -> list[str]:
        """Start the due harvests (if this scheduler holds the lock); returns their source ids."""
        settings = self._settings()
        if not any(s.enabled and s.schedule for s in settings.sources):
            return []
        if not self._take_lock(settings.data_dir):
            return []
        now = now or utcnow()
        started: list[str] = []
        with RawStore.for_settings(settings) as store:
            busy = {j.source for j in self.harvests.running()}
            scheduled_running = sum(1 for j in self.harvests.running() if j.trigger == "schedule")
            for sid in self.due(settings, store, now):
                if sid in busy:
                    continue
                if scheduled_running >= self.max_at_once:
                    break
                try:
                    self.harvests.start(sid, trigger="schedule")
                except AlreadyRunning:
                    continue
                log.info("scheduled harvest started", extra={"source": sid})
                started.append(sid)
                scheduled_running += 1
        return started

    def _loop(self) -> None:
        while True:
            try:
                self.tick()
            except Exception:
                log.exception("scheduler tick failed")
            if self._stop.wait(self.tick_seconds):
                return

    def start(self) -> Scheduler:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._release_lock()


def enabled_in_server() -> bool:
    """Whether the server process runs the scheduler (FEDSEARCH_SCHEDULER=off turns it off)."""
    return os.environ.get(ENV_SWITCH, "on").strip().lower() not in ("0", "off", "false", "no")


def run_scheduler(settings: Settings) -> int:
    """`fedsearch scheduler`: run scheduled harvests in this process until SIGTERM or Ctrl-C."""
    from fedsearch_app.managed_sources import with_managed_sources

    def current() -> Settings:
        return with_managed_sources(settings)  # the admin's changes, as the server saves them

    current()  # an invalid configuration stops here, with check-config's message
    harvests = Harvests(current)
    scheduler = Scheduler(current, harvests)
    scheduled = [s.id for s in current().sources if s.enabled and s.schedule]
    log.info("scheduler started: %s sources with a schedule (%s)", len(scheduled), ", ".join(scheduled) or "none")
    # SIGTERM or SIGINT: running harvests store their page and stop; a second signal (or the grace
    # running out) ends the process at once. Their checkpoints make the next run resume.
    with GracefulStop() as stop:
        scheduler.start()
        try:
            while not stop.event.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            log.info("scheduler stopping; running harvests stop at their next record and resume next time")
            try:
                scheduler.stop(timeout=2)
                harvests.shutdown(timeout=5)
            except KeyboardInterrupt:
                log.warning("stopped at once; running harvests resume from their last checkpoint next time")
    return 0
