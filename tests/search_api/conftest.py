"""Fixtures for the API, page and outward-door tests: the app over each engine, filled with the fixture corpus.

`client` runs every test once per engine (ids end in [embedded] / [elasticsearch]); `live` and
`served` run the whole app under uvicorn (in a thread) for the real clients of the outward doors
that need a socket rather than a TestClient: harvesters (Sickle, pyoai's client) on /oai,
yaz-client and sruthi on /sru, chromium on /embed.
Elasticsearch indices get a unique prefix per module and are deleted afterwards;
without a node the tests fail (tests/conftest.py es_url), they never skip.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from fedsearch.config import ElasticsearchConfig, ServerConfig, Settings, SourceConfig
from fedsearch.engines.base import SearchEngine
from fedsearch.engines.changes import ChangeQuery
from fedsearch_app.app import create_app
from tests.fedsearch.engines.test_engine_conformance import drop_engine, make_engine
from tests.net import free_port

ENGINES = ["embedded", "elasticsearch"]
EMBED_ORIGIN = "https://embed.example.org"

SOURCES = [
    SourceConfig(
        id="knu",
        connector="oai-pmh",
        name={"ky": "КУУнун репозиторийи", "ru": "Репозиторий КНУ", "en": "KNU repository"},
        institution="КНУ им. Ж. Баласагына",
        url="https://repo.knu.example/oai",
    ),
    SourceConfig(id="auca", connector="oai-pmh", name={"en": "AUCA repository"}, url="https://repo.auca.example/oai"),
    SourceConfig(
        id="nlkr",
        connector="sru",
        name={"ky": "Улуттук китепкана", "ru": "Национальная библиотека", "en": "National Library"},
        url="http://catalog.nlkr.example/sru",
    ),
    SourceConfig(id="unharvested", connector="tabular", name={"en": "Not harvested yet"}, path="/nonexistent.csv"),
]


def make_settings(kind: str, data_dir: Path, es: ElasticsearchConfig | None = None, **server: object) -> Settings:
    server_cfg = ServerConfig(**{"cors_origins": [EMBED_ORIGIN], "rate_limit_per_minute": 1_000_000, **server})
    return Settings(
        engine=kind, data_dir=data_dir, elasticsearch=es or ElasticsearchConfig(), server=server_cfg, sources=SOURCES
    )


def build_engine(kind: str, data_dir: Path, es_url: str | None) -> tuple[SearchEngine, ElasticsearchConfig | None]:
    """An engine holding the corpus (the conformance suite's builder), with its ES config if any."""
    engine = make_engine(kind, data_dir, es_url)
    return engine, getattr(engine, "config", None) if kind == "elasticsearch" else None


@pytest.fixture(scope="module", params=ENGINES)
def engine_setup(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """(kind, engine, settings) holding the corpus, shared by a module's tests."""
    kind = request.param
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    data_dir = tmp_path_factory.mktemp(f"api-{kind}")
    engine, es_cfg = build_engine(kind, data_dir, es_url)
    settings = make_settings(kind, data_dir, es_cfg)
    yield kind, engine, settings
    drop_engine(kind, engine, es_url)


@pytest.fixture(scope="module")
def client(engine_setup) -> Iterator[TestClient]:
    _, engine, settings = engine_setup
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="session")
def embedded_corpus(tmp_path_factory: pytest.TempPathFactory) -> tuple[SearchEngine, Settings]:
    """One embedded engine with the corpus, for tests that need only one engine."""
    data_dir = tmp_path_factory.mktemp("api-embedded-shared")
    engine, _ = build_engine("embedded", data_dir, None)
    return engine, make_settings("embedded", data_dir)


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
