"""A record with its index document already built, so that analysis can run in another process.

Building the document (`fedsearch.engines.document.index_document`: the analysis chain) is
a pure function of the record, so the indexer's worker processes build it beside
normalizing (indexers/parallel.py) and hand the engines `Prepared` items instead of bare
Records; both engines take either (`document_of`), and index the same fields either way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from fedsearch.engines.document import index_document
from fedsearch.record import Record


@dataclass(frozen=True, slots=True)
class Prepared:
    record: Record
    fields: dict[str, Any]  # index_document(record), built elsewhere


def prepare(record: Record) -> Prepared:
    return Prepared(record, index_document(record))


def document_of(item: Record | Prepared) -> tuple[Record, dict[str, Any]]:
    """The record and its index document: the prepared one (stamped with the time it is written,
    as index_document stamps a fresh one), or built now."""
    if isinstance(item, Prepared):
        return item.record, {**item.fields, "updated": int(time.time())}
    return item, index_document(item)
