"""View models for the HTML pages: what a template needs beyond the service's response models."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup, escape

from fedsearch.engines.query import MAX_WINDOW
from fedsearch.engines.query_syntax import FIELD_ALIASES
from fedsearch.record import Access, LangText, Record, RecordType
from search_api import exports
from search_api.models import Alternative, SearchResponse, Urls
from search_api.params import SearchParams
from web_ui.i18n import gettext_
from web_ui.labels import FACET_LABELS, STYLE_LABELS, value_label

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


# --- the record page ----------------------------------------------------------------------------

SCHEMA_TYPES = {
    RecordType.article: "ScholarlyArticle",
    RecordType.book: "Book",
    RecordType.chapter: "Chapter",
    RecordType.thesis: "Thesis",
    RecordType.dissertation: "Thesis",
    RecordType.dataset: "Dataset",
    RecordType.report: "Report",
    RecordType.conference_paper: "ScholarlyArticle",
}


def record_json_ld(record: Record, permalink: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(record.type, "CreativeWork"),
        "@id": permalink,
        "url": permalink,
        "name": record.main_title,
    }
    if record.type == RecordType.patent:
        data["additionalType"] = "Patent"
    if record.title[0].lang:
        data["inLanguage"] = record.title[0].lang
    if record.title_alt:
        data["alternateName"] = [t.value for t in record.title_alt]
    if record.authors:
        data["author"] = [
            {"@type": "Person", "name": p.name, **({"identifier": f"https://orcid.org/{p.orcid}"} if p.orcid else {})}
            for p in record.authors
        ]
    if record.year:
        data["datePublished"] = record.date or str(record.year)
    if record.abstract:
        data["abstract"] = record.abstract[0].value
    if record.subjects:
        data["keywords"] = record.subjects
    if record.publisher:
        data["publisher"] = {"@type": "Organization", "name": record.publisher}
    if record.institution:
        data["sourceOrganization"] = {"@type": "Organization", "name": record.institution}
    c = record.container
    if c and c.title:
        data["isPartOf"] = {
            "@type": "Periodical" if record.type == RecordType.article else "CreativeWork",
            "name": c.title,
        }
        if c.volume:
            data["isPartOf"]["volumeNumber"] = c.volume
    if c and c.pages:
        data["pagination"] = c.pages
    ids = [
        {"@type": "PropertyValue", "propertyID": scheme.upper(), "value": v}
        for scheme in ("doi", "isbn", "issn", "handle", "urn", "patent")
        for v in getattr(record.identifiers, scheme)
    ]
    if ids:
        data["identifier"] = ids
    if record.identifiers.doi:
        data["sameAs"] = [f"https://doi.org/{d}" for d in record.identifiers.doi]
    if record.access in (Access.open, Access.free):
        data["isAccessibleForFree"] = True
    return data


def citation_meta(record: Record, permalink: str) -> list[tuple[str, str]]:
    """Google Scholar's citation_* meta tags (Highwire Press names)."""
    meta: list[tuple[str, str]] = [("citation_title", record.main_title)]
    for p in record.authors:
        meta.append(("citation_author", p.name))
    if record.year:
        date = (record.date or str(record.year)).replace("-", "/")
        meta.append(
            ("citation_publication_date", date if re.fullmatch(r"\d{4}(/\d{2}(/\d{2})?)?", date) else str(record.year))
        )
    c = record.container
    if c and c.title:
        meta.append(
            (
                "citation_journal_title"
                if record.type == RecordType.article
                else "citation_conference_title"
                if record.type == RecordType.conference_paper
                else "citation_inbook_title",
                c.title,
            )
        )
    if c and c.volume:
        meta.append(("citation_volume", c.volume))
    if c and c.issue:
        meta.append(("citation_issue", c.issue))
    if c and c.pages:
        first, _, last = c.pages.replace("–", "-").partition("-")
        meta.append(("citation_firstpage", first.strip()))
        if last.strip():
            meta.append(("citation_lastpage", last.strip()))
    if record.publisher:
        meta.append(("citation_publisher", record.publisher))
    if record.institution:
        if record.type in (RecordType.dissertation, RecordType.thesis):
            meta.append(("citation_dissertation_institution", record.institution))
        elif record.type == RecordType.report:
            meta.append(("citation_technical_report_institution", record.institution))
    for scheme in ("doi", "isbn", "issn"):
        for v in getattr(record.identifiers, scheme):
            meta.append((f"citation_{scheme}", v))
    for lang in record.languages:
        meta.append(("citation_language", lang))
    if record.subjects:
        meta.append(("citation_keywords", "; ".join(record.subjects)))
    links = record.links or [lk for h in record.holdings for lk in h.links]
    pdf = next(
        (
            lk.url
            for lk in links
            if lk.kind == "fulltext" and (lk.mime == "application/pdf" or lk.url.lower().endswith(".pdf"))
        ),
        None,
    )
    if pdf:
        meta.append(("citation_pdf_url", pdf))
    meta.append(("citation_abstract_html_url", permalink))
    return meta


def _title_key(title: str) -> str:
    return "".join(ch for ch in title.casefold().replace("ё", "е") if ch.isalnum())


@dataclass
class SourceHoldings:
    """What one source holds of a work: however many copies it has, one heading and each link once."""

    source: str
    access: str
    links: list[tuple[str, str, bool]]  # (url, kind, is PDF)
    ids: list[str]  # the source's own identifiers, when it gives no link


_ACCESS_ORDER = [Access.open, Access.free, Access.restricted, Access.unknown]


