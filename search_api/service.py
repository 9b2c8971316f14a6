"""The search service both front ends use: request parameters -> SearchQuery -> response models.

search_api (JSON, feeds, exports) and web_ui (HTML) are thin layers over this
module: they parse parameters with `SearchParams`, call `SearchService`, and
render its models. Nothing here knows about HTTP responses.
"""

from __future__ import annotations

import functools
import itertools
import logging
import re
import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from fedsearch.config import Settings
from fedsearch.engines import open_engine
from fedsearch.engines.base import (
    EngineError,
    EngineHits,
    EngineUnavailable,
    FacetValue,
    Hit,
    InvalidCursor,
    Relaxed,
    SearchEngine,
    SearchResult,
    Suggestion,
)
from fedsearch.engines.query import FACET_NAMES, MAX_PER_PAGE, MAX_WINDOW, Plan, SearchQuery, Sort
from fedsearch.errors import FedsearchError
from fedsearch.harvest_log import HarvestLog
from fedsearch.record import Access, Holding, Link, Record, RecordType
from search_api import alternatives
from search_api.guard import CircuitBreaker
from search_api.metrics import Metrics
from search_api.problems import BadParameter, BadParameters

log = logging.getLogger(__name__)

HEALTH_FRESH_SECONDS = 1.0  # /healthz and /metrics share one probe this long
RECORD_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*-[0-9a-f]{16}$")
FILTER_PARAMS: tuple[str, ...] = ("source", "type", "year", "language", "subject", "access", "institution")
MAX_QUERY_CHARS = 2000
MAX_FACET_SIZE = 100

_FilterValues = Annotated[list[Annotated[str, Field(max_length=500)]], Field(default_factory=list)]
# Blank values are allowed and mean "no filter" (an HTML form sends its empty fields).
YEAR_PATTERN = r"\s*([0-9]{1,4})?\s*"
LANGUAGE_PATTERN = r"\s*([a-z]{2,3})?\s*"


def _items(extra: dict[str, Any]) -> dict[str, Any]:
    return {"items": {"type": "string", "maxLength": 500, **extra}}


# --- request parameters ----------------------------------------------------------------


