"""GET /sru: explain and searchRetrieve, SRU 1.2 or 2.0, over the same engine as the API.

A request names its version (1.2 clients must; 2.0 clients may leave it out) and, in 1.2,
its operation; in 2.0 a request with a query is a searchRetrieve, one without is explain.
Errors are SRU diagnostics in an HTTP 200 response, as the standard asks; an engine that
is down is diagnostic 2 with HTTP 503 and Retry-After.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from fedsearch.engines.base import EngineError
from fedsearch.engines.query import MAX_PER_PAGE, MAX_WINDOW, Plan
from search_api.http import urls_for
from search_api.service import SearchService
from search_api.sru import records, responses
from search_api.sru.cql import compile_cql
from search_api.sru.diagnostics import Diagnostic
from search_api.sru.responses import V12, V20, ResultRecord, Version

router = APIRouter(include_in_schema=False)

MEDIA_TYPE = "application/xml; charset=utf-8"
DEFAULT_RECORDS = 10
MAX_RECORDS = MAX_PER_PAGE  # asked for more, a client gets this many (SRU lets a server return fewer)
RETRY_AFTER = "30"
KNOWN = {
    "operation",
    "version",
    "query",
    "queryType",
    "startRecord",
    "maximumRecords",
    "recordSchema",
    "recordPacking",
    "recordXMLEscaping",
    "stylesheet",
    "sortKeys",
    "resultSetTTL",
    "httpAccept",
    "recordXPath",
    "extraRequestData",
}
DESCRIPTION = (
    "Kyrgyzstan's scientific information (articles, books, dissertations, patents and more) "
    "from many partner databases, each work once"
)


def _service(request: Request) -> SearchService:
    return request.app.state.service


def _version(params: dict[str, str]) -> Version:
    asked = params.get("version")
    if asked is None or asked == "2.0":
        return V20
    if asked in ("1.1", "1.2"):
        return V12
    raise Diagnostic(5, f"version {asked!r}; this server speaks 1.2 and 2.0", message="Unsupported version")


def _int(params: dict[str, str], name: str, default: int, low: int) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise Diagnostic(6, f"{name}={raw!r} is not a whole number") from None
    if value < low:
        raise Diagnostic(6, f"{name}={value} is below {low}")
    return value


def _packing(params: dict[str, str], v: Version) -> str:
    if v is V20:
        packing = params.get("recordXMLEscaping") or "xml"
        if params.get("recordPacking") in ("xml", "string"):  # a 1.2 habit: read it as 2.0's escaping
            packing = params["recordPacking"]
        elif params.get("recordPacking") not in (None, "packed"):
            raise Diagnostic(6, f"recordPacking={params['recordPacking']!r}; only 'packed'")
    else:
        packing = params.get("recordPacking") or "xml"
    if packing not in ("xml", "string"):
        raise Diagnostic(71, f"{packing!r}; xml or string")
    return packing


@router.get("/sru")
def sru(request: Request) -> Response:
    params = dict(request.query_params)
    try:
        v = _version(params)
    except Diagnostic as diag:
        return _xml(responses.diagnostic(V12, "explain", diag))
    operation = params.get("operation") or ("searchRetrieve" if "query" in params else "explain")
    try:
        unknown = sorted(k for k in params if k not in KNOWN and not k.startswith("x-"))
        if unknown:
            raise Diagnostic(8, unknown[0])
        if params.get("stylesheet"):
            raise Diagnostic(110, params["stylesheet"])
        if operation == "explain":
            return _xml(_explain(request, v, _packing(params, v)))
        if operation != "searchRetrieve":
            raise Diagnostic(4, f"{operation!r}; explain and searchRetrieve are supported")
        return _xml(_search_retrieve(request, v, params))
    except Diagnostic as diag:
        return _xml(responses.diagnostic(v, operation, diag))
    except EngineError:
        diag = Diagnostic(2, "the search engine is not reachable right now; try again in a minute")
        return _xml(responses.diagnostic(v, operation, diag), status=503, headers={"Retry-After": RETRY_AFTER})


def _xml(body: bytes, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body,
        status_code=status,
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=60", **(headers or {})},
    )


def _explain(request: Request, v: Version, packing: str) -> bytes:
    base = urlsplit(urls_for(request).base)
    port = base.port or (443 if base.scheme == "https" else 80)
    return responses.explain(
        v,
        base.hostname or "localhost",
        port,
        "sru",
        request.app.state.site_name,
        DESCRIPTION,
        DEFAULT_RECORDS,
        MAX_RECORDS,
        packing,
    )


def _search_retrieve(request: Request, v: Version, params: dict[str, str]) -> bytes:
    query_text = params.get("query")
    if query_text is None:
        raise Diagnostic(7, "query")
    if params.get("queryType", "cql") not in ("cql", "searchTerms"):
        raise Diagnostic(6, f"queryType={params['queryType']!r}; only cql")
    if params.get("sortKeys"):
        raise Diagnostic(80, "sortKeys; use CQL's sortby (dc.date, dc.title)")
    start = _int(params, "startRecord", 1, 1)
    maximum = min(_int(params, "maximumRecords", DEFAULT_RECORDS, 0), MAX_RECORDS)
    schema_name = responses.SCHEMA_ALIASES.get(params.get("recordSchema") or "dc")
    if schema_name is None:
        raise Diagnostic(66, params["recordSchema"])
    schema = responses.SCHEMAS[schema_name]
    packing = _packing(params, v)
    compiled = compile_cql(query_text)
    if start - 1 + maximum > MAX_WINDOW:
        raise Diagnostic(61, f"records past {MAX_WINDOW:,} can't be retrieved; narrow the query")
    # Hits from any record (SRU's startRecord), not only from a page boundary: the plan's offset.
    plan = Plan(clause=compiled.clause, sort=compiled.sort, offset=start - 1, per_page=max(maximum, 1))
    hits = _service(request).execute(plan)
    if hits.total and start > hits.total:
        raise Diagnostic(61, f"startRecord {start} is past the last of {hits.total} records")
    urls = urls_for(request)
    write: Any = records.dublin_core if schema_name == "dc" else records.marcxml
    found = hits.hits[:maximum]
    result = [
        ResultRecord(write(record, urls.record_page(record.id)), start + n) for n, (record, _, _) in enumerate(found)
    ]
    following = start + len(found)
    next_position = following if maximum and following <= hits.total else None
    return responses.search_retrieve(v, hits.total, result, schema, packing, next_position)
