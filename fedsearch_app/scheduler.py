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

Indexing takes the one index writer: in this process one job at a time
(`index_writer`); another process writing (a `fedsearch harvest`) makes the
indexing step fail with a message, and the stored records are indexed by the
next run.
"""

from __future__ import annotations

import fcntl
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from croniter import croniter

from fedsearch.config import Settings, SourceConfig
from fedsearch.engines import SearchEngine, open_engine
from fedsearch.errors import FedsearchError, error_code
from fedsearch.signals import GracefulStop
from indexers.pipeline import IndexSummary, forget_source, index_changes
from indexers.state import IndexState
from rawstore.harvest import harvest_source
from rawstore.models import RunSummary, parse_time
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.scheduler")

ENV_SWITCH = "FEDSEARCH_SCHEDULER"  # "off" (or 0/false/no): the server process does not schedule
TICK_SECONDS = 30.0
MAX_SCHEDULED_AT_ONCE = 2  # scheduled harvests running together; the admin's own starts are not counted

_INTERVAL = re.compile(r"^\s*(\d{1,5})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class InvalidSchedule(FedsearchError, ValueError):
    error_code = "schedule.invalid"


class AlreadyRunning(FedsearchError):
    """A job for this source is running in this process."""

    error_code = "harvest.already_running"


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_schedule(text: str) -> timedelta | str:
    """An interval as a timedelta, or a cron expression as given; InvalidSchedule if neither."""
    m = _INTERVAL.match(text or "")
    if m:
        delta = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        if delta < timedelta(minutes=1):
            raise InvalidSchedule("the interval must be at least 1 minute")
        return delta
    expr = " ".join((text or "").split())
    if len(expr.split(" ")) == 5 and croniter.is_valid(expr):
        return expr
    raise InvalidSchedule(
        f"{text!r} is neither an interval (a number and m, h or d: 30m, 6h, 1d) "
        'nor a five-field cron expression (minute hour day month weekday, e.g. "0 3 * * *")'
    )


def next_run(schedule: str | None, last_started: datetime | None, now: datetime | None = None) -> datetime | None:
    """When a source with this schedule runs next (UTC); None without a schedule.

    From the last run's start: a missed run is due at once, and only once.
    """
    if not schedule:
        return None
    rule = parse_schedule(schedule)
    if last_started is None:
        return now or utcnow()
    if isinstance(rule, timedelta):
        return last_started + rule
    local = last_started.astimezone()  # cron reads the server's local time
    return croniter(rule, local).get_next(datetime).astimezone(UTC)


def source_next_run(source: SourceConfig, store: RawStore, now: datetime | None = None) -> datetime | None:
    """The next scheduled run of a source (None: disabled or no schedule); InvalidSchedule for a bad one."""
    if not source.enabled or not source.schedule:
        return None
    last = store.last_run(source.id)
    return next_run(source.schedule, parse_time(last.started_at) if last else None, now)


# -- writing the index ------------------------------------------------------------------------

_WRITER = threading.Lock()  # one index writer per process (the embedded engine allows one)


@contextmanager
def index_writer(settings: Settings) -> Iterator[SearchEngine]:
    """The engine opened for writing, for one job; jobs of this process take turns."""
    with _WRITER:
        engine = open_engine(settings, writer=True)
        try:
            engine.ensure_index()
            yield engine
        finally:
            engine.close()


def index_sources(
    settings: Settings,
    store: RawStore,
    source_ids: Iterable[str],
    progress: Callable[[IndexSummary], None] | None = None,
) -> IndexSummary:
    """Index what changed in the raw store for these sources."""
    with index_writer(settings) as engine:
        state = IndexState.for_data_dir(settings.data_dir)
        try:
            return index_changes(settings, store, engine, state, list(source_ids), progress)
        finally:
            state.close()


def remove_source_from_index(settings: Settings, source_id: str) -> int:
    """Take a source's records out of the search index; returns how many."""
    with index_writer(settings) as engine:
        return forget_source(settings, source_id, engine)


# -- jobs ---------------------------------------------------------------------------------------

JobKind = Literal["harvest", "reindex"]
JobStatus = Literal["running", "ok", "failed", "stopped", "incomplete"]