class SearchParams(BaseModel):
    """The search parameters of /api/v1/search and of the HTML search page.

    Filters are repeatable (`source=a&source=b`): values of one filter are ORed,
    different filters are ANDed.
    """

    model_config = ConfigDict(extra="ignore")

    q: Annotated[
        str,
        Field(
            max_length=MAX_QUERY_CHARS,
            description=(
                'The query: words, "phrases", AND/OR/NOT, -word, prefix*, field:value '
                "(title:, author:, subject:, year:, type:, doi:, isbn:, udc:, ...). Cyrillic or Latin."
            ),
        ),
    ] = ""
    source: _FilterValues = Field(description="Source id (repeatable; see /api/v1/sources).")
    # The schema lists exactly what the validators below accept (schemathesis checks both ways).
    type: _FilterValues = Field(
        description="Record type: " + ", ".join(t.value for t in RecordType) + " (repeatable).",
        json_schema_extra=_items({"enum": [t.value for t in RecordType]}),
    )
    year: _FilterValues = Field(
        description="Exact publication year (repeatable).", json_schema_extra=_items({"pattern": f"^{YEAR_PATTERN}$"})
    )
    language: _FilterValues = Field(
        description="ISO 639 language code, like ky, ru, en (repeatable).",
        json_schema_extra=_items({"pattern": f"^{LANGUAGE_PATTERN}$"}),
    )
    subject: _FilterValues = Field(description="Subject heading or keyword, exactly as in the facet (repeatable).")
    access: _FilterValues = Field(
        description="Access: " + ", ".join(a.value for a in Access) + " (repeatable).",
        json_schema_extra=_items({"enum": [a.value for a in Access]}),
    )
    institution: _FilterValues = Field(description="Institution, exactly as in the facet (repeatable).")
    year_from: Annotated[int | None, Field(ge=0, le=9999, description="Earliest publication year, inclusive.")] = None
    year_to: Annotated[int | None, Field(ge=0, le=9999, description="Latest publication year, inclusive.")] = None
    facets: Annotated[
        list[str],
        Field(
            default_factory=list,
            description=(
                "Facets to count: " + ", ".join(FACET_NAMES) + ". Repeat the parameter or separate names with commas."
            ),
        ),
    ]
    facet_size: Annotated[int, Field(ge=1, le=MAX_FACET_SIZE, description="Values per facet.")] = 10
    sort: Annotated[Sort, Field(description="Result order.")] = Sort.relevance
    page: Annotated[
        int, Field(ge=1, description=f"Page number; page × per_page may not pass {MAX_WINDOW} (use cursor).")
    ] = 1
    per_page: Annotated[
        int, Field(ge=1, description=f"Hits per page; values above {MAX_PER_PAGE} are treated as {MAX_PER_PAGE}.")
    ] = 20
    cursor: Annotated[
        str | None,
        Field(
            max_length=2000,
            description=(
                "next_cursor from a previous response (same query and sort): continues after its last hit; replaces page."
            ),
        ),
    ] = None

    @field_validator("facets", mode="after")
    @classmethod
    def _facet_names(cls, v: list[str]) -> list[str]:
        names: list[str] = []
        for item in v:
            for name in item.split(","):
                name = name.strip()
                if not name:
                    continue
                if name not in FACET_NAMES:
                    raise ValueError(f"unknown facet {name!r}; valid facets: {', '.join(FACET_NAMES)}")
                if name not in names:
                    names.append(name)
        return names

    @field_validator(*FILTER_PARAMS, mode="after")
    @classmethod
    def _filter_values(cls, v: list[str], info: Any) -> list[str]:
        values = list(dict.fromkeys(s.strip() for s in v if s.strip()))
        name = info.field_name
        valid: Sequence[str] | None = None
        if name == "type":
            valid = [t.value for t in RecordType]
        elif name == "access":
            valid = [a.value for a in Access]
        if valid is not None:
            bad = [x for x in v if x not in valid]  # exactly as listed in the schema's enum, no blanks
            if bad:
                raise ValueError(f"{bad[0]!r} is not a valid {name}; valid values: {', '.join(valid)}")
        if name == "year" and any(not re.fullmatch(YEAR_PATTERN, x) for x in v):
            raise ValueError("a year is a number of up to four digits, like 2019")
        if name == "language" and any(not re.fullmatch(LANGUAGE_PATTERN, x) for x in v):
            raise ValueError("a language is a two- or three-letter ISO 639 code in lower case, like ky, ru or en")
        return values

    @field_validator("per_page", mode="after")
    @classmethod
    def _cap_per_page(cls, v: int) -> int:
        return min(v, MAX_PER_PAGE)

    @classmethod
    def from_query_string(cls, params: Any) -> SearchParams:
        """From a Starlette QueryParams (or any multi-dict with getlist); raises BadParameters."""
        data: dict[str, Any] = {}
        for name, field in cls.model_fields.items():
            # An HTML form sends its empty fields too (year_from=): they mean "not given".
            values = [v for v in params.getlist(name) if v.strip()]
            if not values:
                continue
            data[name] = values if _is_list_field(field.annotation) else values[0]
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            raise bad_parameters_from(err) from None

    @property
    def filters(self) -> dict[str, list[str]]:
        return {name: getattr(self, name) for name in FILTER_PARAMS if getattr(self, name)}

    def to_query(
        self, *, highlight: bool = True, facets: Sequence[str] | None = None, facet_size: int | None = None
    ) -> SearchQuery:
        problems: list[BadParameter] = []
        if self.year_from is not None and self.year_to is not None and self.year_from > self.year_to:
            problems.append(
                BadParameter("year_from", f"year_from ({self.year_from}) is after year_to ({self.year_to}); swap them")
            )
        if self.cursor is None and self.page * self.per_page > MAX_WINDOW:
            problems.append(
                BadParameter(
                    "page",
                    f"page {self.page} with per_page {self.per_page} goes past result {MAX_WINDOW}; "
                    f"page at most {MAX_WINDOW // self.per_page}, or follow next_cursor to go deeper",
                )
            )
        if problems:
            raise BadParameters(problems)
        try:
            return SearchQuery(
                q=self.q,
                filters=self.filters,  # type: ignore[arg-type]
                year_from=self.year_from,
                year_to=self.year_to,
                facets=list(self.facets if facets is None else facets),  # type: ignore[arg-type]
                facet_size=facet_size or self.facet_size,
                sort=self.sort,
                page=self.page,
                per_page=self.per_page,
                cursor=self.cursor or None,
                highlight=highlight,
            )
        except ValidationError as err:
            raise bad_parameters_from(err) from None

    def echo(self) -> dict[str, Any]:
        """The query as understood, for responses: defaults included, empty filters left out."""
        return {
            "q": self.q,
            "filters": self.filters,
            "year_from": self.year_from,
            "year_to": self.year_to,
            "facets": self.facets,
            "facet_size": self.facet_size,
            "sort": self.sort.value,
            "page": self.page,
            "per_page": self.per_page,
            "cursor": self.cursor,
        }

    def query_items(self, **changes: Any) -> list[tuple[str, str]]:
        """The parameters as (name, value) pairs for a URL, with `changes` applied; defaults left out."""
        data = self.model_dump()
        data.update(changes)
        items: list[tuple[str, str]] = []
        for name, default in _defaults(type(self)).items():
            value = data.get(name)
            if value is None or value == default:
                continue
            if isinstance(value, list):
                items += [(name, str(v)) for v in value]
            else:
                items.append((name, value.value if isinstance(value, Sort) else str(value)))
        return items


