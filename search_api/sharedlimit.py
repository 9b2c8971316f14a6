"""The rate limit's token buckets shared by every worker process of one server.

With several workers (search_api/serving.py) a client's requests land on any of them,
so buckets kept per process would let it through N times as often. The parent
creates one small file before starting the workers (`create`) and names it in
FEDSEARCH_RATELIMIT_FILE; each worker maps it and takes tokens under an exclusive
flock, so the limit is the configured one whatever worker answers.

The file is a fixed table of SLOTS buckets, found by a hash of the client address
with linear probing; when a probe window is full, the bucket that has refilled the
most is reused (a full bucket is the same as no bucket). CLOCK_MONOTONIC is the same
in every process, so `time.monotonic()` stamps mean the same thing in all of them.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading
import time
from pathlib import Path

ENV_FILE = "FEDSEARCH_RATELIMIT_FILE"
SLOTS = 65_536
PROBE = 16
_SLOT = struct.Struct("<Qdd")  # client hash (0: free), tokens, last update


def create() -> Path:
    """A fresh, zeroed bucket file for one server run (the caller removes it at the end)."""
    # mkstemp makes a private file (mode 0600, unpredictable name); /dev/shm keeps it in memory.
    base = "/dev/shm" if os.path.isdir("/dev/shm") else None  # noqa: S108
    fd, name = tempfile.mkstemp(prefix="fedsearch-ratelimit-", dir=base)
    os.ftruncate(fd, SLOTS * _SLOT.size)
    os.close(fd)
    return Path(name)


class SharedTokenBuckets:
    """TokenBuckets (search_api/ratelimit.py) kept in a file every worker maps."""

    def __init__(self, path: Path | str, per_minute: int, *, clock=time.monotonic):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self.clock = clock
        self._fd = os.open(path, os.O_RDWR)
        self._map = mmap.mmap(self._fd, SLOTS * _SLOT.size)
        self._lock = threading.Lock()  # flock is per open file: threads of one process need their own lock

    def take(self, client: str) -> float:
        """Spend one token; returns 0 if allowed, else the seconds until one is available."""
        key = int.from_bytes(hashlib.blake2b(client.encode(), digest_size=8).digest(), "little") or 1
        now = self.clock()
        start = key % SLOTS
        with self._lock:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                slot, tokens = self._find(key, start, now)
                if tokens >= 1:
                    _SLOT.pack_into(self._map, slot * _SLOT.size, key, tokens - 1, now)
                    return 0.0
                _SLOT.pack_into(self._map, slot * _SLOT.size, key, tokens, now)
                return (1 - tokens) / self.rate
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)

    def _find(self, key: int, start: int, now: float) -> tuple[int, float]:
        """The client's slot and its tokens refilled to `now` (a new bucket is full)."""
        best, best_tokens = start, -1.0
        for i in range(PROBE):
            slot = (start + i) % SLOTS
            k, tokens, last = _SLOT.unpack_from(self._map, slot * _SLOT.size)
            if k == key:
                return slot, min(self.capacity, tokens + (now - last) * self.rate)
            refilled = self.capacity if k == 0 else min(self.capacity, tokens + (now - last) * self.rate)
            if refilled > best_tokens:
                best, best_tokens = slot, refilled
        # A free slot, or the fullest bucket (usually full: forgetting it changes nothing; at worst
        # one of 16 clients crowding one probe window gets its burst back early).
        return best, self.capacity

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)


def buckets_for_workers(per_minute: int) -> SharedTokenBuckets | None:
    """The shared buckets when this process is one of several workers, else None (keep them in memory)."""
    path = os.environ.get(ENV_FILE)
    return SharedTokenBuckets(path, per_minute) if path and os.path.exists(path) else None
