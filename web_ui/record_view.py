"""The record page's view model: citation meta tags, JSON-LD, holdings by source, exports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fedsearch.record import Access, LangText, Record, RecordType
from search_api import exports
from search_api.models import Urls
from web_ui.labels import STYLE_LABELS

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
