"""A slow or dead engine costs the site nothing else.

Two parts:

* `CircuitBreaker` (used by SearchService around every engine call): after
  `failures` calls in a row find the engine unavailable (refused, timed out),
  calls fail at once with EngineUnavailable (503) for `cooldown` seconds; then
  one call is let through as a probe, and its outcome closes or reopens the breaker.
* `EngineGate` (ASGI middleware): at most `max_in_flight` requests that need
  the engine run at once; others wait for a slot on the event loop (holding no
  thread) and get 503 after `queue_seconds`. So hung engine calls can hold only
  a few of the server's worker threads, and static files, /healthz, /metrics
  and the admin keep answering.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from fedsearch.engines.base import EngineUnavailable
from search_api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE

log = logging.getLogger("fedsearch.engine.guard")

# Paths that ask the engine; everything else (static, /healthz, /metrics, /admin, docs) never waits for it.
ENGINE_PATHS = ("/api/v1/search", "/api/v1/records", "/api/v1/sources", "/api/v1/suggest", "/search", "/records/")
RETRY_AFTER = "10"


class CircuitOpen(EngineUnavailable):
    """Refused without asking the engine: it failed too often just now (logged once, when the breaker opened)."""


class CircuitBreaker:
    def __init__(self, failures: int = 5, cooldown: float = 10.0, clock: Callable[[], float] = time.monotonic):
        self.threshold = failures
        self.cooldown = cooldown
        self.clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._open_until: float | None = None  # None: closed
        self._probing = False
        self._reason = ""
        self.opened = 0  # times it opened, for /metrics

    @property
    def is_open(self) -> bool:
        with self._lock:
            return self._open_until is not None

    def before_call(self) -> None:
        """Raise EngineUnavailable while open; after the cooldown, let one probe through."""
        with self._lock:
            if self._open_until is None:
                return
            wait = self._open_until - self.clock()
            if wait <= 0 and not self._probing:
                self._probing = True
                return
        raise CircuitOpen(
            f"the search engine failed {self.threshold} times in a row ({self._reason}); "
            f"not asking it again for {max(wait, 0):.0f} s"
        )

    def succeeded(self) -> None:
        with self._lock:
            if self._open_until is not None:
                log.warning("search engine answers again; circuit closed")
            self._failures, self._open_until, self._probing = 0, None, False

    def failed(self, reason: str) -> None:
        with self._lock:
            self._failures += 1
            self._probing = False
            self._reason = reason[:300]
            if self._failures >= self.threshold:
                if self._open_until is None:
                    self.opened += 1
                    log.error(
                        "search engine failed %d times in a row, answering 503 for %.0f s: %s",
                        self._failures,
                        self.cooldown,
                        self._reason,
                    )
                self._open_until = self.clock() + self.cooldown


def needs_engine(path: str) -> bool:
    return path == "/" or path.startswith(ENGINE_PATHS)


class EngineGate:
    """ASGI middleware: a bounded number of engine-bound requests in flight; the rest wait, then 503."""

    def __init__(self, app: ASGIApp, max_in_flight: int, queue_seconds: float):
        self.app = app
        self.max_in_flight = max_in_flight
        self.queue_seconds = queue_seconds
        self._slots: asyncio.Semaphore | None = None  # made on the server's event loop
        self._loop: asyncio.AbstractEventLoop | None = None
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not needs_engine(scope["path"]):
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a semaphore belongs to one loop (tests run an app on several)
            self._slots, self._loop = asyncio.Semaphore(self.max_in_flight), loop
        slots = self._slots
        assert slots is not None
        try:
            await asyncio.wait_for(slots.acquire(), self.queue_seconds)
        except TimeoutError:
            self.refused += 1
            await _busy(scope, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            slots.release()


async def _busy(scope: Scope, send: Send) -> None:
    detail = "the search engine is answering slowly and too many searches are waiting; please try again shortly"
    if scope["path"].startswith("/api/"):
        body = json.dumps(
            {
                "type": TYPE_BASE + "engine-unavailable",
                "title": "Search is temporarily unavailable",
                "status": 503,
                "detail": detail,
                "instance": scope["path"],
                "code": "engine.busy",
            }
        ).encode()
        media_type = PROBLEM_MEDIA_TYPE
    else:
        body = (
            '<!doctype html><html lang="en"><meta charset="utf-8"><title>503</title>'
            '<p lang="ky">Издөө убактылуу иштебей жатат. Бир аздан кийин кайталаңыз.</p>'
            '<p lang="ru">Поиск временно недоступен. Повторите чуть позже.</p>'
            "<p>Search is temporarily unavailable. Please try again shortly.</p></html>"
        ).encode()
        media_type = "text/html; charset=utf-8"
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", media_type.encode()),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", RETRY_AFTER.encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
