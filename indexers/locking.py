"""One indexer per data directory, and how many raw records it takes per batch."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fedsearch.engines import EngineError

BATCH = 2000  # raw records per batch; the engine commits once per batch
BATCH_ENV = "FEDSEARCH_INDEX_BATCH"  # overrides BATCH (tests make it small so kills land mid-run)


class IndexBusy(EngineError):
    """Another process (or job) is indexing this data directory."""

    error_code = "engine.index_busy"


def batch_size() -> int:
    raw = os.environ.get(BATCH_ENV, "").strip()
    if not raw:
        return BATCH
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ValueError(f"{BATCH_ENV}={raw!r} is not a positive number of records per batch")
    return value


@contextmanager
def index_lock(data_dir: Path) -> Iterator[None]:
    """One indexer per data directory (flock: the kernel releases it if the process dies)."""
    lock_dir = Path(data_dir) / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_dir / "index.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise IndexBusy(
                f"another process is indexing {data_dir} (a harvest or a reindex); "
                "the stored records are indexed by the next run"
            ) from None
        yield
    finally:
        os.close(fd)
