"""A hung or broken engine costs the site nothing else (issue 12).

A real socket that accepts connections and never answers stands in for a hung
Elasticsearch node; the app runs under uvicorn. Under 60 concurrent searches,
/healthz, static files and the admin login page keep answering, and searches
get 503. A corrupted embedded index gives 503 (never 500) and recovers after a
rebuild. Bounds on time are generous: the speed is measured in bench/.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import uvicorn

from fedsearch.config import ElasticsearchConfig, ServerConfig, Settings
from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch_app.app import create_app
from tests.corpus import CORPUS
from tests.net import AcceptLoop
from tests.search_api.conftest import SOURCES, build_engine, free_port

ENGINE_TIMEOUT = 8.0  # the engine's read timeout in these tests; every bound below is far above what is needed


class BlackHole(AcceptLoop):
    """A TCP server that accepts every connection and never answers."""

    def __init__(self) -> None:
        super().__init__(backlog=512)
        self.conns: list[socket.socket] = []
        self.start()

    def on_connect(self, conn: socket.socket) -> None:
        self.conns.append(conn)  # held open, never read from or written to

    def close(self) -> None:
        self.stop()
        for c in self.conns:
            c.close()


class Served:
    """The whole app under uvicorn on a free port, in a thread."""

    def __init__(self, settings: Settings):
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(create_app(settings), host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline and self.thread.is_alive(), "the app did not start"
            time.sleep(0.05)
        return self

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)


def server_config(**overrides) -> ServerConfig:
    return ServerConfig(**{"rate_limit_per_minute": 1_000_000, "secure_cookies": False, **overrides})


@pytest.fixture
def hung_es(tmp_path: Path) -> Iterator[Settings]:
    hole = BlackHole()
    yield Settings(
        engine="elasticsearch",
        data_dir=tmp_path,
        sources=SOURCES,
        elasticsearch=ElasticsearchConfig(
            hosts=[f"http://127.0.0.1:{hole.port}"], request_timeout=ENGINE_TIMEOUT, search_timeout=ENGINE_TIMEOUT
        ),
        server=server_config(engine_breaker_failures=3, engine_breaker_seconds=60),
    )
    hole.close()


async def _timed(client: httpx.AsyncClient, path: str) -> tuple[str, int, float]:
    started = time.perf_counter()
    r = await client.get(path)
    return path, r.status_code, time.perf_counter() - started


async def _load(base: str, searches: int) -> tuple[list[tuple[str, int, float]], list[tuple[str, int, float]]]:
    """`searches` concurrent searches; while they run, the pages that don't need the engine, one after another."""
    limits = httpx.Limits(max_connections=searches + 10)
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as client:
        pending = [asyncio.create_task(_timed(client, f"/api/v1/search?q=climate{i}")) for i in range(searches)]
        await asyncio.sleep(0.5)  # the searches are in flight
        others = []
        for _ in range(5):
            for path in ("/healthz", "/static/app.css", "/admin/login", "/metrics", "/admin/static/admin.css"):
                others.append(await _timed(client, path))
        return await asyncio.gather(*pending), others


def test_a_hung_elasticsearch_costs_the_site_nothing_else(hung_es):
    with Served(hung_es) as app:
        started = time.perf_counter()
        # On a thread of its own: another test's library may have left an event loop running on this one.
        with ThreadPoolExecutor(1) as pool:
            searches, others = pool.submit(lambda: asyncio.run(_load(app.url, 60))).result()
        elapsed = time.perf_counter() - started
        statuses = {path: code for path, code, _ in others}
        # Every search is refused with 503: none hangs, none is a 500.
        assert {code for _, code, _ in searches} == {503}
        assert max(t for _, _, t in searches) < 4 * ENGINE_TIMEOUT
        # The rest of the site answered while the searches waited: each well before the engine's timeout.
        assert statuses["/healthz"] == 503 and statuses["/metrics"] == 200
        assert statuses["/static/app.css"] == 200 and statuses["/admin/login"] == 200
        slowest = max(t for _, _, t in others)
        assert slowest < ENGINE_TIMEOUT, others
        # The breaker is open now: a search is refused at once, without asking the engine.
        r = httpx.get(f"{app.url}/api/v1/search", params={"q": "x"}, timeout=30)
        assert r.status_code == 503 and r.headers["retry-after"]
        metrics = httpx.get(f"{app.url}/metrics", timeout=30).text
        assert "fedsearch_engine_circuit_open 1" in metrics and "fedsearch_engine_up 0" in metrics
        times = sorted(t for _, _, t in others)
        print(
            f"\n60 searches on a hung engine: all 503 in {elapsed:.1f} s; healthz/static/admin/metrics "
            f"p50 {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms"
        )


def _corrupt(index: Path) -> int:
    """Overwrite every segment file of the live generation with garbage of the same size."""
    live = index / (index / "CURRENT").read_text().strip() if (index / "CURRENT").exists() else None
    damaged = 0
    for path in (live or index).rglob("*"):
        if path.is_file() and path.suffix in (".store", ".idx", ".term", ".pos", ".fast", ".fieldnorm"):
            path.write_bytes(b"\xde\xad\xbe\xef" * (path.stat().st_size // 4 + 1))
            damaged += 1
    return damaged


def test_a_corrupted_index_is_503_with_a_log_line_then_recovers_after_a_rebuild(tmp_path, caplog):
    engine, _ = build_engine("embedded", tmp_path, None)
    engine.close()
    assert _corrupt(tmp_path / "index") > 0
    settings = Settings(
        engine="embedded",
        data_dir=tmp_path,
        sources=SOURCES,
        server=server_config(engine_breaker_failures=3, engine_breaker_seconds=0.5),
    )
    with Served(settings) as app, caplog.at_level("ERROR"):
        health = httpx.get(f"{app.url}/healthz", timeout=30)
        assert health.status_code == 503 and health.json()["reachable"] is False
        assert str(tmp_path) not in health.text  # no server paths in public output
        for path in ("/api/v1/search?q=climate", "/search?q=climate", "/api/v1/sources", "/"):
            r = httpx.get(app.url + path, timeout=30)
            assert r.status_code == 503, (path, r.status_code, r.text[:300])
        assert any("index" in rec.getMessage() for rec in caplog.records if rec.levelname == "ERROR")
        # `fedsearch reindex` writes a fresh generation and switches to it: the server recovers by itself.
        writer = EmbeddedEngine(tmp_path / "index", writer=True)
        writer.rebuild(CORPUS)
        writer.close()
        deadline = time.monotonic() + 30
        while True:
            health = httpx.get(f"{app.url}/healthz", timeout=30)
            search = httpx.get(f"{app.url}/api/v1/search", params={"q": "climate"}, timeout=30)
            if health.status_code == 200 and search.status_code == 200:
                break
            assert time.monotonic() < deadline, (health.text, search.status_code)
            time.sleep(0.3)
        assert health.json()["documents"] == len(CORPUS) and search.json()["total"] == 2
