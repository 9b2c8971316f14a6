"""For crawlers: /robots.txt, /sitemap.xml (an index of sitemaps) and /sitemaps/<slice>.xml.

The index is cut into slices by the leading hex digits of each id's digest (the index
document's `shard` field): the digest is a hash, so 16**k slices are even, and k is the
fewest digits that keep a slice near SLICE_TARGET works, well under the protocol's 50,000
URLs a sitemap. A slice is walked in id order, a page after the previous page's last hit,
never by offset. Sitemaps are cached for SITEMAP_TTL seconds.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from lxml import etree

from fedsearch.engines.document import SHARD_DIGITS
from search_api.http import cached_response, urls_for
from search_api.params import SearchParams
from search_api.service import SearchService

router = APIRouter(include_in_schema=False)

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"
SITEMAP_MAX_URLS = 50_000  # the protocol's limit
SLICE_TARGET = 20_000  # works expected in a slice: far enough below the limit that chance never reaches it
SITEMAP_TTL = 3600
XML = "application/xml; charset=utf-8"
HEX = "0123456789abcdef"
# Search result pages, the API, the admin and the embeddable frame are not for indexing.
ROBOTS_DISALLOW = ("/search", "/api/", "/admin", "/embed")

_cache: dict[str, tuple[float, bytes]] = {}
_cache_lock = threading.Lock()


def slice_digits(works: int) -> int:
    """How many hex digits name a slice: the fewest keeping a slice near SLICE_TARGET works."""
    digits = 0
    while digits < SHARD_DIGITS and works / 16**digits > SLICE_TARGET:
        digits += 1
    return digits


def slice_names(digits: int) -> list[str]:
    names = [""]
    for _ in range(digits):
        names = [n + h for n in names for h in HEX]
    return [n or "all" for n in names]


def _service(request: Request) -> SearchService:
    return request.app.state.service


def _cached(key: str, build) -> bytes:
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit and now - hit[0] < SITEMAP_TTL:
            return hit[1]
    body = build()
    with _cache_lock:
        _cache[key] = (now, body)
    return body


def _base(request: Request) -> str:
    return urls_for(request).base


@router.get("/robots.txt")
def robots(request: Request) -> Response:
    lines = [
        "User-agent: *",
        "Allow: /",
        *(f"Disallow: {p}" for p in ROBOTS_DISALLOW),
        "",
        f"Sitemap: {_base(request)}/sitemap.xml",
        "",
    ]
    return cached_response(request, "\n".join(lines).encode(), "text/plain; charset=utf-8", max_age=86400)


@router.get("/sitemap.xml")
def sitemap_index(request: Request) -> Response:
    base = _base(request)

    def build() -> bytes:
        works = _service(request).count(SearchParams())
        root = etree.Element(f"{{{SITEMAP_NS}}}sitemapindex", nsmap={None: SITEMAP_NS})
        for name in slice_names(slice_digits(works)):
            entry = etree.SubElement(root, f"{{{SITEMAP_NS}}}sitemap")
            etree.SubElement(entry, f"{{{SITEMAP_NS}}}loc").text = f"{base}/sitemaps/{name}.xml"
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return cached_response(request, _cached(f"{base} index", build), XML, max_age=SITEMAP_TTL)


@router.get("/sitemaps/{name}.xml")
def sitemap(request: Request, name: str) -> Response:
    if name != "all" and (len(name) > SHARD_DIGITS or any(c not in HEX for c in name)):
        return Response("no such sitemap; the list is at /sitemap.xml\n", status_code=404, media_type="text/plain")
    base = _base(request)
    urls = urls_for(request)

    def build() -> bytes:
        filters = {} if name == "all" else {"shard": [name]}
        root = etree.Element(f"{{{SITEMAP_NS}}}urlset", nsmap={None: SITEMAP_NS})
        for record_id, changed in _service(request).walk(filters, SITEMAP_MAX_URLS):
            url = etree.SubElement(root, f"{{{SITEMAP_NS}}}url")
            etree.SubElement(url, f"{{{SITEMAP_NS}}}loc").text = urls.record_page(record_id)
            if changed is not None:
                etree.SubElement(url, f"{{{SITEMAP_NS}}}lastmod").text = _w3c(changed)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    return cached_response(request, _cached(f"{base} {name}", build), XML, max_age=SITEMAP_TTL)


def _w3c(moment: datetime) -> str:
    if moment.utcoffset() is None:
        return moment.date().isoformat()
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
