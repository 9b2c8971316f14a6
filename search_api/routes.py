"""The JSON API, version 1: /api/v1/search, /records, /sources, /suggest, with exports and feeds.

Handlers stay thin: parameters in, `SearchService` call, a response with cache
headers out. Errors raise; app.py turns them into problem+json.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from fedsearch.record import Record
from search_api import exports, feeds
from search_api.http import cached_response, urls_for
from search_api.models import SearchResponse, SourcesResponse, SuggestResponse
from search_api.params import ApiSearchParams
from search_api.problems import PROBLEM_RESPONSES
from search_api.service import RecordNotFound, SearchService

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)  # type: ignore[arg-type]

SEARCH_MAX_AGE = 60
RECORD_MAX_AGE = 300
SUGGEST_MAX_AGE = 300
JSON = "application/json"


def _service(request: Request) -> SearchService:
    return request.app.state.service


def _json(data: Any) -> bytes:
    """Compact UTF-8 JSON, as json.dumps(ensure_ascii=False, separators=(",", ":")) writes it, ~10x faster."""
    return orjson.dumps(data)


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"'}


RecordId = Annotated[str, Path(description="A record id, like knu-0123456789abcdef.", max_length=200)]


@router.get(
    "/search",
    response_model=SearchResponse,
    summary="Search records",
    responses={
        200: {
            "content": {
                "application/x-bibtex": {},
                "application/x-research-info-systems": {},
                "application/vnd.citationstyles.csl+json": {},
                "application/atom+xml": {},
            },
            "description": "Results as JSON, or the page's records as BibTeX, RIS, CSL-JSON or Atom (format=)",
        }
    },
)
def search(request: Request, params: Annotated[ApiSearchParams, Query()]) -> Response:
    """Full-text search with filters, facets, sorting and paging (page, or cursor for deep paging).

    Values of one filter are ORed (`type=book&type=thesis`), different filters
    ANDed. Facets are counted so that a facet's own selection does not narrow
    it. When nothing is found, `alternatives` offers queries that do find something.
    """
    if params.format == "atom":
        return _atom(request, params)
    service = _service(request)
    urls = urls_for(request)
    if params.format in exports.FORMATS:
        result = service.search(params.to_query(highlight=False, facets=[]))
        media_type, ext = exports.FORMATS[params.format]
        body = exports.render(params.format, [h.record for h in result.hits]).encode("utf-8")
        return cached_response(
            request, body, media_type, max_age=SEARCH_MAX_AGE, headers=_attachment(f"fedsearch-results.{ext}")
        )
    body, stable, next_url = service.search_json(params, urls)  # SearchResponse's JSON, without the models
    headers = {"Link": f'<{next_url}>; rel="next"'} if next_url else None
    return cached_response(request, body, JSON, max_age=SEARCH_MAX_AGE, headers=headers, etag_source=stable)


@router.get(
    "/search.atom",
    summary="Search results as an Atom feed",
    responses={200: {"content": {"application/atom+xml": {}}, "description": "An Atom feed with OpenSearch elements"}},
)
def search_atom(request: Request, params: Annotated[ApiSearchParams, Query()]) -> Response:
    """The same search as /api/v1/search, as an Atom feed (subscribe to a query)."""
    return _atom(request, params)


def _atom(request: Request, params: ApiSearchParams) -> Response:
    service = _service(request)
    urls = urls_for(request)
    resp, result = service.run_search(params, urls, with_alternatives=False)
    # Entry dates come from the records themselves, so the feed is stable between harvests.
    updated: dict[str, datetime] = {}
    for hit in result.hits:
        stamp = hit.record.updated_at or hit.record.harvested_at
        if stamp:
            updated[hit.id] = stamp
    body = feeds.atom_feed(resp, params, urls, updated, site_name=request.app.state.site_name)
    return cached_response(request, body, feeds.ATOM_MEDIA_TYPE, max_age=SEARCH_MAX_AGE)


def _record(request: Request, record_id: str) -> Record:
    record = _service(request).record(record_id)
    if record is None:
        raise RecordNotFound(record_id)
    return record


def _export(request: Request, record_id: str, fmt: str) -> Response:
    record = _record(request, record_id)
    media_type, ext = exports.FORMATS[fmt]
    body = exports.render(fmt, [record]).encode("utf-8")
    return cached_response(request, body, media_type, max_age=RECORD_MAX_AGE, headers=_attachment(f"{record.id}.{ext}"))


@router.get(
    "/records/{record_id}.bib",
    summary="A record as BibTeX",
    responses={200: {"content": {"application/x-bibtex": {}}, "description": "BibTeX"}},
)
def record_bibtex(request: Request, record_id: RecordId) -> Response:
    return _export(request, record_id, "bibtex")


@router.get(
    "/records/{record_id}.ris",
    summary="A record as RIS",
    responses={200: {"content": {"application/x-research-info-systems": {}}, "description": "RIS"}},
)
def record_ris(request: Request, record_id: RecordId) -> Response:
    return _export(request, record_id, "ris")


@router.get(
    "/records/{record_id}.csl.json",
    summary="A record as CSL-JSON",
    responses={200: {"content": {"application/vnd.citationstyles.csl+json": {}}, "description": "CSL-JSON"}},
)
def record_csl(request: Request, record_id: RecordId) -> Response:
    return _export(request, record_id, "csl")


@router.get(
    "/records/{record_id}",
    response_model=Record,
    summary="One record, with every source that holds it",
    responses={
        200: {
            "content": {
                "application/x-bibtex": {},
                "application/x-research-info-systems": {},
                "application/vnd.citationstyles.csl+json": {},
            },
            "description": "The full record (JSON), or an export with format=",
        }
    },
)
def record(
    request: Request,
    record_id: RecordId,
    format: Annotated[
        Literal["json", "bibtex", "ris", "csl"], Query(description="json (default), bibtex, ris or csl")
    ] = "json",
) -> Response:
    """The full normalized record. `holdings` lists every source holding this work, with its links."""
    if format != "json":
        return _export(request, record_id, format)
    rec = _record(request, record_id)
    return cached_response(request, _json(rec.model_dump(mode="json", exclude_none=True)), JSON, max_age=RECORD_MAX_AGE)


@router.get("/sources", response_model=SourcesResponse, summary="The sources searched, with record counts")
def sources(request: Request) -> Response:
    """Each source: its names, connector, record count in the index and its last harvest (null if unknown)."""
    data = _service(request).sources().model_dump(mode="json")
    return cached_response(request, _json(data), JSON, max_age=SEARCH_MAX_AGE)


_SUGGEST_Q = re.compile(r"\s+")


@router.get(
    "/suggest",
    response_model=SuggestResponse,
    summary="Completions for a partial query",
    responses={
        200: {
            "content": {"application/x-suggestions+json": {}},
            "description": "Suggestions (JSON), or OpenSearch suggestions with format=opensearch",
        }
    },
)
def suggest(
    request: Request,
    q: Annotated[str, Query(max_length=200, description="What was typed so far, Cyrillic or Latin")],
    limit: Annotated[int, Query(ge=1, le=20, description="At most this many suggestions")] = 8,
    format: Annotated[
        Literal["json", "opensearch"], Query(description="json, or opensearch ([query, [completions]])")
    ] = "json",
) -> Response:
    """Titles, authors and subjects that complete the last word typed."""
    text = _SUGGEST_Q.sub(" ", q).strip()
    found = _service(request).suggest(text, limit=limit) if text else []
    if format == "opensearch":
        body = _json([q, [s.text for s in found]])
        return cached_response(request, body, "application/x-suggestions+json", max_age=SUGGEST_MAX_AGE)
    body = _json(SuggestResponse(q=q, suggestions=found).model_dump(mode="json"))
    return cached_response(request, body, JSON, max_age=SUGGEST_MAX_AGE)
