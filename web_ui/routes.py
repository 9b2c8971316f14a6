"""The public web UI: home, search, record pages, the API docs page, and static files.

Pages are rendered on the server over the same SearchService as the API
(search_api/service.py), and work without JavaScript. They only read (GET),
so they need no CSRF protection; admin pages bring their own.
"""

from __future__ import annotations

from functools import cache

from babel.numbers import format_decimal
from fastapi import APIRouter, FastAPI, Request
from starlette.datastructures import QueryParams
from starlette.responses import RedirectResponse, Response

from fedsearch.engines.base import InvalidCursor
from fedsearch.engines.query import MAX_WINDOW, Sort, parsed_query
from fedsearch.engines.query_syntax import MAX_QUERY_CHARS
from search_api.http import etag_for, not_modified, urls_for
from search_api.models import SearchResponse
from search_api.params import SearchParams
from search_api.problems import BadParameters
from search_api.service import RecordNotFound, SearchService
from web_ui.api_docs import api_operations, markdown_blocks
from web_ui.i18n import N_, gettext_
from web_ui.labels import FACET_LABELS
from web_ui.record_view import RecordView
from web_ui.templating import STATIC_DIR, STATIC_FILES, render, request_lang, static_hash, url_keeping_lang
from web_ui.views import FACET_MORE, FACET_SHOWN, UI_FACETS, UI_PER_PAGE, SearchView, empty_field

router = APIRouter(include_in_schema=False)


def _service(request: Request) -> SearchService:
    return request.app.state.service


@router.get("/")
def home(request: Request) -> Response:
    service = _service(request)
    lang = request_lang(request)
    sources = service.sources()
    names = service.source_names(lang)
    works = service.count(SearchParams())  # what an empty search finds: each work once, however many hold it
    return render(request, "home.html", {"sources": sources, "source_names": names, "works": works})


