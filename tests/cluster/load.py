"""A bounded query load against a running `fedsearch serve`, and the server itself.

`QueryLoad` runs N clients, each asking one search after another until stopped,
and keeps every answer: when it came, its status and the total it reported.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT


@dataclass(frozen=True)
class Answer:
    at: float  # time.monotonic() when the answer came
    query: str
    status: int  # 0: no HTTP answer at all (connection failed, timed out)
    total: int | None


@dataclass
class QueryLoad:
    base_url: str
    queries: list[str]
    clients: int = 8
    answers: list[Answer] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _threads: list[threading.Thread] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> QueryLoad:
        for n in range(self.clients):
            t = threading.Thread(target=self._client, args=(n,), daemon=True)
            t.start()
            self._threads.append(t)
        return self

    def stop(self) -> list[Answer]:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)
        return self.answers

    def _client(self, n: int) -> None:
        i = n
        with httpx.Client(base_url=self.base_url, timeout=30) as http:
            while not self._stop.is_set():
                q = self.queries[i % len(self.queries)]
                i += 1
                try:
                    r = http.get("/api/v1/search", params={"q": q, "per_page": 5})
                    answer = Answer(
                        time.monotonic(), q, r.status_code, r.json().get("total") if r.status_code == 200 else None
                    )
                except httpx.HTTPError:
                    answer = Answer(time.monotonic(), q, 0, None)
                with self._lock:
                    self.answers.append(answer)


class Server:
    """`fedsearch serve` with a configuration, in a subprocess, until `stop`."""

    def __init__(self, config: Path, port: int, log: Path):
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self._out = log.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "serve"],
            cwd=ROOT,
            env={**os.environ, "FEDSEARCH_SCHEDULER": "off"},
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/healthz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if self.proc.poll() is not None:
                break
            time.sleep(0.3)
        self.stop()
        pytest.fail(f"fedsearch serve did not become healthy:\n{log.read_text()}", pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self._out.close()


def summary(answers: list[Answer]) -> str:
    by_status: dict[int, int] = {}
    for a in answers:
        by_status[a.status] = by_status.get(a.status, 0) + 1
    ok = by_status.get(200, 0)
    share = ok / len(answers) if answers else 0.0
    return f"{len(answers)} queries, {ok} answered 200 ({share:.2%}); by status {dict(sorted(by_status.items()))}"