@functools.cache
def _defaults(cls: type[SearchParams]) -> dict[str, Any]:
    """Each field's default, computed once per class: pydantic's get_default inspects the factory on every call."""
    return {name: field.get_default(call_default_factory=True) for name, field in cls.model_fields.items()}


class ApiSearchParams(SearchParams):
    format: Annotated[
        Literal["json", "bibtex", "ris", "csl", "atom"],
        Field(description=("Response format: json (default), bibtex, ris, csl (CSL-JSON) or atom (Atom feed).")),
    ] = "json"


def _is_list_field(annotation: Any) -> bool:
    return getattr(annotation, "__origin__", None) is list


def bad_parameters_from(err: ValidationError) -> BadParameters:
    problems = []
    for e in err.errors():
        loc = [p for p in e["loc"] if p not in ("query", "path", "body")]
        param = str(loc[0]) if loc else "query"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] in ("int_parsing", "int_type"):
            msg = f"must be a whole number (got {e.get('input')!r})"
        elif e["type"] == "enum" or e["type"] == "literal_error":
            msg = f"{msg} (got {e.get('input')!r})"
        problems.append(BadParameter(param, msg))
    return BadParameters(problems)


class RecordNotFound(FedsearchError, LookupError):
    error_code = "api.record_not_found"

    def __init__(self, record_id: str):
        self.record_id = record_id
        super().__init__(
            f"there is no record with id {record_id!r}. It may have been deleted at its source "
            "or merged into another record; search for its title instead"
        )


# --- response models -----------------------------------------------------------------------


