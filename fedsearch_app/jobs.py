"""Background jobs: a source's harvest then indexing (or indexing alone, to retry records), one per source.

Indexing takes the one index writer: in this process one job at a time
(`index_writer`); another process writing (a `fedsearch harvest`) makes the
indexing step fail with a message, and the stored records are indexed by the
next run.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from fedsearch.config import Settings
from fedsearch.engines import SearchEngine, open_engine
from fedsearch.errors import FedsearchError, error_code
from fedsearch_app.schedules import utcnow
from indexers.pipeline import IndexSummary, forget_source, index_changes
from indexers.state import IndexState
from rawstore.harvest import harvest_source
from rawstore.models import RunSummary
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.scheduler")


class AlreadyRunning(FedsearchError):
    """A job for this source is running in this process."""

    error_code = "harvest.already_running"


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
