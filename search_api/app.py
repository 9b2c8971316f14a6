"""The JSON API application over one SearchService.

`create_app(settings, engine=None, mount=None)` builds it (tests pass an engine they filled;
`mount` adds the layers above, see fedsearch_app/app.py, which puts the API, the web UI
and the admin in one process); `serve(settings, host, port, site=, workers=)` runs it with uvicorn.

Middleware, outermost first: metrics (counts everything, 429s included), trusted
hosts (400 for a Host header we don't serve), CORS (so a 429 or 503 still carries
CORS headers), gzip, the per-client rate limit, the engine gate (search_api/guard.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from fedsearch.config import Settings
from fedsearch.engines.base import EngineError, EngineUnavailable, InvalidCursor, SearchEngine
from fedsearch.errors import FedsearchError
from fedsearch.harvest_log import HarvestLog
from search_api import feeds
from search_api.guard import CircuitOpen, EngineGate
from search_api.http import cached_response, urls_for
from search_api.methods import HeadAndOptions
from search_api.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from search_api.metrics import Metrics, MetricsMiddleware
from search_api.models import HealthOut
from search_api.oai.routes import router as oai_router
from search_api.params import bad_parameters_from
from search_api.problems import BadParameter, BadParameters, bad_parameters, problem_response
from search_api.ratelimit import RateLimitMiddleware
from search_api.routes import router as api_router
from search_api.service import RecordNotFound, SearchService, harvest_metrics

log = logging.getLogger(__name__)

API_VERSION = "1"
ENGINE_RETRY_AFTER = "30"
SITE_NAME = "fedsearch"

API_DESCRIPTION = """\
Search Kyrgyzstan's scientific information — articles, books, dissertations,
patents and more from many partner databases — from your own site.

* Free to use, no key. Each client IP may make a limited number of requests
  a minute (429 with Retry-After beyond it). CORS is open to the origins the
  operator configured.
* Responses carry ETags; send If-None-Match to get 304 when nothing changed.
* Errors are RFC 9457 problem details (application/problem+json) whose
  `detail` says what to change; bad parameters are listed in `errors`.
* Exports: BibTeX, RIS and CSL-JSON for a record or a result page; Atom feeds
  of any search; an OpenSearch description at /opensearch.xml.
"""


def _is_api_path(path: str) -> bool:
    return path.startswith("/api/") or path in ("/healthz", "/metrics", "/opensearch.xml", "/sru")


def create_app(
    settings: Settings,
    engine: SearchEngine | None = None,
    *,
    mount: Callable[[FastAPI], None] | None = None,
    harvests: HarvestLog | None = None,
) -> FastAPI:
    metrics = Metrics()
    service = SearchService(settings, engine, metrics=metrics, harvests=harvests)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        service.close()

    app = FastAPI(
        title="fedsearch API",
        version=API_VERSION,
        description=API_DESCRIPTION,
        openapi_url="/api/v1/openapi.json",
        docs_url=None,  # our own page (web_ui), with no third-party scripts
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.service = service
    app.state.metrics = metrics
    app.state.site_name = SITE_NAME
    app.state.html_error = None  # set by the web UI: (request, status, title, detail) -> Response

    _install_error_handlers(app)
    app.include_router(api_router)
    from search_api.sru.routes import router as sru_router  # /sru for library systems (docs/federation.md)

    app.include_router(sru_router)
    app.include_router(oai_router)  # OAI-PMH provider (search_api/oai/)
    _install_ops_routes(app)

    if mount is not None:  # the layers above (web UI, admin): fedsearch_app.app
        mount(app)

    server = settings.server
    app.add_middleware(HeadAndOptions)  # innermost: CORS answers allowed preflights before it
    app.add_middleware(EngineGate, max_in_flight=server.engine_max_in_flight, queue_seconds=server.engine_queue_seconds)
    app.add_middleware(RateLimitMiddleware, per_minute=settings.server.rate_limit_per_minute, metrics=metrics)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    if settings.server.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.server.cors_origins,
            allow_methods=["GET", "HEAD", "OPTIONS"],
            allow_headers=["Accept", "Accept-Language", "If-None-Match"],
            expose_headers=["ETag", "Retry-After", "Link", "Content-Disposition"],
            max_age=600,
        )
    hosts = trusted_hosts(settings)
    if hosts:
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False)
    elif not settings.server.base_url:
        log.warning(
            "neither server.base_url nor server.trusted_hosts is set: absolute links are built from the "
            "Host header of each request; set one of them in production (docs/security.md)"
        )
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    return app


def trusted_hosts(settings: Settings) -> list[str]:
    """The Host header values we answer to: server.trusted_hosts plus base_url's host; [] means any."""
    hosts = list(settings.server.trusted_hosts)
    if settings.server.base_url and hosts:
        host = urlsplit(settings.server.base_url).hostname
        if host and host not in hosts:
            hosts.append(host)
    return hosts