@dataclass
class HarvestJob:
    """One background run for a source: harvest then index (or only index, to retry records)."""

    source: str
    kind: JobKind
    full: bool
    trigger: str  # "schedule", or the user who started it
    local_ids: list[str] = field(default_factory=list)  # reindex: the records to normalize again
    started_at: datetime = field(default_factory=utcnow)
    ended_at: datetime | None = None
    phase: Literal["harvesting", "indexing", "finished"] = "harvesting"
    status: JobStatus = "running"
    error: str | None = None
    error_code: str | None = None  # the error's stable code (fedsearch/errors.py)
    run: RunSummary | None = None
    index: IndexSummary | None = None
    stop_event: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status == "running"

    def finish(self, status: JobStatus, error: str | None, code: str | None = None) -> None:
        self.status, self.error, self.phase, self.ended_at = status, error, "finished", utcnow()
        self.error_code = code if code or error is None else "internal"

    def as_dict(self) -> dict[str, Any]:
        run = self.run
        end = self.ended_at or utcnow()
        return {
            "source": self.source,
            "kind": self.kind,
            "mode": "full" if self.full else "incremental",
            "trigger": self.trigger,
            "status": self.status,
            "phase": self.phase,
            "stopping": self.running and self.stop_event.is_set(),
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "ended_at": self.ended_at.isoformat(timespec="seconds") if self.ended_at else None,
            "seconds": round((end - self.started_at).total_seconds(), 1),
            "run_id": run.id if run else None,
            "pages": run.pages if run else 0,
            "records": run.records if run else 0,
            "new": run.new if run else 0,
            "changed": run.changed if run else 0,
            "deleted": run.deleted if run else 0,
            "unchanged": run.unchanged if run else 0,
            "quarantined": (run.quarantined if run else 0) + (self.index.quarantined if self.index else 0),
            "indexed": self.index.seen if self.index else 0,
            "written": self.index.written if self.index else 0,
            "error": self.error,
            "error_code": self.error_code,
        }


class Harvests:
    """Background jobs, at most one per source in this process; the last one of each is kept for display."""

    def __init__(self, settings: Callable[[], Settings]):
        self._settings = settings
        self._jobs: dict[str, HarvestJob] = {}
        self._lock = threading.Lock()
        self._closing = False

    def get(self, source_id: str) -> HarvestJob | None:
        return self._jobs.get(source_id)

    def running(self) -> list[HarvestJob]:
        return [j for j in list(self._jobs.values()) if j.running]

    def start(self, source_id: str, *, full: bool = False, trigger: str = "schedule") -> HarvestJob:
        return self._launch(HarvestJob(source_id, "harvest", full, trigger))

    def reindex(self, source_id: str, local_ids: Iterable[str], *, trigger: str) -> HarvestJob:
        return self._launch(
            HarvestJob(source_id, "reindex", False, trigger, local_ids=list(local_ids), phase="indexing")
        )

    def _launch(self, job: HarvestJob) -> HarvestJob:
        with self._lock:
            current = self._jobs.get(job.source)
            if current is not None and current.running:
                raise AlreadyRunning(f"{job.source}: a harvest of this source is running")
            self._jobs[job.source] = job
            job.thread = threading.Thread(target=self._work, args=(job,), name=f"harvest-{job.source}", daemon=True)
            job.thread.start()
        return job

    def stop(self, source_id: str) -> bool:
        job = self._jobs.get(source_id)
        if job is None or not job.running:
            return False
        job.stop_event.set()
        return True

    def shutdown(self, timeout: float = 10.0) -> None:
        self._closing = True
        jobs = self.running()
        for job in jobs:
            job.stop_event.set()
        for job in jobs:
            if job.thread is not None:
                job.thread.join(timeout)

    def wait(self, source_id: str, timeout: float | None = None) -> HarvestJob | None:
        job = self._jobs.get(source_id)
        if job is not None and job.thread is not None:
            job.thread.join(timeout)
        return job

    def _work(self, job: HarvestJob) -> None:
        extra = {"source": job.source}
        try:
            settings = self._settings()
            try:
                source = settings.source(job.source)
            except KeyError as err:
                job.finish("failed", str(err.args[0]), "config.unknown_source")
                return
            with RawStore.for_settings(settings) as store:
                status: JobStatus = "ok"
                error, code = None, None
                if job.kind == "harvest":
                    run = harvest_source(
                        settings,
                        source,
                        store,
                        full=job.full,
                        progress=lambda r: setattr(job, "run", r),
                        stop=job.stop_event,
                    )
                    job.run = run
                    if run.id is None:  # never started: busy elsewhere, or an invalid configuration
                        job.finish("failed", run.error, run.error_code)
                        return
                    status, error, code = run.status, run.error, run.error_code
                    if self._closing:  # the process is stopping (a signal): the next run indexes them
                        job.finish(status, error, code)
                        return
                else:
                    store.mark_unindexed(source.id, job.local_ids)
                job.phase = "indexing"
                try:
                    job.index = index_sources(settings, store, [source.id], progress=lambda s: setattr(job, "index", s))
                except Exception as err:
                    log.exception("indexing failed", extra=extra)
                    job.finish(
                        "failed",
                        f"indexing failed: {err}; the records are stored and the next run indexes them",
                        error_code(err) if isinstance(err, FedsearchError) else "index.failed",
                    )
                    return
                if job.index.errors:
                    rejected = f"the search engine rejected {len(job.index.errors)} records: {job.index.errors[0]}"
                    status, error = "failed", f"{error}; {rejected}" if error else rejected
                    code = code or "engine.rejected_records"
                job.finish(status, error, code)
        except Exception as err:
            log.exception("harvest job crashed", extra=extra)
            job.finish("failed", f"unexpected error: {type(err).__name__}: {err}", error_code(err))


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
