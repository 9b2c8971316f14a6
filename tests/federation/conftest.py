"""The whole app under uvicorn (in a thread) over the test corpus on each engine, for the real
clients of the outward doors that need a socket rather than a TestClient: harvesters (Sickle,
pyoai's client) on /oai, yaz-client and sruthi on /sru, chromium on /embed."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from fedsearch.config import Settings
from fedsearch.engines.base import SearchEngine
from fedsearch.engines.changes import ChangeQuery
from fedsearch_app.app import create_app
from tests.api.conftest import ENGINES, build_engine, free_port, make_settings
from tests.test_engine_conformance import drop_engine


@contextmanager
def running(settings: Settings, engine: SearchEngine | None = None) -> Iterator[str]:
    """The whole site under uvicorn on `settings.server.port`; yields its base URL."""
    port = settings.server.port
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings, engine=engine), host="127.0.0.1", port=port, log_level="warning", lifespan="on"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the app did not start on port {port}")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@dataclass
class Live:
    kind: str
    base: str
    engine: SearchEngine


@dataclass
class Served:
    kind: str
    engine: SearchEngine
    settings: Settings
    url: str  # the OAI-PMH base URL

    def live_ids(self) -> set[str]:
        """Every work the index holds, read through the change feed with no window."""
        out: set[str] = set()
        after = None
        while True:
            page = self.engine.list_live(ChangeQuery(until=2**62, after=after, limit=500))
            out |= {c.id for c in page}
            if len(page) < 500:
                return out
            after = page[-1].key


def _served_settings(kind: str, data_dir, es_cfg) -> Settings:
    port = free_port()
    return make_settings(kind, data_dir, es_cfg, base_url=f"http://127.0.0.1:{port}", port=port)


@pytest.fixture(scope="module", params=ENGINES)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    kind = request.param
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    data_dir = tmp_path_factory.mktemp(f"federation-{kind}")
    engine, es_cfg = build_engine(kind, data_dir, es_url)
    with running(_served_settings(kind, data_dir, es_cfg), engine) as base:
        assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
        yield Live(kind, base, engine)
    drop_engine(kind, engine, es_url)


@pytest.fixture(scope="module", params=ENGINES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    kind = request.param
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    data_dir = tmp_path_factory.mktemp(f"oai-{kind}")
    engine, es_cfg = build_engine(kind, data_dir, es_url)
    settings = _served_settings(kind, data_dir, es_cfg)
    with running(settings, engine) as base:
        yield Served(kind, engine, settings, f"{base}/oai")
    drop_engine(kind, engine, es_url)
