"""The harvest runner: one connector, one source, one run, into the raw store.

What it decides:
- `since`: the start of the last successful run's window (None for --full, the first run,
  or a connector that always lists everything);
- resume: the newest run of the source that was killed (still 'running' with no process
  holding the source's lock) or stopped resumes from its checkpoint, with its `since`;
- one transaction per checkpoint (a page): records, quarantines, counts and the
  checkpoint are stored together, so a killed harvest loses and duplicates nothing;
- after a complete full listing that can be trusted (every page parsed, counts agreeing),
  records the partner no longer lists become deletions; a sweep over `sweep_max_share` of
  the source is held for a librarian (`--confirm-deletions`, or the admin).

It never raises for a partner's fault: the run ends 'failed' (or 'incomplete' when the
partner's answers were damaged) with a reason people can read, and records stored before stay. `harvest_sources` runs several; one source's
failure never stops the others.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from connectors.base import (
    Checkpoint,
    Connector,
    HarvestFailed,
    HarvestIncomplete,
    HarvestStopped,
    Quarantine,
    RawRecord,
)
from connectors.http import PartnerError
from connectors.registry import UnknownConnector, get_connector
from fedsearch.config import Settings, SourceConfig
from fedsearch.errors import FedsearchError, error_code
from rawstore.deletions import confirm_held_sweeps, sweep_after_full_listing  # noqa: F401 - re-exported (the pipeline, the CLI)
from rawstore.models import RunMode, RunStatus, RunSummary, parse_time, utcnow
from rawstore.store import RawStore

log = logging.getLogger("fedsearch.harvest")

Progress = Callable[[RunSummary], None]

# A connector that never yields a checkpoint still gets its records stored in batches of this size.
FLUSH_EVERY = 1000


class SourceBusy(FedsearchError):
    """Another harvest of the same source is running."""

    error_code = "harvest.source_busy"


@contextmanager
def source_lock(store: RawStore, source_id: str) -> Iterator[None]:
    """An exclusive lock per source (flock: released by the kernel if the process dies)."""
    lock_dir = store.path.parent / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / f"{source_id}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SourceBusy(f"{source_id}: another harvest of this source is running") from None
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _resolve(settings: Settings, source: SourceConfig | str) -> SourceConfig:
    return settings.source(source) if isinstance(source, str) else source


def _failed_summary(source_id: str, message: str, code: str) -> RunSummary:
    now = utcnow()
    return RunSummary(
        id=None,
        source=source_id,
        status="failed",
        mode="full",
        started_at=now,
        ended_at=now,
        error=message,
        error_code=code,
    )


def harvest_source(
    settings: Settings,
    source: SourceConfig | str,
    store: RawStore,
    full: bool = False,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    confirm_deletions: bool = False,
) -> RunSummary:
    """Harvest one source into `store`; returns the run (status ok, failed, incomplete or stopped).

    `confirm_deletions`: a librarian has checked; a full listing's sweep is not held by the brake.
    """
    source = _resolve(settings, source)
    extra: dict[str, Any] = {"source": source.id}
    try:
        cls = get_connector(source.connector)
        options = cls.Options.model_validate(source.options)
    except (UnknownConnector, ValidationError) as err:
        message = f"the source's configuration is not valid: {err}"
        log.error(message, extra=extra)
        return _failed_summary(
            source.id, message, error_code(err) if isinstance(err, UnknownConnector) else "config.invalid_value"
        )
    policy = settings.policy_for(source)
    try:
        with source_lock(store, source.id):
            connector = cls(source, options, policy)
            connector.stop = stop  # network connectors hand it to their HTTP client
            return _run(
                connector, source, store, full=full, progress=progress, stop=stop, confirm_deletions=confirm_deletions
            )
    except SourceBusy as err:
        log.warning(str(err), extra=extra)
        return _failed_summary(source.id, str(err), err.error_code)


def _plan(
    connector: Connector, source: SourceConfig, store: RawStore, full: bool
) -> tuple[RunSummary | None, RunMode, str | None]:
    """(run to resume or None, mode, since) for this run."""
    incremental_ok = bool(connector.incremental) and not full
    last = store.last_run(source.id)
    if last is not None and last.status in ("running", "stopped", "incomplete"):
        if last.mode == "full" or incremental_ok:
            return last, last.mode, last.since
    if not incremental_ok:
        return None, "full", None
    success = store.last_successful_run(source.id)
    if success is None:
        return None, "full", None
    return None, "incremental", success.window_start


def planned_mode(connector: Connector, source: SourceConfig, store: RawStore, *, full: bool) -> str:
    """'full' or 'incremental': what a run started now would do (for the admin's notice and audit log)."""
    return _plan(connector, source, store, full)[1]


def _run(
    connector: Connector,
    source: SourceConfig,
    store: RawStore,
    *,
    full: bool,
    progress: Progress | None,
    stop: threading.Event | None,
    confirm_deletions: bool = False,
) -> RunSummary:
    resume, mode, since = _plan(connector, source, store, full)
    success = store.last_successful_run(source.id)
    connector.previous_state = success.checkpoint if success is not None and mode == "incremental" else None
    run = store.start_run(
        source.id,
        mode=mode,
        since=since,
        window_start=resume.window_start if resume else None,
        window_id=resume.window_id if resume else None,
        resumed_from=resume.id if resume else None,
        checkpoint=resume.checkpoint if resume else None,
        pid=os.getpid(),
    )
    store.mark_interrupted(source.id, resumed_by=run.id)
    extra: dict[str, Any] = {"source": source.id, "run": run.id}
    if resume:
        log.info("resuming run %s (%s) from its last checkpoint", resume.id, resume.status, extra=extra)
    log.info("harvest started (%s%s)", mode, f", since {since}" if since else "", extra=extra)
    max_bytes = connector.policy.max_record_bytes
    records: list[RawRecord] = []
    quarantines: list[Quarantine] = []

    def flush(state: dict[str, Any] | None, *, page: bool) -> None:
        counts = store.commit_page(run, records, quarantines, state, new_page=page)
        for q in quarantines:
            log.warning("quarantined: %s", q.reason, extra={**extra, "record": q.local_id or q.location})
        records.clear()
        quarantines.clear()
        log.debug("stored page %s: %s", run.pages, counts, extra={**extra, "page": run.pages})
        if progress is not None:
            progress(run)

    status: RunStatus = "ok"
    error: str | None = None
    code: str | None = None
    items = connector.harvest(
        since=parse_time(since) if since else None, checkpoint=resume.checkpoint if resume else None
    )
    try:
        for item in items:
            if isinstance(item, RawRecord):
                problem = _check_record(item, max_bytes)
                if problem:
                    quarantines.append(problem)
                else:
                    records.append(item)
            elif isinstance(item, Quarantine):
                quarantines.append(item)
            elif isinstance(item, Checkpoint):
                flush(item.state, page=True)
            if len(records) + len(quarantines) >= FLUSH_EVERY:
                flush(None, page=False)
            if stop is not None and stop.is_set():
                raise HarvestStopped(f"{source.id}: stop requested")
        flush(None, page=bool(records or quarantines))  # a last page without a checkpoint after it
        if mode == "full":
            sweep_after_full_listing(
                store, run, extra, max_share=connector.policy.sweep_max_share, confirmed=confirm_deletions
            )
    except HarvestStopped:
        status, error = "stopped", "stopped on request; the next run resumes from the last checkpoint"
        code = HarvestStopped.error_code
    except HarvestIncomplete as err:
        code = error_code(err)
        status, error = (
            "incomplete",
            (
                f"{err.message}; what was read before is kept, nothing was marked "
                "deleted, and the next run goes on from the last checkpoint"
            ),
        )
    except HarvestFailed as err:
        status, error, code = "failed", err.message, error_code(err)
    except PartnerError as err:
        status, error, code = "failed", f"{err.message} (URL: {err.url})", error_code(err)
    except Exception as err:  # a connector bug must not take the other sources down
        log.exception("harvest crashed", extra=extra)
        status, error, code = "failed", f"unexpected error: {type(err).__name__}: {err}", error_code(err)
    except BaseException:  # Ctrl-C: keep what we have, then let it through
        _safe_flush(flush)
        store.finish_run(
            run, "stopped", "interrupted (Ctrl-C); the next run resumes from the last checkpoint", "harvest.interrupted"
        )
        raise
    finally:
        close = getattr(items, "close", None)
        if close is not None:
            close()  # ends the connector's HTTP client or open files
    if status != "ok":
        _safe_flush(flush)
    store.finish_run(run, status, error, code)
    level = logging.INFO if status == "ok" else logging.WARNING if status == "stopped" else logging.ERROR
    log.log(
        level,
        "harvest %s: %s records (%s new, %s changed, %s deleted, %s unchanged, %s quarantined) in %s page%s%s",
        status,
        run.records,
        run.new,
        run.changed,
        run.deleted,
        run.unchanged,
        run.quarantined,
        run.pages,
        "" if run.pages == 1 else "s",
        f"; {error}" if error else "",
        extra={**extra, "count": run.records},
    )
    return run


def _safe_flush(flush: Callable[..., None]) -> None:
    try:
        flush(None, page=False)
    except Exception:
        log.exception("could not store the last records of the run")


def _check_record(item: RawRecord, max_bytes: int) -> Quarantine | None:
    if not isinstance(item.local_id, str) or not item.local_id.strip():
        return Quarantine(
            reason="the record has no identifier", payload=item.payload or b"", code="record.no_identifier"
        )
    payload: object = item.payload  # a plugin connector may break the type RawRecord declares
    if not isinstance(payload, bytes):
        return Quarantine(
            reason="the connector gave a payload that is not bytes", local_id=item.local_id, code="record.not_bytes"
        )
    if len(item.payload) > max_bytes:
        return Quarantine(
            reason=f"the record is {len(item.payload)} bytes, over the limit of {max_bytes} (max_record_bytes)",
            local_id=item.local_id,
            payload=item.payload,
            code="record.too_large",
        )
    return None


def harvest_sources(
    settings: Settings,
    source_ids: Iterable[str] | None = None,
    full: bool = False,
    store: RawStore | None = None,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
    confirm_deletions: bool = False,
) -> list[RunSummary]:
    """Harvest several sources one after another (default: every enabled one)."""
    own = store is None
    store = store or RawStore.for_settings(settings)
    wanted = list(source_ids) if source_ids else [s.id for s in settings.sources if s.enabled]
    results = []
    try:
        for sid in wanted:
            if stop is not None and stop.is_set():
                break
            try:
                source = settings.source(sid)
            except KeyError as err:
                log.error(str(err.args[0]), extra={"source": sid})
                results.append(_failed_summary(sid, str(err.args[0]), "config.unknown_source"))
                continue
            try:
                results.append(
                    harvest_source(
                        settings,
                        source,
                        store,
                        full=full,
                        progress=progress,
                        stop=stop,
                        confirm_deletions=confirm_deletions,
                    )
                )
            except Exception as err:
                log.exception("harvest failed", extra={"source": sid})
                results.append(_failed_summary(sid, f"unexpected error: {type(err).__name__}: {err}", error_code(err)))
        return results
    finally:
        if own:
            store.close()


def main(argv: list[str] | None = None) -> int:
    """`python -m rawstore.harvest --config FILE [--source ID] [--full]`: harvest into the raw store only."""
    import argparse
    import json

    from fedsearch.config import load_config
    from fedsearch.logs import setup_logging

    p = argparse.ArgumentParser(prog="python -m rawstore.harvest", description=main.__doc__)
    p.add_argument("--config")
    p.add_argument("--source", action="append", metavar="ID")
    p.add_argument("--full", action="store_true")
    p.add_argument("--log-level", default="INFO")
    p.add_argument("--progress", action="store_true", help="print one JSON line per stored page on stdout")
    args = p.parse_args(argv)
    setup_logging(args.log_level)
    settings = load_config(args.config)

    def show(run: RunSummary) -> None:
        print(json.dumps({"run": run.id, "source": run.source, "pages": run.pages, "records": run.records}), flush=True)

    results = harvest_sources(settings, args.source, full=args.full, progress=show if args.progress else None)
    for run in results:
        rate = f", {run.rate:.0f} records/s" if run.rate else ""
        print(
            f"{run.source}: {run.status}: {run.records} records ({run.new} new, {run.changed} changed, "
            f"{run.deleted} deleted, {run.unchanged} unchanged, {run.quarantined} quarantined){rate}"
            + (f"; {run.error}" if run.error else "")
        )
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