# --- errors ------------------------------------------------------------------------------------


def _error(
    request: Request,
    status: int,
    title: str,
    detail: str,
    *,
    kind: str,
    code: str,
    headers: dict[str, str] | None = None,
) -> Response:
    """problem+json for API paths, the UI's friendly page for the rest."""
    html_error = request.app.state.html_error
    if html_error is not None and not _is_api_path(request.url.path):
        response = html_error(request, status, title, detail)
        response.headers.update(headers or {})
        return response
    return problem_response(status, title, detail, kind=kind, instance=request.url.path, code=code, headers=headers)


HTTP_CODES = {404: "api.not_found", 405: "api.method_not_allowed"}  # error codes of plain HTTP errors


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        return bad_parameters(bad_parameters_from(exc).errors, instance=request.url.path)

    @app.exception_handler(BadParameters)
    async def _bad_params(request: Request, exc: BadParameters) -> Response:
        return bad_parameters(exc.errors, instance=request.url.path)

    @app.exception_handler(BadParameter)
    async def _bad_param(request: Request, exc: BadParameter) -> Response:
        return bad_parameters([exc], instance=request.url.path)

    @app.exception_handler(InvalidCursor)
    async def _cursor(request: Request, exc: InvalidCursor) -> Response:
        return bad_parameters([BadParameter("cursor", str(exc))], instance=request.url.path)

    @app.exception_handler(RecordNotFound)
    async def _not_found(request: Request, exc: RecordNotFound) -> Response:
        return _error(request, 404, "Record not found", str(exc), kind="not-found", code=exc.error_code)

    @app.exception_handler(EngineError)
    async def _engine(request: Request, exc: EngineError) -> Response:
        if not isinstance(exc, CircuitOpen):  # that one was logged when the breaker opened
            log.warning("search engine failed on %s: %s", request.url.path, exc)
        detail = (
            "the search engine is not reachable right now; this is on our side, please try again in a minute"
            if isinstance(exc, EngineUnavailable)
            else "the search engine could not answer this request; please try again in a minute"
        )
        return _error(
            request,
            503,
            "Search is temporarily unavailable",
            detail,
            kind="engine-unavailable",
            code=exc.error_code,
            headers={"Retry-After": ENGINE_RETRY_AFTER},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed"}
        detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"there is nothing at {request.url.path}; the API is described at /api/v1/docs"
        elif exc.status_code == 405:
            detail = f"{request.method} is not supported here; use GET"
        return _error(
            request,
            exc.status_code,
            titles.get(exc.status_code, "Request failed"),
            detail,
            kind="not-found" if exc.status_code == 404 else "http",
            code=HTTP_CODES.get(exc.status_code, "api.http"),
            headers=dict(exc.headers or {}),
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unexpected error on %s", request.url.path)
        return _error(
            request,
            500,
            "Internal error",
            "something went wrong on our side and it has been logged; please try again later",
            kind="internal",
            code=FedsearchError.error_code,
        )


# --- operations: health, metrics, OpenSearch ------------------------------------------------


def _install_ops_routes(app: FastAPI) -> None:
    @app.get(
        "/healthz",
        response_model=HealthOut,
        tags=["operations"],
        summary="Is the engine reachable and the index readable, and how old is the index",
        responses={503: {"model": HealthOut, "description": "The engine is down or the index can't be read"}},
    )
    async def healthz(request: Request) -> Response:
        """Runs a real query (on its own thread); answers within server.health_timeout_seconds whatever the engine does."""
        health = await _probe(request.app.state.service)
        return Response(
            health.model_dump_json(),
            status_code=200 if health.reachable else 503,
            media_type="application/json",
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/metrics", include_in_schema=False)
    async def prometheus_metrics(request: Request) -> Response:
        service: SearchService = request.app.state.service
        health = await _probe(service)
        extra = {
            "fedsearch_engine_circuit_open": 1 if service.breaker.is_open else 0,
            "fedsearch_engine_circuit_opened_total": service.breaker.opened,
        }
        extra["fedsearch_engine_up"] = 1 if health.reachable else 0
        if health.documents is not None:
            extra["fedsearch_index_documents"] = health.documents
        if health.index_age_seconds is not None:
            extra["fedsearch_index_age_seconds"] = health.index_age_seconds
        if health.cluster is not None:  # 0 green, 1 yellow (a replica missing), 2 red (a primary missing)
            extra["fedsearch_engine_cluster_status"] = ("green", "yellow", "red").index(health.cluster)
        harvests = harvest_metrics(
            service.harvests, service.settings
        )  # last run status, incomplete reasons, held deletions
        return Response(
            service.metrics.render(extra, harvests),
            media_type=METRICS_CONTENT_TYPE,
            headers={"Cache-Control": "no-store"},
        )

    @app.get("/opensearch.xml", include_in_schema=False)
    def opensearch(request: Request) -> Response:
        body = feeds.opensearch_description(
            urls_for(request),
            request.app.state.site_name,
            "Search Kyrgyzstan's scientific information (ky, ru, en)",
        )
        return cached_response(request, body, feeds.OPENSEARCH_MEDIA_TYPE, max_age=86400)


async def _probe(service: SearchService) -> HealthOut:
    """The engine's health, waiting at most server.health_timeout_seconds, on the event loop (no worker thread)."""
    timeout = service.settings.server.health_timeout_seconds
    probe = service.health_probe()
    if probe.done():
        return probe.result()
    try:
        return await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(probe)), service.health_wait(timeout))
    except TimeoutError:
        return HealthOut(
            status="unavailable",
            engine=service.settings.engine,
            reachable=False,
            detail=f"the search engine did not answer within {timeout:g} s",
        )


class _Stopped(Exception):
    """uvicorn shut down cleanly on SIGINT or SIGTERM, then raised the signal again for us."""


def _stopped(signum: int, frame: object) -> None:
    raise _Stopped()


def app_from_environment() -> FastAPI:
    """uvicorn's factory in each worker process of the API alone: the app for the configuration file
    in FEDSEARCH_CONFIG (the whole site's is fedsearch_app.app.app_from_environment)."""
    import os

    from fedsearch.config import ENV_VAR, load_config

    return create_app(load_config(os.environ[ENV_VAR]))


def serve(
    settings: Settings,
    host: str | None = None,
    port: int | None = None,
    *,
    site: Callable[[Settings], FastAPI] | None = None,
    worker_factory: str = "search_api.app:app_from_environment",
    workers: int | None = None,
    access_log: bool = True,
) -> int:
    """Run the server: `site(settings)` (default: the API alone) in `workers` processes (default server.workers).

    With several workers each process builds its own app with `worker_factory`, uvicorn's import
    string of a no-argument factory that reads the configuration file (search_api/serving.py)."""
    import os
    import signal
    import threading

    import uvicorn

    from search_api import sharedlimit
    from search_api.serving import worker_count, worker_environment

    n = worker_count(settings, workers)
    limits = None
    if n > 1:
        # Each worker process builds its own app from the same configuration file; they share the rate limit.
        limits = sharedlimit.create()
        os.environ.update({**worker_environment(settings), sharedlimit.ENV_FILE: str(limits)})
        app: FastAPI | str = worker_factory
    else:
        app = (site or create_app)(settings)
    previous = (
        {s: signal.signal(s, _stopped) for s in (signal.SIGINT, signal.SIGTERM)}
        if threading.current_thread() is threading.main_thread()
        else {}
    )
    try:
        # X-Forwarded-For/-Proto are believed only from the configured proxies (none by default): they pick
        # the rate-limit bucket and the login lockout address.
        # SIGINT or SIGTERM: uvicorn stops taking requests and shuts down; requests still open after
        # 3 s are cut, so the process ends within docker's 10 s. A second signal ends it at once.
        proxies = settings.server.trusted_proxies
        uvicorn.run(
            app,
            host=host or settings.server.host,
            port=port or settings.server.port,
            proxy_headers=bool(proxies),
            forwarded_allow_ips=",".join(proxies) or None,
            log_level="info",
            timeout_graceful_shutdown=3,
            access_log=access_log,
            **({"factory": True, "workers": n} if n > 1 else {}),
        )
    except SystemExit as exit_:  # uvicorn exits when it can't bind the port
        return int(exit_.code or 1)
    except _Stopped:
        return 0
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if limits is not None:
            limits.unlink(missing_ok=True)
            os.environ.pop(sharedlimit.ENV_FILE, None)
    return 0
