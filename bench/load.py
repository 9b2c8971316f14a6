"""Timed passes over the queries: at a concurrency, through the API or straight to the engine."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Pass:
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: int = 0

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


def run_pass(
    items: list[Any], concurrency: int, make_worker: Callable[[], Callable[[Any], None]], deadline: float
) -> Pass:
    """Send every item once, `concurrency` at a time; each worker thread gets its own client."""
    todo: queue.Queue = queue.Queue()
    for item in items:
        todo.put(item)
    result = Pass()
    lock = threading.Lock()
    workers = [make_worker() for _ in range(concurrency)]
    start = threading.Barrier(concurrency + 1)

    def loop(work: Callable[[Any], None]) -> None:
        start.wait()
        mine: list[float] = []
        errors = 0
        while time.monotonic() < deadline:
            try:
                item = todo.get_nowait()
            except queue.Empty:
                break
            t = time.perf_counter()
            try:
                work(item)
            except Exception:
                errors += 1
                continue
            mine.append(time.perf_counter() - t)
        with lock:
            result.latencies.extend(mine)
            result.errors += errors

    threads = [threading.Thread(target=loop, args=(w,), daemon=True) for w in workers]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - began
    return result
