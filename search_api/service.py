"""The search service both front ends use: request parameters -> SearchQuery -> response models.

search_api (JSON, feeds, exports) and web_ui (HTML) are thin layers over this
module: they parse parameters with `SearchParams`, call `SearchService`, and
render its models. Nothing here knows about HTTP responses. One class (~450 lines, over our
~400 on purpose): every read goes through `_call`, the engine gate that turns a down engine
into a 503, so the read paths stay beside it. The parameter model lives in
search_api/params.py, the response models in search_api/models.py.
"""

from __future__ import annotations

import itertools
import logging
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fedsearch.config import Settings
from fedsearch.engines import open_engine
from fedsearch.engines.base import (
    EngineError,
    EngineHits,
    EngineUnavailable,
    InvalidCursor,
    SearchEngine,
    SearchResult,
    Suggestion,
)
from fedsearch.engines.query import Plan, SearchQuery
from fedsearch.engines.stored import StoredResult, search_stored
from fedsearch.errors import FedsearchError
from fedsearch.harvest_log import HarvestLog
from fedsearch.record import Record
from search_api import alternatives, hitjson
from search_api.guard import CircuitBreaker
from search_api.metrics import Metrics
from search_api.models import (
    Alternative,
    HealthOut,
    HitOut,
    LastHarvest,
    SearchResponse,
    SourceOut,
    SourcesResponse,
    Urls,
)
from search_api.params import SearchParams

log = logging.getLogger(__name__)

HEALTH_FRESH_SECONDS = 1.0  # /healthz and /metrics share one probe this long
RECORD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*-[0-9a-f]{16}$")


class RecordNotFound(FedsearchError, LookupError):
    error_code = "api.record_not_found"

    def __init__(self, record_id: str):
        self.record_id = record_id
        super().__init__(
            f"there is no record with id {record_id!r}. It may have been deleted at its source "
            "or merged into another record; search for its title instead"
        )


# --- the service -----------------------------------------------------------------------------


