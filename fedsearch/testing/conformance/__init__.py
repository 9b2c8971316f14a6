"""The engine conformance suite: every SearchEngine must pass all of it.

A pytest mixin, as Wagtail's search backends share their BackendTests: subclass
`EngineConformance` in a test module, say how to open an empty engine, and pytest runs
every test of the suite against it (docs/engines.md):

    class TestMyEngine(EngineConformance):
        @classmethod
        def new_engine(cls, request: pytest.FixtureRequest, directory: Path) -> SearchEngine:
            return MyEngine(directory)

The suite fills the engine with the fixture corpus (fedsearch/testing/corpus.py), and
expected results come from that corpus itself: an oracle independent of any engine.
tests/fedsearch/engines/test_engine_conformance.py runs it for the embedded and Elasticsearch engines.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from fedsearch.engines import SearchEngine
from fedsearch.testing.conformance.queries import QueryConformance
from fedsearch.testing.conformance.results import ResultConformance
from fedsearch.testing.conformance.support import ids
from fedsearch.testing.corpus import CORPUS

__all__ = ["EngineConformance", "filled", "ids"]


def filled(engine: SearchEngine) -> SearchEngine:
    """`engine` with its index made and the corpus written and visible."""
    engine.ensure_index()
    report = engine.upsert(CORPUS)
    assert report.errors == [] and report.indexed == len(CORPUS)
    engine.refresh()
    return engine


class EngineConformance(QueryConformance, ResultConformance):
    """Every test of the suite, against the engine `new_engine` opens."""

    @classmethod
    def new_engine(cls, request: pytest.FixtureRequest, directory: Path) -> SearchEngine:
        """An engine with nothing in it yet, keeping whatever files it writes under `directory`."""
        raise NotImplementedError("a conformance test class says how to open its engine: def new_engine(...)")

    @classmethod
    def drop_engine(cls, engine: SearchEngine) -> None:
        """Release the engine after its tests, and whatever it keeps outside `directory`."""
        engine.close()

    @pytest.fixture(scope="class")
    @classmethod
    def engine(cls, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SearchEngine]:
        """An engine holding the corpus, shared by the tests that only read."""
        eng = filled(cls.new_engine(request, tmp_path_factory.mktemp("conformance")))
        yield eng
        cls.drop_engine(eng)

    @pytest.fixture
    def fresh_engine(self, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SearchEngine]:
        """An engine of its own holding the corpus, for the tests that write."""
        eng = filled(self.new_engine(request, tmp_path))
        yield eng
        self.drop_engine(eng)
