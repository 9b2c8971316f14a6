"""Elasticsearch engine: a versioned index behind an alias (docs/engines.md).

The engine is in engine.py; the modules beside it are its parts (its docstring lists them).
"""

from fedsearch.engines.elasticsearch.bulk import BULK_DOCS
from fedsearch.engines.elasticsearch.engine import ElasticsearchEngine
from fedsearch.engines.elasticsearch.mapping import index_settings, mappings

__all__ = ["BULK_DOCS", "ElasticsearchEngine", "index_settings", "mappings"]