class SearchService:
    """One per app: opens the engine lazily (and again after a failure) and answers queries."""

    def __init__(
        self,
        settings: Settings,
        engine: SearchEngine | None = None,
        metrics: Metrics | None = None,
        harvests: HarvestLog | None = None,
    ):
        self.settings = settings
        self.harvests = harvests  # the raw store's runs, for /sources and /metrics
        self.metrics = metrics or Metrics()
        self._engine = engine
        self._owns_engine = engine is None
        self._lock = threading.Lock()
        self._retry_at = 0.0
        self._last_error: str | None = None
        self.breaker = CircuitBreaker(settings.server.engine_breaker_failures, settings.server.engine_breaker_seconds)
        # Health probes run on their own thread, so /healthz never waits for a server worker thread.
        self._health_pool: ThreadPoolExecutor | None = None
        self._health_lock = threading.Lock()
        self._health_future: Future[HealthOut] | None = None
        self._health_at = 0.0
        self._health_logged: str | None = None

    # The engine ------------------------------------------------------------------------------
    @property
    def engine(self) -> SearchEngine:
        if self._engine is not None:
            return self._engine
        with self._lock:
            if self._engine is not None:
                return self._engine
            if time.monotonic() < self._retry_at and self._last_error:
                raise EngineUnavailable(self._last_error)
            try:
                self._check_index_exists()
                self._engine = open_engine(self.settings)
            except EngineError as err:
                self._fail(err)
                raise
            except Exception as err:  # noqa: BLE001 - a missing index dir, a bad URL, ...
                self._fail(err)
                raise EngineUnavailable(
                    f"the {self.settings.engine} search engine could not be opened: {err}"
                ) from None
            return self._engine

    def _check_index_exists(self) -> None:
        # A reader must not conjure up an empty index where none was built: that would
        # answer "0 results" to everything instead of saying what is wrong.
        if self.settings.engine == "embedded":
            index_dir = Path(self.settings.data_dir) / "index"
            if not index_dir.is_dir():
                raise EngineUnavailable(
                    f"there is no search index in {index_dir}; build it with `fedsearch harvest` "
                    "(or `fedsearch reindex`), or check data_dir in the configuration"
                )

    def _fail(self, err: Exception) -> None:
        self._last_error = str(err)
        self._retry_at = time.monotonic() + 2.0  # don't reopen on every request of a burst
        self.metrics.engine_error(type(err).__name__)

    def _call(self, fn: Any, *args: Any, **kw: Any) -> Any:
        """An engine call through the circuit breaker; any engine failure becomes an EngineError (503)."""
        self.breaker.before_call()
        try:
            result = fn(*args, **kw)
        except EngineUnavailable as err:
            self.metrics.engine_error(type(err).__name__)
            self.breaker.failed(str(err))
            raise
        except EngineError as err:
            self.metrics.engine_error(type(err).__name__)
            self.breaker.succeeded()  # it answered, with an error: not a reason to stop asking it
            raise
        except (ConnectionError, OSError) as err:
            self.metrics.engine_error("EngineUnavailable")
            self.breaker.failed(str(err))
            raise EngineUnavailable(f"the search engine can't be reached: {err}") from None
        except InvalidCursor:
            self.breaker.succeeded()
            raise
        except Exception as err:
            log.error("the search index could not be read: %s: %s", type(err).__name__, err, exc_info=True)
            self.metrics.engine_error("EngineError")
            self.breaker.failed(f"{type(err).__name__}: {err}")
            raise EngineError(
                f"the search index could not be read ({type(err).__name__}); run `fedsearch reindex`"
            ) from None
        self.breaker.succeeded()
        return result

    def close(self) -> None:
        with self._health_lock:
            pool, self._health_pool, self._health_future = self._health_pool, None, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        if self._owns_engine and self._engine is not None:
            self._engine.close()
            self._engine = None

    # Reads --------------------------------------------------------------------------------
    def search(self, query: SearchQuery) -> SearchResult:
        return self._call(lambda: self.engine.search(query))

    def search_response(self, params: SearchParams, urls: Urls, *, with_alternatives: bool = True) -> SearchResponse:
        return self.run_search(params, urls, with_alternatives=with_alternatives)[0]

    def run_search(
        self,
        params: SearchParams,
        urls: Urls,
        *,
        with_alternatives: bool = True,
        facets: Sequence[str] | None = None,
        facet_size: int | None = None,
    ) -> tuple[SearchResponse, SearchResult]:
        """The response model, and the engine's result it was made from (records in full)."""
        query, result, next_url, alts = self._found(params, urls, with_alternatives, facets, facet_size)
        return SearchResponse(
            total=result.total,
            page=None if params.cursor else params.page,
            per_page=params.per_page,
            hits=[HitOut.from_hit(h, urls) for h in result.hits],
            facets={name: result.facets.get(name, []) for name in query.facets},
            query=params.echo(),
            next_cursor=result.next_cursor,
            next=next_url,
            alternatives=alts,
            relaxed=result.relaxed,
            corrected=result.corrected,
            took_ms=result.took_ms,
        ), result

    def search_json(self, params: SearchParams, urls: Urls) -> tuple[bytes, bytes, str | None]:
        """The JSON API's answer, `SearchResponse` written straight to JSON (search_api/hitjson.py):
        (the body, the bytes its ETag is made from, the next page's URL)."""
        query, result, next_url, alts = self._found(params, urls, True, None, None, stored=True)
        body, stable = hitjson.search_body(
            result,
            facets=query.facets,
            page=None if params.cursor else params.page,
            per_page=params.per_page,
            echo=params.echo(),
            next_url=next_url,
            alternatives=alts,
            urls=urls,
        )
        return body, stable, next_url

    def _found(
        self,
        params: SearchParams,
        urls: Urls,
        with_alternatives: bool,
        facets: Sequence[str] | None,
        facet_size: int | None,
        *,
        stored: bool = False,
    ) -> tuple[SearchQuery, Any, str | None, list[Alternative]]:
        """The query, the engine's result, the next page's URL and, when nothing was found, the alternatives.

        `stored`: a StoredResult (records as stored, fedsearch/engines/stored.py) where the engine can give one.
        """
        query = params.to_query(facets=facets, facet_size=facet_size)
        result: SearchResult | StoredResult | None = None
        if stored:
            result = self._call(lambda: search_stored(self.engine, query))
        if result is None:
            result = self.search(query)
        next_url = None
        if result.next_cursor:
            items = [kv for kv in params.query_items(cursor=result.next_cursor, page=1)]
            next_url = urls.search_api(items)
        alts = self.alternatives(params) if with_alternatives and result.total == 0 and params.page == 1 else []
        return query, result, next_url, alts

    def count(self, params: SearchParams) -> int:
        q = params.model_copy(update={"page": 1, "per_page": 1, "cursor": None}).to_query(highlight=False, facets=[])
        return self.search(q).total

    def alternatives(self, params: SearchParams, limit: int = 4) -> list[Alternative]:
        """Queries close to one that found nothing, each with its count; only ones that find something."""
        out: list[Alternative] = []
        tried: set[str] = {params.q}
        if params.q.strip():
            for kind, text in (
                ("transliteration", alternatives.transliterated(params.q)),
                ("keyboard_layout", alternatives.other_layout(params.q)),
            ):
                if text and text not in tried:
                    tried.add(text)
                    n = self.count(params.model_copy(update={"q": text}))
                    if n:
                        out.append(Alternative(kind=kind, q=text, total=n))  # type: ignore[arg-type]
        for name, values in params.filters.items():
            for value in values:
                rest = [v for v in values if v != value]
                n = self.count(params.model_copy(update={name: rest}))
                if n:
                    out.append(Alternative(kind="drop_filter", q=params.q, total=n, filter=name, value=value))
        if params.year_from is not None or params.year_to is not None:
            n = self.count(params.model_copy(update={"year_from": None, "year_to": None}))
            if n:
                out.append(Alternative(kind="drop_year_range", q=params.q, total=n))
        return out[:limit]

    def record(self, record_id: str) -> Record | None:
        if not RECORD_ID_RE.match(record_id):
            return None
        return self._call(lambda: self.engine.get(record_id))

    def execute(self, plan: Plan) -> EngineHits:
        """A plan compiled elsewhere (the SRU server's CQL, search_api/sru/) run as it is."""
        return self._call(lambda: self.engine.execute(plan))

    def work_absorbing(self, record_id: str) -> Record | None:
        """The work a record id was merged into (its page redirects there), or None."""
        if not RECORD_ID_RE.match(record_id):
            return None
        return self._call(lambda: self.engine.work_absorbing(record_id))

    def walk(self, filters: dict[str, list[str]], limit: int) -> list[tuple[str, datetime | None]]:
        """(id, last change) of the first `limit` records matching `filters` (index field -> values),
        in id order, paged after the last hit (the sitemaps' walk)."""

        def run() -> list[tuple[str, datetime | None]]:
            return [(r.id, r.updated_at or r.harvested_at) for r in itertools.islice(self.engine.scan(filters), limit)]

        return self._call(run)

    def records(self, ids: Sequence[str]) -> list[Record]:
        return [r for r in (self.record(i) for i in ids) if r is not None]

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        return self._call(lambda: self.engine.suggest(text[:200], limit=limit))

    def sources(self) -> SourcesResponse:
        counts: dict[str, int] = self._call(lambda: self.engine.count_by_source())
        runs = last_harvests(self.harvests, self.settings)
        out: list[SourceOut] = []
        configured = {s.id for s in self.settings.sources}
        for s in self.settings.sources:
            out.append(
                SourceOut(
                    id=s.id,
                    name=dict(s.name) or {"en": s.id},
                    kind=s.connector,
                    institution=s.institution,
                    enabled=s.enabled,
                    records=counts.get(s.id, 0),
                    last_harvest=runs.get(s.id),
                )
            )
        for sid in sorted(set(counts) - configured):  # indexed, but no longer (or never) configured
            out.append(
                SourceOut(
                    id=sid, name={"en": sid}, kind=None, enabled=False, records=counts[sid], last_harvest=runs.get(sid)
                )
            )
        return SourcesResponse(sources=out, total_records=sum(counts.values()))

    def source_names(self, lang: str) -> dict[str, str]:
        return {s.id: s.display_name(lang) for s in self.settings.sources}

    def health(self) -> HealthOut:
        """Probe the engine now: its own health, then a real query that reads a stored record.

        Public output names no path or host: the detail goes to the log (once per change).
        """
        name = self.settings.engine

        def probe() -> Any:
            h = self.engine.health()
            if not h.reachable:  # counts against the breaker like any failed call
                raise EngineUnavailable(h.detail or f"the {name} engine is not reachable")
            self.engine.search(SearchQuery(per_page=1, highlight=False))  # reads a stored record
            return h

        try:
            h = self._call(probe)
        except EngineError as err:
            self._log_health(f"search engine unavailable: {err}")
            public = (
                "the search engine is not reachable"
                if name == "elasticsearch" and isinstance(err, EngineUnavailable)
                else "the search index can't be read; see the server log"
            )
            return HealthOut(status="unavailable", engine=name, reachable=False, detail=public)
        self._log_health(None)
        last = datetime.fromtimestamp(h.last_update, UTC) if h.last_update else None
        age = round(max(0.0, time.time() - h.last_update), 1) if h.last_update else None
        return HealthOut(
            status="ok",
            engine=h.engine,
            reachable=True,
            documents=h.documents,
            last_update=last,
            index_age_seconds=age,
            cluster=h.cluster,
        )

    def _log_health(self, problem: str | None) -> None:
        if problem != self._health_logged:
            if problem:
                log.error("%s", problem)
            elif self._health_logged:
                log.warning("search engine healthy again")
            self._health_logged = problem

    def health_probe(self, *, fresh: float = HEALTH_FRESH_SECONDS) -> Future[HealthOut]:
        """The running probe, or the last one if younger than `fresh` seconds, or a new one (on its own thread)."""
        with self._health_lock:
            current = self._health_future
            if current is not None and (not current.done() or time.monotonic() - self._health_at < fresh):
                return current
            if self._health_pool is None:
                self._health_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fedsearch-health")
            self._health_at = time.monotonic()
            self._health_future = self._health_pool.submit(self._timed_health)
            return self._health_future

    def health_wait(self, timeout: float) -> float:
        """How long to wait for the running probe: what is left of `timeout` since it started (a stuck one: 0)."""
        with self._health_lock:
            return max(0.0, timeout - (time.monotonic() - self._health_at))

    def _timed_health(self) -> HealthOut:
        health = self.health()
        self._health_at = time.monotonic()
        return health


