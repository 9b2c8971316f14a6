"""How many server processes `fedsearch serve` runs, and how each worker process builds its app.

One uvicorn process runs Python on one core at a time (the GIL), so a busy server
runs several: `server.workers` of them (0, the default, means one per core, at most
MAX_AUTO_WORKERS). Each worker opens the index read-only (the embedded engine allows
many readers; Elasticsearch is a client) and re-reads the same configuration file,
whose path the parent passes in FEDSEARCH_CONFIG. A configuration built in memory (no
file, as in tests) has nothing to pass, so it is served by one process.

Only one worker runs the harvest scheduler: the first to take the lock file
`<data_dir>/scheduler.lock` (fedsearch_app/admin/site.py asks `may_run_scheduler`).
Sizing: docs/operations.md, "Server processes".
"""

from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path
from typing import IO

from fedsearch.config import ENV_VAR, Settings

log = logging.getLogger(__name__)

MAX_AUTO_WORKERS = 4
ENV_WORKER = "FEDSEARCH_SERVER_WORKER"  # set in worker processes: "1"
SCHEDULER_LOCK = "scheduler.lock"

_scheduler_lock: IO[bytes] | None = None


def worker_count(settings: Settings, requested: int | None = None) -> int:
    """Processes to run: `requested`, else server.workers, else (0) the number of cores up to MAX_AUTO_WORKERS."""
    n = requested if requested is not None else settings.server.workers
    if n <= 0:
        n = min(os.cpu_count() or 1, MAX_AUTO_WORKERS)
    if n > 1 and settings.config_path is None:
        log.info("the configuration was not read from a file: serving with one process")
        return 1
    return n


def worker_environment(settings: Settings) -> dict[str, str]:
    """What the worker processes need to build the same app: the configuration file and their role."""
    return {ENV_VAR: str(Path(settings.config_path).resolve()), ENV_WORKER: "1"}


def may_run_scheduler(settings: Settings) -> bool:
    """True in a single-process server, and in the one worker holding the scheduler lock."""
    global _scheduler_lock
    if os.environ.get(ENV_WORKER) != "1":
        return True
    if _scheduler_lock is not None:
        return True
    path = Path(settings.data_dir) / SCHEDULER_LOCK
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "ab")
    except OSError as err:
        log.warning("cannot open the scheduler lock %s (%s): this worker runs no scheduler", path, err)
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # another worker has it
        fh.close()
        return False
    _scheduler_lock = fh
    return True
