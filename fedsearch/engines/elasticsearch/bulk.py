"""Bulk writes to Elasticsearch: records as index documents, sent in chunks; every document
the node rejects is reported with its reason, never lost silently."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from fedsearch.engines.base import BulkError, BulkReport
from fedsearch.engines.elasticsearch.errors import item_reason, reason
from fedsearch.engines.prepared import Prepared, document_of
from fedsearch.record import Record

BULK_DOCS = 500
BULK_BYTES = 8 * 1024 * 1024
BULK_RETRIES = 3  # for documents the node answers 429 (too busy) to

Calling = Callable[[str], AbstractContextManager[None]]  # ElasticsearchEngine._calling


def write_records(
    client: Elasticsearch,
    calling: Calling,
    records: Iterable[Record | Prepared],
    index: str,
    *,
    require_alias: bool,
) -> BulkReport:
    """Index `records` (Records, or Prepared ones with their documents built) into `index`; a record
    whose document cannot be built is reported, not sent."""
    errors: list[BulkError] = []
    analysed = [0.0]  # building index documents, for BulkReport.analyse_seconds

    def documents() -> Iterator[tuple[str, dict[str, Any]]]:
        for item in records:
            started = time.perf_counter()
            try:
                record, doc = document_of(item)
            except Exception as err:  # noqa: BLE001 - one bad record must not stop the batch
                rid = item.record.id if isinstance(item, Prepared) else item.id
                errors.append(BulkError(id=rid, reason=f"could not build its index document: {err}"))
                continue
            finally:
                analysed[0] += time.perf_counter() - started
            yield record.id, doc

    report = write_documents(client, calling, documents(), index, require_alias=require_alias)
    return BulkReport(indexed=report.indexed, errors=errors + report.errors, analyse_seconds=analysed[0])


def write_documents(
    client: Elasticsearch,
    calling: Calling,
    docs: Iterable[tuple[str, dict[str, Any]]],
    index: str,
    *,
    require_alias: bool,
) -> BulkReport:
    """Bulk-index (id, document) pairs in chunks; every rejected document is reported."""
    report = BulkReport()
    chunk: list[tuple[str, str]] = []
    size = 0
    for doc_id, doc in docs:
        line = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
        if chunk and (len(chunk) >= BULK_DOCS or size + len(line) > BULK_BYTES):
            report = report.merge(_send(client, calling, chunk, index, require_alias))
            chunk, size = [], 0
        chunk.append((doc_id, line))
        size += len(line)
    if chunk:
        report = report.merge(_send(client, calling, chunk, index, require_alias))
    return report


def _send(
    client: Elasticsearch, calling: Calling, chunk: list[tuple[str, str]], index: str, require_alias: bool
) -> BulkReport:
    indexed = 0
    errors: list[BulkError] = []
    pending = chunk
    for attempt in range(BULK_RETRIES + 1):
        ops: list[str] = []
        for doc_id, line in pending:
            ops.append(json.dumps({"index": {"_index": index, "_id": doc_id}}, ensure_ascii=False))
            ops.append(line)
        refused: BadRequestError | None = None
        with calling(f"bulk-indexing {len(pending)} documents into {index}"):
            try:
                # Lines already serialized (the client sends strings as they are); its stubs want mappings.
                resp = client.bulk(
                    operations=ops,  # type: ignore[arg-type]
                    require_alias=require_alias,
                    include_source_on_error=False,
                )
            except BadRequestError as err:
                refused = err
        if refused is not None:
            # The node refused the whole request because one document failed validation
            # (an id over 512 bytes, say): split it until each culprit stands alone.
            if len(pending) == 1:
                return BulkReport(
                    indexed=indexed, errors=errors + [BulkError(id=pending[0][0], reason=reason(refused))]
                )
            half = len(pending) // 2
            rest = _send(client, calling, pending[:half], index, require_alias).merge(
                _send(client, calling, pending[half:], index, require_alias)
            )
            return BulkReport(indexed=indexed + rest.indexed, errors=errors + rest.errors)
        busy = []
        for (doc_id, line), item in zip(pending, resp["items"], strict=True):
            result = item["index"]
            status = result.get("status", 500)
            if 200 <= status < 300:
                indexed += 1
            elif status == 429 and attempt < BULK_RETRIES:
                busy.append((doc_id, line))  # the node is busy: this one goes again
            else:
                errors.append(BulkError(id=doc_id, reason=item_reason(result)))
        if not busy:
            break
        pending = busy
        time.sleep(2**attempt)
    return BulkReport(indexed=indexed, errors=errors)
