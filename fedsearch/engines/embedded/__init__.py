"""Embedded engine: a tantivy index on disk, no server to run (docs/engines.md).

The engine is in engine.py; the modules beside it are its parts (its docstring lists them).
"""

from fedsearch.engines.embedded.documents import ID_MAX_BYTES, KEYWORD_MAX_CHARS
from fedsearch.engines.embedded.engine import EmbeddedEngine
from fedsearch.engines.embedded.keys import coarse_keys, encode_key, id_key, sort_keys
from fedsearch.engines.embedded.layout import SCHEMA_VERSION, build_schema

__all__ = [
    "ID_MAX_BYTES",
    "KEYWORD_MAX_CHARS",
    "SCHEMA_VERSION",
    "EmbeddedEngine",
    "build_schema",
    "coarse_keys",
    "encode_key",
    "id_key",
    "sort_keys",
]
