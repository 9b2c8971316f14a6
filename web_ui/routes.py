"""The public web UI: home, search, record pages, the API docs page, and static files.

Pages are rendered on the server over the same SearchService as the API
(search_api/service.py), and work without JavaScript. They only read (GET),
so they need no CSRF protection; admin pages bring their own.
"""

from __future__ import annotations

from functools import cache

from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from fedsearch.engines.base import InvalidCursor
from search_api.http import etag_for, not_modified, urls_for
from search_api.problems import BadParameter, BadParameters
from search_api.service import RecordNotFound, SearchParams, SearchService
from web_ui.i18n import N_, gettext_
from web_ui.templating import STATIC_DIR, STATIC_FILES, render, request_lang, static_hash, url_keeping_lang
from web_ui.views import FACET_MORE, FACET_SHOWN, UI_FACETS, UI_PER_PAGE, RecordView, SearchView, api_operations

router = APIRouter(include_in_schema=False)


def _service(request: Request) -> SearchService:
    return request.app.state.service


@router.get("/")
def home(request: Request) -> Response:
    service = _service(request)
    lang = request_lang(request)
    sources = service.sources()
    names = service.source_names(lang)
    return render(request, "home.html", {"sources": sources, "source_names": names})


@router.get("/search")
def search_page(request: Request) -> Response:
    service = _service(request)
    lang = request_lang(request)
    names = service.source_names(lang)
    try:
        params = SearchParams.from_query_string(request.query_params)
        if "per_page" not in request.query_params:
            params.per_page = UI_PER_PAGE
        facet_size = FACET_MORE if params.facet_size >= FACET_MORE else FACET_SHOWN
        # One value more than shown tells whether a "more" link is needed.
        response, _ = service.run_search(params, urls_for(request), facets=UI_FACETS,
                                         facet_size=min(facet_size + 1, FACET_MORE))
    except (BadParameters, BadParameter, InvalidCursor) as err:
        problems = err.errors if isinstance(err, BadParameters) else [err] if isinstance(err, BadParameter) else [
            BadParameter("cursor", str(err))]
        view = SearchView(SearchParams(q=request.query_params.get("q", "")[:2000]), None,
                          _linker(request), lang, names, errors=[_param_message(p) for p in problems])
        return render(request, "search.html", {"view": view}, status_code=400)
    view = SearchView(params, response, _linker(request), lang, names, facet_size=facet_size)
    return render(request, "search.html", {"view": view})


def _param_message(p: BadParameter) -> str:
    return gettext_("The value of “%(param)s” can't be used: %(message)s") % {"param": p.param, "message": p.message}


def _linker(request: Request):
    return lambda path, items=None: url_keeping_lang(request, path, items)


@router.get("/records/{record_id}")
def record_page(request: Request, record_id: str) -> Response:
    service = _service(request)
    record = service.record(record_id)
    if record is None:
        raise RecordNotFound(record_id)
    view = RecordView(record, urls_for(request), service.source_names(request_lang(request)))
    return render(request, "record.html", {"view": view, "record": record})


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(request, "api_docs.html", {"schema": schema, "operations": api_operations(schema)})


@cache
def _static_content(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


@router.get("/static/{name}")
async def static(request: Request, name: str) -> Response:
    # Async, from memory: answers on the event loop even when every worker thread waits for the engine.
    if name not in STATIC_FILES:
        return render_error(request, 404, "", "")
    content = _static_content(name)
    etag = etag_for(content)
    # URLs carry the content hash (?v=), so a matching one never changes: cache it for a year.
    immutable = request.query_params.get("v") == static_hash(name)
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=3600",
               "X-Content-Type-Options": "nosniff"}
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=STATIC_FILES[name], headers=headers)


ERROR_TEXTS = {
    404: (N_("Page not found"),
          N_("There is nothing at this address. The record may have been removed at its source; try searching for it.")),
    503: (N_("Search is temporarily unavailable"),
          N_("We can't reach the search index right now. This is on our side; please try again in a minute.")),
    500: (N_("Something went wrong"), N_("An error occurred on our side and has been logged. Please try again later.")),
    400: (N_("This request can't be answered"),
          N_("Some of the request's parameters can't be used. Start a new search below.")),
}


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """The friendly error page (the app's handler for non-API paths)."""
    t, d = ERROR_TEXTS.get(status, ERROR_TEXTS[400] if 400 <= status < 500 else ERROR_TEXTS[500])
    return render(request, "error.html", {"status": status, "title": t, "message": d}, status_code=status)


def mount(app: FastAPI) -> None:
    app.include_router(router)
    app.state.html_error = render_error
