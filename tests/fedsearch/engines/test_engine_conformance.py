"""The engine conformance suite (fedsearch/testing/conformance/) run for both engines.

Each test runs once per engine (TestEmbedded::..., TestElasticsearch::...); at the end the
two engines are checked against each other. A third-party engine runs the same suite
the same way (docs/engines.md).
"""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from fedsearch.config import ElasticsearchConfig
from fedsearch.engines import SearchEngine, SearchQuery
from fedsearch.engines.query import FACET_NAMES
from fedsearch.testing.conformance import EngineConformance, filled
from tests.conftest import delete_es_indices

ENGINES = ["embedded", "elasticsearch"]


def new_engine(kind: str, tmp: Path, es_url: str | None) -> SearchEngine:
    """An empty engine of this kind."""
    if kind == "embedded":
        from fedsearch.engines.embedded import EmbeddedEngine

        return EmbeddedEngine(tmp / "index", writer=True)
    from fedsearch.engines.elasticsearch import ElasticsearchEngine

    return ElasticsearchEngine(ElasticsearchConfig(hosts=[es_url], index_prefix=f"conf{uuid.uuid4().hex[:8]}"))


def make_engine(kind: str, tmp: Path, es_url: str | None) -> SearchEngine:
    """An engine of this kind holding the fixture corpus."""
    return filled(new_engine(kind, tmp, es_url))


def drop_engine(kind: str, engine: SearchEngine, es_url: str | None) -> None:
    engine.close()
    if kind == "elasticsearch":
        delete_es_indices(es_url, engine.config.index_prefix)  # type: ignore[attr-defined]


def _es_url_for(kind: str, request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("es_url") if kind == "elasticsearch" else None


class TestEmbedded(EngineConformance):
    @classmethod
    def new_engine(cls, request: pytest.FixtureRequest, directory: Path) -> SearchEngine:
        return new_engine("embedded", directory, None)


class TestElasticsearch(EngineConformance):
    es_url: str | None = None

    @classmethod
    def new_engine(cls, request: pytest.FixtureRequest, directory: Path) -> SearchEngine:
        cls.es_url = request.getfixturevalue("es_url")
        return new_engine("elasticsearch", directory, cls.es_url)

    @classmethod
    def drop_engine(cls, engine: SearchEngine) -> None:
        drop_engine("elasticsearch", engine, cls.es_url)


def test_per_page_is_capped():
    with pytest.raises(ValueError):
        SearchQuery(per_page=1000)
    with pytest.raises(ValueError, match="cursor"):
        SearchQuery(page=5000, per_page=100)


# --- the two engines agree -------------------------------------------------------------

AGREEMENT_QUERIES = [
    "",
    "экология",
    "Bishkek",
    "climate OR water",
    '"water resources"',
    "экол*",
    "type:dissertation",
    "сборник",
    "Issyk-Kul",
    "история NOT Бишкек",
]


def test_engines_agree(tmp_path: Path, es_url: str):
    engines = {kind: make_engine(kind, tmp_path / kind, es_url) for kind in ENGINES}
    try:
        for q in AGREEMENT_QUERIES:
            for filters in ({}, {"type": ["book", "article"]}, {"language": ["en"]}):
                query = SearchQuery(q=q, filters=filters, facets=list(FACET_NAMES), facet_size=50, per_page=100)
                a, b = (engines[k].search(query) for k in ENGINES)
                assert a.total == b.total, (q, filters)
                assert {h.id for h in a.hits} == {h.id for h in b.hits}, (q, filters)
                assert a.facets == b.facets, (q, filters)
    finally:
        for kind, eng in engines.items():
            drop_engine(kind, eng, es_url)
