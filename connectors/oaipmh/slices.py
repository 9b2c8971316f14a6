"""Cutting each record's metadata out of the page bytes, instead of re-serializing it with lxml.

The page is still parsed whole (that finds the records, checks the XML and the OAI errors);
this only replaces the per-record deepcopy + cleanup_namespaces + tostring, which cost as
much as the page parse. The payload is the metadata element's own bytes, as the partner
sent them, with the namespace declarations it inherits from the envelope added to its start
tag (only the ones it uses). Parsed, it is the same XML as `xmlsafe.serialize` gives; the
bytes differ (attribute quoting, character references, where namespaces are declared).

Slicing is only done where it is certainly right, else the caller serializes as before:
a UTF-8 page with no comment, CDATA section or processing instruction in its body (these
could hide a tag), whose OAI <metadata> tags pair up one to one with the records lxml read,
each slice starting with the element lxml found first inside that <metadata>.
"""

from __future__ import annotations

import re

from lxml import etree

_XMLNS_DECL = re.compile(rb"\sxmlns(?::([A-Za-z_][\w.-]*))?\s*=")
_UNPREFIXED_TAG = re.compile(rb"<[A-Za-z_][\w.-]*[\s/>]")
_SPACE = b" \t\r\n"


def _qname(prefix: str | None, local: str) -> bytes:
    return (f"{prefix}:{local}" if prefix else local).encode()


def _metadata_spans(body: bytes, qname: bytes) -> list[tuple[int, int]] | None:
    """(content start, content end) of every outermost <metadata> in the page, or None if the tags
    do not pair up."""
    tags = re.compile(rb"<(/?)" + re.escape(qname) + rb"(?=[\s/>])[^>]*>")
    spans: list[tuple[int, int]] = []
    depth, start = 0, 0
    for m in tags.finditer(body):
        if m.group(0).endswith(b"/>"):
            if not m.group(1) and depth == 0:
                spans.append((m.end(), m.end()))  # <metadata/>: empty
            continue
        if not m.group(1):
            if depth == 0:
                start = m.end()
            depth += 1
        else:
            depth -= 1
            if depth < 0:
                return None
            if depth == 0:
                spans.append((start, m.start()))
    return spans if depth == 0 else None


def _with_namespaces(chunk: bytes, element: etree._Element) -> bytes:
    """The element's bytes with the namespace declarations it inherits and uses added to its start tag."""
    name_end = 1
    while name_end < len(chunk) and chunk[name_end] not in b" \t\r\n/>":
        name_end += 1
    tag_end = chunk.find(b">", name_end)
    own = {(m.group(1) or b"").decode() for m in _XMLNS_DECL.finditer(chunk, name_end, tag_end + 1)}
    extra = []
    for prefix, uri in element.nsmap.items():
        key = prefix or ""
        if key in own:
            continue
        if prefix is None:
            used = _UNPREFIXED_TAG.search(chunk) is not None
        else:
            used = (prefix + ":").encode() in chunk
        if used:
            value = uri.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            extra.append(f' xmlns{":" + prefix if prefix else ""}="{value}"'.encode())
    if not extra:
        return chunk
    return chunk[:name_end] + b"".join(extra) + chunk[name_end:]


def cut_metadata(body: bytes, root: etree._Element, records: list[etree._Element]) -> list[bytes | None] | None:
    """For each <record> element of the page (in order): its metadata's first element as a standalone
    document body, sliced from `body`; None for a record without one. None if the page cannot be
    sliced safely (the caller serializes instead)."""
    docinfo = root.getroottree().docinfo
    if (docinfo.encoding or "").upper() not in ("UTF-8", "UTF8"):
        return None
    # Within the list (a stylesheet PI or a comment outside it is harmless).
    start, end = max(0, body.find(b"ListRecords")), body.rfind(b"ListRecords")
    if any(body.find(marker, start, end) >= 0 for marker in (b"<!--", b"<![CDATA[", b"<?")):
        return None
    metas = [rec.find("{*}metadata") for rec in records]
    present = [m for m in metas if m is not None]
    if not present:
        return [None] * len(records)
    qname = _qname(present[0].prefix, "metadata")
    if any(_qname(m.prefix, "metadata") != qname for m in present):
        return None
    spans = _metadata_spans(body, qname)
    if spans is None or len(spans) != len(present):
        return None
    out: list[bytes | None] = []
    it = iter(spans)
    for meta in metas:
        if meta is None:
            out.append(None)
            continue
        start, end = next(it)
        children = [c for c in meta if isinstance(c.tag, str)]
        if len(children) > 1:
            return None  # only the first is the payload; lxml cuts it out
        child = children[0] if children else None
        while start < end and body[start] in _SPACE:
            start += 1
        while end > start and body[end - 1] in _SPACE:
            end -= 1
        if child is None:
            if start != end:
                return None
            out.append(None)
            continue
        chunk = body[start:end]
        name = _qname(child.prefix, etree.QName(child).localname)
        if not (
            chunk.startswith(b"<" + name)
            and chunk[len(name) + 1 : len(name) + 2] in (b" ", b"\t", b"\r", b"\n", b"/", b">")
            and chunk.endswith((b"</" + name + b">", b"/>", b"</" + name + b" >"))
        ):
            return None
        out.append(_with_namespaces(chunk, child))
    return out