@router.get("/search")
def search_page(request: Request) -> Response:
    service = _service(request)
    lang = request_lang(request)
    names = service.source_names(lang)
    params, notes = _page_params(request.query_params)
    if "per_page" not in request.query_params:
        params.per_page = UI_PER_PAGE
    no_words = parsed_query(params.q) is None
    # Nothing to rank by: "relevance" shows the newest works (and says so); links keep the default order.
    newest = no_words and params.sort == Sort.relevance
    asked_page = params.page
    past_window = params.cursor is None and params.page * params.per_page > MAX_WINDOW
    if past_window:
        params.page = MAX_WINDOW // params.per_page
    facet_size = FACET_MORE if params.facet_size >= FACET_MORE else FACET_SHOWN

    def run() -> SearchResponse:
        # One value more than shown tells whether a "more" link is needed.
        asked = params.model_copy(update={"sort": Sort.newest}) if newest else params
        response, _ = service.run_search(
            asked, urls_for(request), facets=UI_FACETS, facet_size=min(facet_size + 1, FACET_MORE)
        )
        return response

    try:
        response = run()
    except InvalidCursor:
        notes.append(gettext_("That link to a further page has expired; showing the first page."))
        params.cursor, params.page = None, 1
        response = run()
    last = max(1, -(-min(response.total, MAX_WINDOW) // params.per_page))
    if params.cursor is None and params.page > last:
        notes.append(
            gettext_("There is no page %(page)s; showing page %(last)s, the last one.")
            % {"page": asked_page, "last": last}
        )
        params.page = last
        response = run()
    elif past_window:
        notes.append(
            gettext_(
                "Only the first %(n)s results can be paged through; showing page %(page)s. "
                "Add words or filters to narrow the search."
            )
            % {"n": format_decimal(MAX_WINDOW, locale=lang), "page": params.page}
        )
    view = SearchView(
        params,
        response,
        _linker(request),
        lang,
        names,
        facet_size=facet_size,
        notes=notes,
        no_words=no_words,
        field_hint=empty_field(params.q),
    )
    return render(request, "search.html", {"view": view})


# What a parameter is called on the page (a person never sees "year_from").
_PARAM_LABELS = {
    **FACET_LABELS,
    "year_from": N_("Years"),
    "year_to": N_("Years"),
    "page": N_("Page"),
    "sort": N_("Sort by"),
    "per_page": N_("Page"),
    "facet_size": N_("Show more"),
    "facets": N_("Refine results"),
}


def _page_params(query: QueryParams) -> tuple[SearchParams, list[str]]:
    """The page's search, mended where a person's slip has one obvious fix; each mend is told in a note.

    Unusable values are left out (the rest of the search and its filters stay), and years given
    the wrong way round are swapped. The API keeps refusing both (search_api/params.py)."""
    notes: list[str] = []
    items = list(query.multi_items())
    params = SearchParams(q=query.get("q", "")[:MAX_QUERY_CHARS])
    for _ in range(len(SearchParams.model_fields)):
        try:
            params = SearchParams.from_query_string(QueryParams(items))
            break
        except BadParameters as err:
            bad = {p.param for p in err.errors}
            for name in sorted(bad):
                label = gettext_(_PARAM_LABELS.get(name, N_("Search")))
                notes.append(
                    gettext_("A value for “%(field)s” in this address can't be used, so it was left out.")
                    % {"field": label}
                )
            kept = [(k, v) for k, v in items if k not in bad]
            if len(kept) == len(items):  # a problem no single parameter carries: start from the words alone
                break
            items = kept
    if params.year_from is not None and params.year_to is not None and params.year_from > params.year_to:
        params.year_from, params.year_to = params.year_to, params.year_from
        notes.append(
            gettext_("The years were the wrong way round, so they were swapped: %(start)s–%(end)s.")
            % {"start": params.year_from, "end": params.year_to}
        )
    return params, notes


def _linker(request: Request):
    return lambda path, items=None: url_keeping_lang(request, path, items)


@router.get("/records/{record_id}")
def record_page(request: Request, record_id: str) -> Response:
    service = _service(request)
    record = service.record(record_id)
    if record is None:
        if (work := service.work_absorbing(record_id)) is not None:  # merged into another work: it lives there now
            return RedirectResponse(url_keeping_lang(request, f"/records/{work.id}"), status_code=301)
        raise RecordNotFound(record_id)
    view = RecordView(record, urls_for(request), service.source_names(request_lang(request)))
    return render(request, "record.html", {"view": view, "record": record})


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    schema = request.app.openapi()
    return render(
        request, "api_docs.html", {"schema": schema, "operations": api_operations(schema), "markdown": markdown_blocks}
    )


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
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=3600",
        "X-Content-Type-Options": "nosniff",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=STATIC_FILES[name], headers=headers)


ERROR_TEXTS = {
    404: (
        N_("Page not found"),
        N_("There is nothing at this address. The record may have been removed at its source; try searching for it."),
    ),
    503: (
        N_("Search is temporarily unavailable"),
        N_("We can't reach the search index right now. This is on our side; please try again in a minute."),
    ),
    500: (N_("Something went wrong"), N_("An error occurred on our side and has been logged. Please try again later.")),
    400: (
        N_("This request can't be answered"),
        N_("Some of the request's parameters can't be used. Start a new search below."),
    ),
}


def render_error(request: Request, status: int, title: str, detail: str) -> Response:
    """The friendly error page (the app's handler for non-API paths)."""
    t, d = ERROR_TEXTS.get(status, ERROR_TEXTS[400] if 400 <= status < 500 else ERROR_TEXTS[500])
    return render(request, "error.html", {"status": status, "title": t, "message": d}, status_code=status)


def mount(app: FastAPI) -> None:
    from web_ui import crawlers, embed

    app.include_router(router)
    app.include_router(crawlers.router)  # robots.txt, sitemaps
    app.include_router(embed.router)  # /embed: the snippet for partner sites, and its frame
    app.state.html_error = render_error
