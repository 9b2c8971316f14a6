"""Embedded engine: a tantivy index on disk, no server to run (docs/engines.md).

The engine is in engine.py; the modules beside it are its parts (its docstring lists them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fedsearch.engines.embedded.documents import ID_MAX_BYTES, KEYWORD_MAX_CHARS
from fedsearch.engines.embedded.engine import EmbeddedEngine
from fedsearch.engines.embedded.keys import coarse_keys, encode_key, id_key, sort_keys
from fedsearch.engines.embedded.layout import SCHEMA_VERSION, build_schema

if TYPE_CHECKING:
    from fedsearch.config import Settings


def from_settings(settings: Settings, *, writer: bool = False) -> EmbeddedEngine:
    """The `embedded` entry point (fedsearch/engines/registry.py): the index under data_dir."""
    return EmbeddedEngine(settings.data_dir / "index", writer=writer)


__all__ = [
    "from_settings",
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
