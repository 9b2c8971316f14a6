"""The search page's view model: what its template needs beyond the service's response (SearchResponse).

The record page's is in record_view.py, the API docs page's in api_docs.py."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fedsearch.engines.query import MAX_WINDOW
from fedsearch.engines.query_syntax import FIELD_ALIASES
from search_api.models import Alternative, SearchResponse
from search_api.params import SearchParams
from web_ui.i18n import gettext_
from web_ui.labels import FACET_LABELS, value_label

# The facets of the sidebar, in order.
UI_FACETS: tuple[str, ...] = ("type", "access", "language", "source", "subject", "institution")
FACET_SHOWN = 8  # values shown before "more"
FACET_MORE = 100  # values shown after "more"
UI_PER_PAGE = 20


_EMPTY_FIELD = re.compile(r"(?:^|[\s(])([^\W\d_]\w*):(?=\s|\)|$)")


def empty_field(q: str) -> str | None:
    """A known field name typed with nothing after it ("title:", "автор: "), as typed; else None."""
    for m in _EMPTY_FIELD.finditer(q):
        if m.group(1).lower() in FIELD_ALIASES:
            return m.group(1)
    return None


@dataclass
class FacetChoice:
    value: str
    label: str
    count: int | None
    checked: bool


@dataclass
class FacetBox:
    name: str
    label: str
    choices: list[FacetChoice]
    more_url: str | None  # show more values (a plain link: works without JS)


@dataclass
class ActiveFilter:
    label: str
    remove_url: str


@dataclass
class PageLink:
    number: int
    url: str
    current: bool


@dataclass
class SearchView:
    """The search page: results, facets, active filters and paging, with every link built."""

    params: SearchParams
    response: SearchResponse | None
    link: Any  # (items) -> URL keeping ?lang=
    ui_lang: str
    source_names: dict[str, str]
    facet_size: int = FACET_SHOWN
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was mended in the request (web_ui/routes.py)
    no_words: bool = False  # the query had nothing to search for: newest works are shown
    field_hint: str | None = None  # a field name typed with nothing after it ("title:")

    def url(self, **changes: Any) -> str:
        changes.setdefault("page", 1)
        return self.link("/search", self.params.query_items(**changes))

    def label(self, facet: str, value: str) -> str:
        return value_label(facet, value, ui_lang=self.ui_lang, source_names=self.source_names)

    @property
    def facets(self) -> list[FacetBox]:
        if self.response is None:
            return []
        boxes = []
        for name in UI_FACETS:
            buckets = self.response.facets.get(name, [])
            selected = getattr(self.params, name)
            shown = buckets[: self.facet_size]
            choices = [FacetChoice(b.value, self.label(name, b.value), b.count, b.value in selected) for b in shown]
            # A selected value may have fallen out of the top values: keep it, so it can be unticked.
            listed = {c.value for c in choices}
            choices += [FacetChoice(v, self.label(name, v), None, True) for v in selected if v not in listed]
            if not choices:
                continue
            more = None
            if len(buckets) > self.facet_size and self.facet_size < FACET_MORE:
                more = self.url(facet_size=FACET_MORE, page=self.params.page) + f"#facet-{name}"
            boxes.append(FacetBox(name, FACET_LABELS[name], choices, more))
        return boxes

    @property
    def active_filters(self) -> list[ActiveFilter]:
        out = []
        for name, values in self.params.filters.items():
            for v in values:
                rest = [x for x in values if x != v]
                out.append(
                    ActiveFilter(f"{gettext_(FACET_LABELS[name])}: {self.label(name, v)}", self.url(**{name: rest}))
                )
        if self.params.year_from is not None or self.params.year_to is not None:
            span = f"{self.params.year_from or '…'}–{self.params.year_to or '…'}"
            out.append(ActiveFilter(f"{gettext_('Years')}: {span}", self.url(year_from=None, year_to=None)))
        return out

    @property
    def clear_url(self) -> str:
        return self.link("/search", [("q", self.params.q)] if self.params.q else [])

    @property
    def last_page(self) -> int:
        if self.response is None:
            return 1
        total = min(self.response.total, MAX_WINDOW)
        return max(1, -(-total // self.params.per_page))

    @property
    def pages(self) -> list[PageLink]:
        cur, last = self.params.page, self.last_page
        numbers = sorted({1, last, *range(max(1, cur - 2), min(last, cur + 2) + 1)})
        return [PageLink(n, self.url(page=n), n == cur) for n in numbers]

    @property
    def prev_url(self) -> str | None:
        return self.url(page=self.params.page - 1) if self.params.page > 1 else None

    @property
    def next_url(self) -> str | None:
        return self.url(page=self.params.page + 1) if self.params.page < self.last_page else None

    @property
    def first_index(self) -> int:
        return (self.params.page - 1) * self.params.per_page + 1

    def alternative_url(self, alt: Alternative) -> str:
        if alt.kind == "drop_filter" and alt.filter:
            return self.url(**{alt.filter: [v for v in getattr(self.params, alt.filter) if v != alt.value]})
        if alt.kind == "drop_year_range":
            return self.url(year_from=None, year_to=None)
        return self.url(q=alt.q)

    def alternative_label(self, alt: Alternative) -> str:
        if alt.kind == "drop_filter" and alt.filter and alt.value is not None:
            return f"{gettext_(FACET_LABELS[alt.filter])}: {self.label(alt.filter, alt.value)}"
        return alt.q

    def export_url(self, fmt: str) -> str:
        return _api_search_url(self.params, fmt)

    def atom_url(self) -> str:
        return _api_search_url(self.params, None, suffix=".atom")


def _api_search_url(params: SearchParams, fmt: str | None, suffix: str = "") -> str:
    items = params.query_items()
    if fmt:
        items.append(("format", fmt))
    return f"/api/v1/search{suffix}" + (f"?{urlencode(items)}" if items else "")
