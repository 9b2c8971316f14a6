"""Safe XML parsing of partner payloads, and namespace-blind element look-ups.

Partners' XML is untrusted: no DTDs, no entity expansion, no network. Payloads
with a DOCTYPE are refused outright (no metadata format needs one).
Look-ups go by local name, because the same format arrives under several
namespaces (MARC21 slim, marcxchange, no namespace at all) and prefixes.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from indexers.normalize.errors import NormalizationError

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    recover=False,
)


def parse_xml(payload: bytes) -> etree._Element:
    """The root element of one payload, or NormalizationError."""
    head = payload[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if b"<!DOCTYPE" in payload[:65536].upper() or b"<!ENTITY" in head.upper():
        raise NormalizationError("XML with a DOCTYPE or entity declarations is refused (unsafe)")
    if not head.startswith(b"<"):
        raise NormalizationError("the payload is not XML")
    try:
        root = etree.fromstring(payload, parser=_PARSER)
    except etree.XMLSyntaxError as err:
        raise NormalizationError(f"XML is not well-formed: {err}") from None
    if root is None:
        raise NormalizationError("empty XML document")
    return root


def local(el: etree._Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(el: etree._Element) -> str:
    tag = el.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def find_first(root: etree._Element, name: str, ns: str | None = None) -> etree._Element | None:
    """The first element (root included) with this local name, and namespace if given."""
    for el in root.iter():
        if local(el) == name and (ns is None or namespace(el) == ns):
            return el
    return None


def children(el: etree._Element, name: str | None = None) -> Iterator[etree._Element]:
    for child in el:
        if isinstance(child.tag, str) and (name is None or local(child) == name):
            yield child


def child(el: etree._Element, name: str) -> etree._Element | None:
    return next(children(el, name), None)


def text_of(el: etree._Element | None) -> str:
    """All text inside an element (markup inside titles keeps its words)."""
    if el is None:
        return ""
    if len(el) == 0:  # most elements have no markup inside: skip the itertext walk
        return el.text or ""
    return "".join(el.itertext())
