"""Fixtures for the outward doors: the whole app under uvicorn over each engine, holding the corpus.

Harvesters from PyPI (Sickle, pyoai's client) talk to it over real HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
import uvicorn

from fedsearch.config import Settings
from fedsearch.engines.base import SearchEngine
from fedsearch.engines.changes import ChangeQuery
from search_api.app import create_app
from tests.api.conftest import ENGINES, build_engine, free_port, make_settings
from tests.test_engine_conformance import drop_engine


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


@contextmanager
def running(settings: Settings, engine: SearchEngine | None = None) -> Iterator[str]:
    """The app under uvicorn on `settings.server.port`; yields its OAI-PMH URL."""
    port = settings.server.port
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=engine), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}/oai"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture(scope="module", params=ENGINES)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    kind = request.param
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    data_dir = tmp_path_factory.mktemp(f"oai-{kind}")
    engine, es_cfg = build_engine(kind, data_dir, es_url)
    port = free_port()
    settings = make_settings(kind, data_dir, es_cfg, base_url=f"http://127.0.0.1:{port}", port=port)
    with running(settings, engine) as url:
        yield Served(kind, engine, settings, url)
    drop_engine(kind, engine, es_url)
