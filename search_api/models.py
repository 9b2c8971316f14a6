"""The response models of the search service (and the OpenAPI schema of /api/v1), and absolute links."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote, urlencode

from pydantic import BaseModel, Field

from fedsearch.engines.base import FacetValue, Hit, Relaxed, Suggestion
from fedsearch.record import Access, Holding, Link, Record, RecordType

_URL_SAFE_ID = re.compile(r"[a-z0-9_-]+")  # every record id (RECORD_ID_RE): quote() leaves it as it is


def _quoted(record_id: str) -> str:
    return record_id if _URL_SAFE_ID.fullmatch(record_id) else quote(record_id)


class Urls:
    """Absolute links: from ServerConfig.base_url, else from the request's own URL."""

    def __init__(self, base: str):
        self.base = base.rstrip("/")

    def record_page(self, record_id: str) -> str:
        return f"{self.base}/records/{_quoted(record_id)}"

    def record_api(self, record_id: str, suffix: str = "") -> str:
        return f"{self.base}/api/v1/records/{_quoted(record_id)}{suffix}"

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
    return title_fragment(record.main_title, highlights)


def title_fragment(title: str, highlights: dict[str, list[str]]) -> str | None:
    """The fragment of `highlights` that is `title` with words marked, if there is one."""
    want = html.escape(title)
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
    error_code: str | None = Field(
        default=None,
        description="Why the run did not finish well, as a stable code (partner.http.timeout, harvest.interrupted, "
        "...); null when it did, or for runs stored before codes were kept.",
    )


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
