"""Fixtures for the API and UI tests: the app over each engine, filled with the fixture corpus.

`client` runs every test once per engine (ids end in [embedded] / [elasticsearch]).
Elasticsearch indices get a unique prefix per module and are deleted afterwards;
without a node the tests fail (tests/conftest.py es_url), they never skip.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from fedsearch.config import ElasticsearchConfig, ServerConfig, Settings, SourceConfig
from fedsearch.engines.base import SearchEngine
from fedsearch_app.app import create_app
from tests.net import free_port  # noqa: F401 - the tests import it from here
from tests.test_engine_conformance import drop_engine, make_engine

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
