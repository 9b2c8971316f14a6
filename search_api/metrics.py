"""Prometheus metrics in the text exposition format, written by hand (no dependency).

Labels are bounded: a request is counted under its route template
(`/api/v1/records/{record_id}`), never its raw path.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict

from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _labels(**kw: str) -> str:
    parts = []
    for k, v in kw.items():
        v = v.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
        parts.append(f'{k}="{v}"')
    return "{" + ",".join(parts) + "}"


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, str], int] = defaultdict(int)  # (route, method, status)
        self.latency_buckets: dict[str, list[int]] = {}  # route -> cumulative-able bucket counts
        self.latency_sum: dict[str, float] = defaultdict(float)
        self.latency_count: dict[str, int] = defaultdict(int)
        self.engine_errors: dict[str, int] = defaultdict(int)  # error class -> count
        self.rate_limited = 0
        self.started = time.time()

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(route, method, str(status))] += 1
            buckets = self.latency_buckets.setdefault(route, [0] * len(LATENCY_BUCKETS))
            for i, bound in enumerate(LATENCY_BUCKETS):
                if seconds <= bound:
                    buckets[i] += 1
                    break
            self.latency_sum[route] += seconds
            self.latency_count[route] += 1

    def engine_error(self, kind: str) -> None:
        with self._lock:
            self.engine_errors[kind] += 1

    def render(
        self, extra: dict[str, float] | None = None, labelled: list[tuple[str, dict[str, str], float]] | None = None
    ) -> str:
        with self._lock:
            out = [
                "# HELP fedsearch_http_requests_total HTTP requests by route template, method and status.",
                "# TYPE fedsearch_http_requests_total counter",
            ]
            for (route, method, status), n in sorted(self.requests.items()):
                out.append(f"fedsearch_http_requests_total{_labels(route=route, method=method, status=status)} {n}")
            out += [
                "# HELP fedsearch_http_request_duration_seconds Time to answer a request, by route template.",
                "# TYPE fedsearch_http_request_duration_seconds histogram",
            ]
            for route in sorted(self.latency_buckets):
                running = 0
                for bound, n in zip(LATENCY_BUCKETS, self.latency_buckets[route]):
                    running += n
                    out.append(
                        f"fedsearch_http_request_duration_seconds_bucket{_labels(route=route, le=repr(bound))} {running}"
                    )
                count = self.latency_count[route]
                out.append(f"fedsearch_http_request_duration_seconds_bucket{_labels(route=route, le='+Inf')} {count}")
                out.append(
                    f"fedsearch_http_request_duration_seconds_sum{_labels(route=route)} {self.latency_sum[route]:.6f}"
                )
                out.append(f"fedsearch_http_request_duration_seconds_count{_labels(route=route)} {count}")
            out += [
                "# HELP fedsearch_engine_errors_total Search engine failures (unreachable, errors), by kind.",
                "# TYPE fedsearch_engine_errors_total counter",
            ]
            if not self.engine_errors:
                out.append(f"fedsearch_engine_errors_total{_labels(kind='EngineUnavailable')} 0")
            for kind, n in sorted(self.engine_errors.items()):
                out.append(f"fedsearch_engine_errors_total{_labels(kind=kind)} {n}")
            out += [
                "# HELP fedsearch_rate_limited_total Requests answered 429 by the per-client rate limit.",
                "# TYPE fedsearch_rate_limited_total counter",
                f"fedsearch_rate_limited_total {self.rate_limited}",
                "# HELP fedsearch_process_start_time_seconds When this process started.",
                "# TYPE fedsearch_process_start_time_seconds gauge",
                f"fedsearch_process_start_time_seconds {self.started:.3f}",
            ]
        for name, value in (extra or {}).items():
            out += [f"# TYPE {name} gauge", f"{name} {value}"]
        typed: set[str] = set()
        for name, labels, value in labelled or []:
            if name not in typed:
                out.append(f"# TYPE {name} gauge")
                typed.add(name)
            out.append(f"{name}{_labels(**labels)} {value:g}")
        return "\n".join(out) + "\n"


class MetricsMiddleware:
    """Times every request and counts it under the route that answered it."""

    def __init__(self, app: ASGIApp, metrics: Metrics):
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or (
                "/static" if scope["path"].startswith("/static/") else "unmatched"
            )
            self.metrics.observe(template, scope["method"], status, time.perf_counter() - started)