# --- harvest runs (fedsearch.harvest_log; the raw store's, when fedsearch_app passes it) --------


def last_harvests(harvests: HarvestLog | None, settings: Settings) -> dict[str, LastHarvest]:
    """The newest harvest run of each source; {} if unknown (a search-only deployment has no raw store)."""
    runs = harvests.last_runs([s.id for s in settings.sources]) if harvests is not None else {}
    return {
        sid: LastHarvest(
            started_at=run.started_at,
            finished_at=run.finished_at,
            status=run.status,
            records=run.records,
            error_code=run.error_code,
        )
        for sid, run in runs.items()
        if run.status is not None
    }


HARVEST_STATUSES = ("ok", "running", "failed", "stopped", "incomplete")


def harvest_metrics(harvests: HarvestLog | None, settings: Settings) -> list[tuple[str, dict[str, str], float]]:
    """(name, labels, value) of each source's last harvest: its status, why it is incomplete, held deletions.

    Nothing when there is no harvest log (no raw store).
    """
    runs = harvests.last_runs([s.id for s in settings.sources]) if harvests is not None else {}
    out: list[tuple[str, dict[str, str], float]] = []
    for sid, run in runs.items():
        if run.status is not None:
            for status in HARVEST_STATUSES:
                out.append(
                    (
                        "fedsearch_harvest_last_run_status",
                        {"source": sid, "status": status},
                        1 if run.status == status else 0,
                    )
                )
            if run.status == "incomplete":
                out.append(("fedsearch_harvest_incomplete", {"source": sid, "reason": (run.error or "")[:300]}, 1))
        out.append(("fedsearch_harvest_held_deletions", {"source": sid}, run.held_deletions))
    return out