def holdings_by_source(record: Record) -> list[SourceHoldings]:
    groups: dict[str, SourceHoldings] = {}
    for h in record.holdings:
        g = groups.setdefault(h.source, SourceHoldings(h.source, h.access.value, [], []))
        if _ACCESS_ORDER.index(h.access) < _ACCESS_ORDER.index(Access(g.access)):
            g.access = h.access.value
        seen = {url.rstrip("/") for url, _, _ in g.links}
        candidates = [(lk.url, lk.kind, lk.mime == "application/pdf") for lk in h.links]
        if h.source_url:
            candidates.append((h.source_url, "landing", False))
        for url, kind, pdf in candidates:
            if url.rstrip("/") not in seen:  # the landing link is often the source_url again
                seen.add(url.rstrip("/"))
                g.links.append((url, kind, pdf))
        if not h.links and not h.source_url and h.source_record_id not in g.ids:
            g.ids.append(h.source_record_id)
    return list(groups.values())


@dataclass
class RecordView:
    record: Record
    urls: Urls
    source_names: dict[str, str]

    @property
    def permalink(self) -> str:
        return self.urls.record_page(self.record.id)

    @property
    def references(self) -> list[tuple[str, str]]:
        return [
            (STYLE_LABELS["gost"], exports.reference_gost(self.record)),
            (STYLE_LABELS["apa"], exports.reference_apa(self.record)),
        ]

    @property
    def exports(self) -> list[tuple[str, str, str]]:
        rid = self.record.id
        return [
            ("BibTeX", f"/api/v1/records/{rid}.bib", f"{rid}.bib"),
            ("RIS", f"/api/v1/records/{rid}.ris", f"{rid}.ris"),
            ("CSL-JSON", f"/api/v1/records/{rid}.csl.json", f"{rid}.json"),
        ]

    @property
    def json_ld(self) -> dict[str, Any]:
        return record_json_ld(self.record, self.permalink)

    @property
    def meta(self) -> list[tuple[str, str]]:
        return citation_meta(self.record, self.permalink)

    @property
    def other_titles(self) -> list[LangText]:
        """Titles besides the main one, without spelling variants of it ("anti - corruption" = "anti-corruption")."""
        seen = {_title_key(self.record.main_title)}
        out = []
        for t in self.record.title[1:] + self.record.title_alt:
            key = _title_key(t.value)
            if key and key not in seen:
                seen.add(key)
                out.append(t)
        return out

    @property
    def holdings(self) -> list[SourceHoldings]:
        return holdings_by_source(self.record)

    def source_name(self, source: str) -> str:
        return self.source_names.get(source, source)


# --- the API docs page ----------------------------------------------------------------------------

_CODE_SPAN = re.compile(r"`([^`]+)`")
_BULLET = re.compile(r"^[*-]\s+")


def _inline(text: str) -> str:
    return _CODE_SPAN.sub(r"<code>\1</code>", str(escape(" ".join(text.split()))))


def markdown_blocks(text: str) -> Markup:
    """The Markdown our OpenAPI descriptions use: paragraphs, "* " lists (wrapped lines), `code`. Escaped first."""
    out: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        items: list[str] = []
        para: list[str] = []
        for line in block.splitlines():
            if _BULLET.match(line.strip()):
                items.append(_BULLET.sub("", line.strip()))
            elif items and line[:1].isspace():
                items[-1] += " " + line.strip()  # a list item wrapped onto the next line
            else:
                para.append(line)
        if para:
            out.append(f"<p>{_inline(' '.join(para))}</p>")
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
    return Markup("".join(out))  # noqa: S704 - every piece of text went through escape()


@dataclass
class ApiParam:
    name: str
    where: str
    required: bool
    type: str
    description: str


@dataclass
class ApiOperation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    params: list[ApiParam]
    media_types: list[str]


def _schema_type(schema: dict[str, Any], components: dict[str, Any]) -> str:
    if "$ref" in schema:
        schema = components.get(schema["$ref"].rsplit("/", 1)[-1], {})
    if "anyOf" in schema:
        return " | ".join(_schema_type(s, components) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    kind = schema.get("type", "any")
    if kind == "array":
        return _schema_type(schema.get("items", {}), components) + " (repeatable)"
    bounds = [f"{k} {schema[k]}" for k in ("minimum", "maximum", "maxLength") if k in schema]
    default = (
        f", default {schema['default']}" if "default" in schema and schema["default"] not in (None, "", []) else ""
    )
    return kind + (f" ({', '.join(bounds)})" if bounds else "") + default


def api_operations(schema: dict[str, Any]) -> list[ApiOperation]:
    components = schema.get("components", {}).get("schemas", {})
    ops = []
    for path, methods in schema.get("paths", {}).items():
        for method, op in methods.items():
            params = [
                ApiParam(
                    p["name"],
                    p["in"],
                    p.get("required", False),
                    _schema_type(p.get("schema", {}), components),
                    p.get("description") or p.get("schema", {}).get("description", ""),
                )
                for p in op.get("parameters", [])
            ]
            media = sorted(
                {
                    m
                    for code, resp in op.get("responses", {}).items()
                    if str(code).startswith("2")
                    for m in resp.get("content", {})
                }
            )
            anchor = "op-" + re.sub(r"[^a-z0-9]+", "-", f"{method} {path}".lower()).strip("-")
            ops.append(
                ApiOperation(
                    method.upper(), path, anchor, op.get("summary", ""), op.get("description", ""), params, media
                )
            )
    return ops
