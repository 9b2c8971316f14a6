"""A per-client rate limit: one token bucket per IP address, in memory.

Each client may burst up to `per_minute` requests, refilled continuously at
`per_minute / 60` per second. Over the limit it gets 429 with Retry-After.
Memory is bounded: buckets that have refilled completely are forgotten.
Static files, /healthz, /metrics and CORS preflights are not limited.
"""

from __future__ import annotations

import json
import math
import threading
import time

from starlette.types import ASGIApp, Receive, Scope, Send

from search_api.metrics import Metrics
from search_api.problems import PROBLEM_MEDIA_TYPE, TYPE_BASE
from search_api.sharedlimit import SharedTokenBuckets, buckets_for_workers

EXEMPT_PREFIXES = ("/static/", "/healthz", "/metrics")


class TokenBuckets:
    def __init__(self, per_minute: int, *, clock=time.monotonic, max_clients: int = 50_000):
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0  # tokens per second
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, tuple[float, float]] = {}  # client -> (tokens, last update)
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token; returns 0 if allowed, else the seconds until one is available."""
        now = self.clock()
        with self._lock:
            tokens, last = self._buckets.get(client, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self._buckets[client] = (tokens - 1, now)
                if len(self._buckets) > self.max_clients:
                    self._forget_full(now)
                return 0.0
            self._buckets[client] = (tokens, now)
            return (1 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= self.capacity]
        for c in full:
            del self._buckets[c]


class RateLimitMiddleware:
    def __init__(self, app: ASGIApp, per_minute: int, metrics: Metrics | None = None):
        self.app = app
        # Several worker processes share one table (search_api/sharedlimit.py); one process keeps its own.
        self.buckets: TokenBuckets | SharedTokenBuckets = buckets_for_workers(per_minute) or TokenBuckets(per_minute)
        self.per_minute = per_minute
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] == "OPTIONS" or scope["path"].startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        client = (scope.get("client") or ("unknown", 0))[0]
        wait = self.buckets.take(client)
        if not wait:
            await self.app(scope, receive, send)
            return
        if self.metrics:
            self.metrics.rate_limited += 1
        retry_after = str(max(1, math.ceil(wait)))
        if scope["path"].startswith("/api/") or scope["path"].endswith(".xml"):
            body = json.dumps(
                {
                    "type": TYPE_BASE + "rate-limited",
                    "title": "Too many requests",
                    "status": 429,
                    "detail": f"this client sent more than {self.per_minute} requests a minute; "
                    f"retry after {retry_after} seconds",
                    "instance": scope["path"],
                    "code": "api.rate_limited",
                }
            ).encode()
            media_type = PROBLEM_MEDIA_TYPE
        else:
            body = (
                '<!doctype html><html lang="en"><meta charset="utf-8"><title>429</title>'
                f'<p lang="ky">Суроолор өтө көп. {retry_after} секунддан кийин кайталаңыз.</p>'
                f'<p lang="ru">Слишком много запросов. Повторите через {retry_after} с.</p>'
                f"<p>Too many requests. Try again in {retry_after} seconds.</p></html>"
            ).encode()
            media_type = "text/html; charset=utf-8"
        await send(
            {
                "type": "http.response.start",
                "status": 429,
                "headers": [
                    (b"content-type", media_type.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", retry_after.encode()),
                    (b"cache-control", b"no-store"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