class Urls:
    """Absolute links: from ServerConfig.base_url, else from the request's own URL."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def record_page(self, record_id: str) -> str:
        return f"{self.base}/records/{quote(record_id)}"

    def record_api(self, record_id: str, suffix: str = "") -> str:
        return f"{self.base}/api/v1/records/{quote(record_id)}{suffix}"

    def search_page(self, items: Sequence[tuple[str, str]] = ()) -> str:
        return f"{self.base}/search" + (f"?{urlencode(items)}" if items else "")

    def search_api(self, items: Sequence[tuple[str, str]] = (), suffix: str = "") -> str:
        return f"{self.base}/api/v1/search{suffix}" + (f"?{urlencode(items)}" if items else "")


class HitOut(BaseModel):
    id: str
    type: RecordType
    title: str
    title_lang: str | None = None
    title_html: str | None = Field(
        None, description="The title HTML-escaped, with the query's words in <mark>; null when none matched."
    )
    authors: list[str]
    year: int | None
    sources: list[str]
    holdings: list[Holding]
    links: list[Link]
    access: Access
    highlights: dict[str, list[str]] = Field(
        default_factory=dict, description="field -> HTML-escaped fragments with <mark>."
    )
    url: str = Field(description="The record's page.")
    api_url: str

    @classmethod
    def from_hit(cls, hit: Hit, urls: Urls) -> HitOut:
        r = hit.record
        return cls(
            id=r.id,
            type=r.type,
            title=r.main_title,
            title_lang=r.title[0].lang,
            title_html=title_highlight(r, hit.highlights),
            authors=[p.name for p in r.authors],
            year=r.year,
            sources=r.sources,
            holdings=r.holdings,
            links=r.links,
            access=r.access,
            highlights=hit.highlights,
            url=urls.record_page(r.id),
            api_url=urls.record_api(r.id),
        )


def title_highlight(record: Record, highlights: dict[str, list[str]]) -> str | None:
    """The highlighter's fragment for the main title, if it has one.

    A fragment is the HTML-escaped text with <mark> tags added, so the main
    title's fragment is the one that equals the escaped title once they go.
    """
    import html

    want = html.escape(record.main_title)
    for frag in highlights.get("title", []):
        if frag.replace("<mark>", "").replace("</mark>", "") == want:
            return frag
    return None


class Alternative(BaseModel):
    """Another query that does find something, offered when a search found nothing."""

    kind: Literal["transliteration", "keyboard_layout", "drop_filter", "drop_year_range"]
    q: str
    total: int
    filter: str | None = None  # for drop_filter: the filter name ...
    value: str | None = None  # ... and the value dropped


class SearchResponse(BaseModel):
    total: int
    page: int | None
    per_page: int
    hits: list[HitOut]
    facets: dict[str, list[FacetValue]]
    query: dict[str, Any] = Field(description="The query as understood, with defaults.")
    next_cursor: str | None = None
    next: str | None = Field(None, description="URL of the next page (by cursor), if there is one.")
    alternatives: list[Alternative] = Field(
        default_factory=list, description="When nothing was found: queries that do find something."
    )
    relaxed: Relaxed | None = Field(
        None,
        description="Set when few records (`all_words`, maybe 0) held every word of the query: they come first, then hits holding at least `required` of its `of` words; `translated`: the query read through their parallel titles in another language.",
    )
    corrected: str | None = Field(
        None,
        description='Set when nothing matched the words as typed and a word one edit away did: the query as the hits spell it ("did you mean").',
    )
    took_ms: float


class LastHarvest(BaseModel):
    started_at: datetime | None = None
    finished_at: datetime | None = None
    status: str | None = None
    records: int | None = None


class SourceOut(BaseModel):
    id: str
    name: dict[str, str] = Field(description="Display name by UI language (ky, ru, en).")
    kind: str | None = Field(
        description="The connector that harvests it (oai-pmh, sru, marc-file, ...); null if not configured."
    )
    institution: str | None = None
    enabled: bool
    records: int
    last_harvest: LastHarvest | None = Field(
        None, description="The newest harvest run, from the raw store; null if unknown."
    )


class SourcesResponse(BaseModel):
    sources: list[SourceOut]
    total_records: int


class SuggestResponse(BaseModel):
    q: str
    suggestions: list[Suggestion]


class HealthOut(BaseModel):
    status: Literal["ok", "unavailable"]
    engine: str
    reachable: bool
    documents: int | None = None
    last_update: datetime | None = None
    index_age_seconds: float | None = None
    detail: str | None = None
    # Elasticsearch's cluster health: yellow = a replica missing (a node lost), still answering.
    cluster: Literal["green", "yellow", "red"] | None = None


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
        query = params.to_query(facets=facets, facet_size=facet_size)
        result = self.search(query)
        next_url = None
        if result.next_cursor:
            items = [kv for kv in params.query_items(cursor=result.next_cursor, page=1)]
            next_url = urls.search_api(items)
        alts = self.alternatives(params) if with_alternatives and result.total == 0 and params.page == 1 else []
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

    def execute(self, plan: Plan, query: SearchQuery) -> EngineHits:
        """A plan compiled elsewhere (the SRU server's CQL, search_api/sru/) run as it is."""
        return self._call(lambda: self.engine.execute(plan, query, None))

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
        sid: LastHarvest(started_at=run.started_at, finished_at=run.finished_at, status=run.status, records=run.records)
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
