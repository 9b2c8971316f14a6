"""Search engines behind one interface (base.py): Elasticsearch and embedded tantivy."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedsearch.engines.base import (
    BulkError,
    BulkReport,
    EngineError,
    EngineHealth,
    EngineUnavailable,
    FacetValue,
    Hit,
    InvalidCursor,
    SearchEngine,
    SearchResult,
    Suggestion,
)
from fedsearch.engines.query import FACET_NAMES, MAX_PER_PAGE, SearchQuery, Sort

if TYPE_CHECKING:
    from fedsearch.config import Settings

__all__ = [
    "BulkError",
    "BulkReport",
    "EngineError",
    "EngineHealth",
    "EngineUnavailable",
    "FacetValue",
    "Hit",
    "InvalidCursor",
    "SearchEngine",
    "SearchResult",
    "Suggestion",
    "FACET_NAMES",
    "MAX_PER_PAGE",
    "SearchQuery",
    "Sort",
    "open_engine",
]


def open_engine(settings: Settings, *, writer: bool = False) -> SearchEngine:
    """The engine the configuration names (found through entry points: registry.py).
    Only one process should open the embedded one as writer."""
    from fedsearch.engines import registry

    return registry.open_engine(settings, writer=writer)
