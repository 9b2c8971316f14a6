"""Elasticsearch engine: a versioned index behind an alias (docs/engines.md).

The engine is in engine.py; the modules beside it are its parts (its docstring lists them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedsearch.engines.elasticsearch.bulk import BULK_DOCS
from fedsearch.engines.elasticsearch.engine import ElasticsearchEngine
from fedsearch.engines.elasticsearch.mapping import index_settings, mappings

if TYPE_CHECKING:
    from fedsearch.config import Settings


def from_settings(settings: Settings, *, writer: bool = False) -> ElasticsearchEngine:
    """The `elasticsearch` entry point (fedsearch/engines/registry.py); every process may write."""
    return ElasticsearchEngine(settings.elasticsearch)


__all__ = ["from_settings", "BULK_DOCS", "ElasticsearchEngine", "index_settings", "mappings"]
