"""Atom feeds of searches (with OpenSearch response elements) and the OpenSearch description.

Documents are built with ElementTree, so text is always escaped; characters
XML 1.0 can't hold (harvested data has them) are dropped first.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from xml.etree import ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from search_api.models import SearchResponse, Urls
from search_api.params import SearchParams

ATOM_NS = "http://www.w3.org/2005/Atom"
OS_NS = "http://a9.com/-/spec/opensearch/1.1/"
ATOM_MEDIA_TYPE = "application/atom+xml; charset=utf-8"
OPENSEARCH_MEDIA_TYPE = "application/opensearchdescription+xml; charset=utf-8"

ET.register_namespace("", ATOM_NS)
ET.register_namespace("opensearch", OS_NS)

_NOT_XML_RE = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _x(text: object) -> str:
    return _NOT_XML_RE.sub("", str(text))


def _sub(parent: ET.Element, tag: str, text: object | None = None, ns: str = ATOM_NS, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}", {k: _x(v) for k, v in attrs.items()})
    if text is not None:
        el.text = _x(text)
    return el


def _iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def atom_feed(
    resp: SearchResponse, params: SearchParams, urls: Urls, updated: dict[str, datetime], site_name: str = "fedsearch"
) -> bytes:
    """An Atom feed of one result page; `updated` maps record ids to their last change."""
    feed = ET.Element(f"{{{ATOM_NS}}}feed")
    items = params.query_items()
    feed_url = urls.search_api(items, suffix=".atom")
    _sub(feed, "id", feed_url)
    _sub(feed, "title", f"{site_name}: {params.q}" if params.q else site_name)
    stamps = [updated[h.id] for h in resp.hits if h.id in updated]
    _sub(feed, "updated", _iso(max(stamps) if stamps else datetime.now(UTC)))
    _sub(feed, "generator", "fedsearch")
    _sub(feed, "link", rel="self", type="application/atom+xml", href=feed_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=urls.search_page(items))
    _sub(feed, "link", rel="search", type="application/opensearchdescription+xml", href=f"{urls.base}/opensearch.xml")
    if resp.next:
        _sub(
            feed,
            "link",
            rel="next",
            type="application/atom+xml",
            href=resp.next.replace("/api/v1/search?", "/api/v1/search.atom?", 1),
        )
    _sub(feed, "totalResults", resp.total, ns=OS_NS)
    _sub(feed, "startIndex", ((resp.page or 1) - 1) * resp.per_page + 1, ns=OS_NS)
    _sub(feed, "itemsPerPage", resp.per_page, ns=OS_NS)
    _sub(feed, "Query", None, ns=OS_NS, role="request", searchTerms=params.q)
    for hit in resp.hits:
        entry = _sub(feed, "entry")
        _sub(entry, "id", hit.url)
        title = _sub(entry, "title", hit.title, type="text")
        if hit.title_lang:
            title.set("{http://www.w3.org/XML/1998/namespace}lang", hit.title_lang)
        _sub(entry, "updated", _iso(updated.get(hit.id) or datetime.now(UTC)))
        _sub(entry, "link", rel="alternate", type="text/html", href=hit.url)
        _sub(entry, "link", rel="related", type="application/json", href=hit.api_url)
        for link in hit.links:
            _sub(
                entry,
                "link",
                rel="enclosure" if link.kind == "fulltext" else "related",
                href=link.url,
                **({"type": link.mime} if link.mime else {}),
            )
        for name in hit.authors:
            _sub(_sub(entry, "author"), "name", name)
        if hit.year:
            _sub(entry, "category", term=str(hit.year), label="year")
        _sub(entry, "category", term=hit.type.value, label="type")
        for source in hit.sources:
            _sub(entry, "category", term=source, label="source")
        abstract = hit.highlights.get("abstract")
        if abstract:  # the highlighter's fragment is already HTML, escaped by the engine
            _sub(entry, "summary", abstract[0], type="html")
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="utf-8", xml_declaration=False)


def opensearch_description(urls: Urls, short_name: str, description: str) -> bytes:
    b = urls.base
    lines = [
        '<?xml version="1.0" encoding="utf-8"?>',
        f'<OpenSearchDescription xmlns="{OS_NS}">',
        f"  <ShortName>{escape(_x(short_name[:16]))}</ShortName>",
        f"  <Description>{escape(_x(description[:1024]))}</Description>",
        "  <InputEncoding>UTF-8</InputEncoding>",
        "  <OutputEncoding>UTF-8</OutputEncoding>",
    ]
    templates = [
        ("text/html", f"{b}/search?q={{searchTerms}}&page={{startPage?}}", None),
        (
            "application/atom+xml",
            f"{b}/api/v1/search.atom?q={{searchTerms}}&page={{startPage?}}&per_page={{count?}}",
            None,
        ),
        ("application/json", f"{b}/api/v1/search?q={{searchTerms}}&page={{startPage?}}&per_page={{count?}}", None),
        ("application/x-suggestions+json", f"{b}/api/v1/suggest?q={{searchTerms}}&format=opensearch", None),
        ("application/opensearchdescription+xml", f"{b}/opensearch.xml", "self"),
    ]
    for mime, template, rel in templates:
        rel_attr = f" rel={quoteattr(rel)}" if rel else ""
        lines.append(f'  <Url type={quoteattr(mime)} method="get" template={quoteattr(_x(template))}{rel_attr}/>')
    lines.append(f'  <Image type="image/svg+xml" width="16" height="16">{escape(b)}/static/favicon.svg</Image>')
    lines.append("</OpenSearchDescription>")
    return ("\n".join(lines) + "\n").encode("utf-8")
