"""Records as tantivy documents: the fields of fedsearch/engines/document.py plus the sort keys.

A record that cannot be indexed is refused with a reason (`_Rejected`), never half-written.
"""

from __future__ import annotations

import time
from typing import Any

import tantivy
from pydantic import ValidationError

from fedsearch.engines.document import FIELDS
from fedsearch.engines.embedded.keys import ID_KEY_FIELDS, ID_RE, coarse_keys, id_key, sort_keys
from fedsearch.engines.embedded.translate import I64_MAX, I64_MIN
from fedsearch.engines.prepared import Prepared, document_of
from fedsearch.record import Record

# Elasticsearch's mapping ignores longer keywords (ignore_above); so do we.
KEYWORD_MAX_CHARS = 8191
ID_MAX_BYTES = 512  # Elasticsearch's limit for _id: such a record could not be in both engines


class _Rejected(Exception):
    """A record refused, with the reason; the engine reports it as a BulkError (it never escapes)."""

    def __init__(self, record_id: str, reason: str):
        super().__init__(reason)
        self.record_id = record_id
        self.reason = reason


def _short(err: ValidationError) -> str:
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'record'}: {e['msg']}" for e in err.errors()[:3]]
    more = len(err.errors()) - 3
    return "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


class DocumentBuilder:
    """Builds documents and counts the time spent analysing (for BulkReport.analyse_seconds)."""

    def __init__(self) -> None:
        self.analyse_seconds = 0.0

    def build(self, item: Any) -> tuple[Record, tantivy.Document]:
        """A Record, a Prepared record (its fields built elsewhere) or a dict of a record's fields."""
        prepared: Prepared | None = None
        if isinstance(item, Prepared):
            prepared, record = item, item.record
        elif isinstance(item, Record):
            record = item
        elif isinstance(item, dict):
            try:
                record = Record.model_validate(item)
            except ValidationError as err:
                raise _Rejected(str(item.get("id") or "?"), f"not a valid record: {_short(err)}") from None
        else:
            raise _Rejected(str(getattr(item, "id", None) or "?"), f"not a record but {type(item).__name__}")
        if (
            not isinstance(record.id, str)
            or not record.id
            or len(record.id.encode()) > ID_MAX_BYTES
            or not ID_RE.match(record.id)
        ):
            raise _Rejected(
                str(record.id), "its id is empty, longer than 512 bytes or has characters other than a-z 0-9 _ -"
            )
        started = time.perf_counter()
        try:
            fields = document_of(prepared or record)[1]
        except Exception as err:  # noqa: BLE001 - one bad record must not stop the batch
            raise _Rejected(record.id, f"could not build its index document: {err}") from None
        finally:
            self.analyse_seconds += time.perf_counter() - started
        doc = tantivy.Document()
        try:
            for name, value in fields.items():
                kind = FIELDS[name]
                if kind == "text":
                    for v in value:
                        if v:
                            doc.add_text(name, v)
                elif kind == "keyword":
                    if name == "title_sort":
                        continue
                    for v in [value] if isinstance(value, str) else value:
                        if len(v) <= KEYWORD_MAX_CHARS:
                            doc.add_text(name, v)
                elif kind == "int":
                    if value is not None:
                        if not I64_MIN <= int(value) <= I64_MAX:
                            raise _Rejected(record.id, f"{name} {value} is out of range")
                        doc.add_integer(name, int(value))
                elif kind == "stored":
                    doc.add_bytes(name, value.encode())
            for name, key in sort_keys(record.id, record.year, fields["title_sort"]).items():
                doc.add_text(name, key)
            for name, part in zip(ID_KEY_FIELDS, id_key(record.id), strict=True):
                doc.add_unsigned(name, part)
            for name, value in coarse_keys(record.year, fields["title_sort"]).items():
                doc.add_unsigned(name, value)
        except _Rejected:
            raise
        except Exception as err:  # noqa: BLE001
            raise _Rejected(record.id, f"could not build its index document: {err}") from None
        return record, doc
