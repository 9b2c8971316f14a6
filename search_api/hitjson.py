"""The JSON API's search response built as plain dicts, for orjson: the thin path of /api/v1/search.

`SearchResponse` (search_api/models.py) stays the contract and the OpenAPI schema; this
module writes the same JSON, byte for byte, without building the response models and
dumping them again: pydantic's `HitOut` construction and `model_dump` cost about a third
of a request beyond the engine's own work (docs/benchmarks.md, "Search"). Hits come from
the records' stored JSON where the engine offers it (fedsearch/engines/stored.py), else
from `Hit`s.
tests/api/test_hitjson.py holds the two paths to the same bytes. Feeds and the web UI keep
the models.
"""

from __future__ import annotations

from typing import Any

import orjson

from fedsearch.engines.base import FacetValue, Hit, SearchResult
from fedsearch.engines.stored import StoredRecord, StoredResult
from fedsearch.record import Holding, Link
from search_api.models import Alternative, Urls, title_fragment, title_highlight


def link_json(link: Link) -> dict[str, Any]:
    return {"url": link.url, "kind": link.kind, "mime": link.mime}


def holding_json(h: Holding) -> dict[str, Any]:
    return {
        "source": h.source,
        "source_record_id": h.source_record_id,
        "record_id": h.record_id,
        "source_url": h.source_url,
        "links": [link_json(link) for link in h.links],
        "access": h.access.value,
    }


def hit_json(hit: Hit, urls: Urls) -> dict[str, Any]:
    """What `HitOut.from_hit(hit, urls).model_dump(mode="json")` gives, in its field order."""
    r = hit.record
    return {
        "id": r.id,
        "type": r.type.value,
        "title": r.main_title,
        "title_lang": r.title[0].lang,
        "title_html": title_highlight(r, hit.highlights),
        "authors": [p.name for p in r.authors],
        "year": r.year,
        "sources": r.sources,
        "holdings": [holding_json(h) for h in r.holdings],
        "links": [link_json(link) for link in r.links],
        "access": r.access.value,
        "highlights": hit.highlights,
        "url": urls.record_page(r.id),
        "api_url": urls.record_api(r.id),
    }


def stored_link_json(link: dict[str, Any]) -> dict[str, Any]:
    return {"url": link["url"], "kind": link.get("kind", "landing"), "mime": link.get("mime")}


def stored_hit_json(data: StoredRecord, highlights: dict[str, list[str]], urls: Urls) -> dict[str, Any]:
    """`hit_json` from a record's stored JSON (fedsearch/engines/stored.py): None-valued fields are absent there."""
    title = data["title"][0]
    holdings = data["holdings"]
    return {
        "id": data["id"],
        "type": data.get("type", "other"),
        "title": title["value"],
        "title_lang": title.get("lang"),
        "title_html": title_fragment(title["value"], highlights),
        "authors": [p["name"] for p in data.get("authors", ())],
        "year": data.get("year"),
        "sources": sorted({h["source"] for h in holdings}),
        "holdings": [
            {
                "source": h["source"],
                "source_record_id": h["source_record_id"],
                "record_id": h["record_id"],
                "source_url": h.get("source_url"),
                "links": [stored_link_json(link) for link in h.get("links", ())],
                "access": h.get("access", "unknown"),
            }
            for h in holdings
        ],
        "links": [stored_link_json(link) for link in data.get("links", ())],
        "access": data.get("access", "unknown"),
        "highlights": highlights,
        "url": urls.record_page(data["id"]),
        "api_url": urls.record_api(data["id"]),
    }


def _facet(values: list[FacetValue]) -> list[dict[str, Any]]:
    return [{"value": v.value, "count": v.count} for v in values]


def search_body(
    result: SearchResult | StoredResult,
    *,
    facets: list[str],
    page: int | None,
    per_page: int,
    echo: dict[str, Any],
    next_url: str | None,
    alternatives: list[Alternative],
    urls: Urls,
) -> tuple[bytes, bytes]:
    """(the response body, the same without `took_ms`, for the ETag): `SearchResponse`'s JSON.

    `took_ms` is the last field, so the ETag's bytes are the body's up to it: one encoding, not two.
    """
    data = {
        "total": result.total,
        "page": page,
        "per_page": per_page,
        "hits": (
            [hit_json(h, urls) for h in result.hits]
            if isinstance(result, SearchResult)
            else [stored_hit_json(data, marks, urls) for data, marks in result.hits]
        ),
        "facets": {name: _facet(result.facets.get(name, [])) for name in facets},
        "query": echo,
        "next_cursor": result.next_cursor,
        "next": next_url,
        "alternatives": [a.model_dump(mode="json") for a in alternatives],
        "relaxed": relaxed.model_dump(mode="json") if (relaxed := getattr(result, "relaxed", None)) else None,
        "corrected": getattr(result, "corrected", None),
    }
    stable = orjson.dumps(data)
    return stable[:-1] + b',"took_ms":' + orjson.dumps(result.took_ms) + b"}", stable
