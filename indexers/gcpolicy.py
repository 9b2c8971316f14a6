"""Fewer garbage-collector passes while indexing.

Indexing allocates millions of small objects (parsed XML, Records, index
documents) that die young, while large long-lived structures (analysis
caches, dedup state) sit in the old generation. With CPython's default
thresholds (700, 10, 10) the collector runs so often, and walks the old
objects so often, that it took ~20-30% of normalizing and analysing time.
Raising the thresholds for the duration of an indexing run keeps collection
(cycles are still collected) but at a fraction of the cost. Nothing else changes.
"""

from __future__ import annotations

import functools
import gc
import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

THRESHOLDS = (20_000, 20, 20)

_lock = threading.Lock()
_depth = 0
_saved: tuple[int, int, int] | None = None

P = ParamSpec("P")
R = TypeVar("R")


def relaxed_gc(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` with THRESHOLDS (or the current ones, if higher); restored when the last such call ends."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        global _depth, _saved
        with _lock:
            if _depth == 0:
                _saved = gc.get_threshold()
                gc.set_threshold(*(max(a, b) for a, b in zip(_saved, THRESHOLDS)))
            _depth += 1
        try:
            return func(*args, **kwargs)
        finally:
            with _lock:
                _depth -= 1
                if _depth == 0 and _saved is not None:
                    gc.set_threshold(*_saved)

    return wrapper
