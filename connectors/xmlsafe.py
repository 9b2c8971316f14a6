"""Parsing partner XML without trusting it.

Partners send what they send: a DOCTYPE with entities (XXE, "billion laughs"),
bytes that are not UTF-8, text nodes of 50 MB. Every connector parses through
here: no DTD is loaded, no entity is resolved, nothing is fetched from the
network, huge text nodes are refused, and any DOCTYPE is rejected outright.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lxml import etree

from fedsearch.errors import FedsearchError

# Characters XML 1.0 forbids; MARC exports carry them (field and subfield marks).
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_BOMS = (b"\xef\xbb\xbf",)


class BadXML(FedsearchError, ValueError):
    """Not well-formed XML; the message says where."""

    error_code = "partner.bad_xml"


class UnsafeXML(BadXML):
    """XML we refuse to read (a DOCTYPE); entities are never expanded."""


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers must not be shared between threads.
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_pis=True)


def has_doctype(data: bytes) -> bool:
    """True if a DOCTYPE comes before the root element (skips the XML declaration, PIs, comments)."""
    pos = 0
    for bom in _BOMS:
        if data.startswith(bom):
            pos = len(bom)
    n = len(data)
    while pos < n:
        while pos < n and data[pos] in b" \t\r\n":
            pos += 1
        if data.startswith(b"<?", pos):
            end = data.find(b"?>", pos)
            if end < 0:
                return False
            pos = end + 2
        elif data.startswith(b"<!--", pos):
            end = data.find(b"-->", pos)
            if end < 0:
                return False
            pos = end + 3
        else:
            return data[pos : pos + 9].upper() == b"<!DOCTYPE"
    return False


def parse(data: bytes, what: str = "the answer") -> etree._Element:
    """Parse one XML document safely; `what` names it in error messages."""
    if has_doctype(data):
        raise UnsafeXML(f"{what} has a DOCTYPE declaration, which we refuse to read (entity expansion is unsafe)")
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as err:
        raise BadXML(f"{what} is not well-formed XML: {_reason(err)}") from None
    if root.getroottree().docinfo.doctype:
        raise UnsafeXML(f"{what} has a DOCTYPE declaration, which we refuse to read (entity expansion is unsafe)")
    return root


def iterparse(source: Any, tag: str) -> Any:
    """Stream elements named `tag` (like "{*}record") from a file, with the same safety settings."""
    return etree.iterparse(
        source,
        events=("end",),
        tag=tag,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_pis=True,
    )


def _reason(err: etree.XMLSyntaxError) -> str:
    msg = str(err.msg if getattr(err, "msg", None) else err)
    if "not proper UTF-8" in msg or "Invalid bytes in character encoding" in msg:
        return f"the bytes are not valid UTF-8, or not in the encoding the document declares (line {err.lineno})"
    if "Text node too long" in msg or "huge" in msg.lower():
        return f"a text value is larger than 10 MB (line {err.lineno})"
    return msg


def serialize(element: etree._Element) -> bytes:
    """One element as a standalone UTF-8 document body, keeping only the namespaces it uses."""
    clone = copy.deepcopy(element)
    clone.tail = None
    etree.cleanup_namespaces(clone)
    out: bytes = etree.tostring(clone, encoding="utf-8", with_tail=False)
    return out


def clean_text(value: str) -> str:
    """Text with the characters XML forbids removed (for building XML from MARC data)."""
    return _XML_FORBIDDEN.sub("", value)


def text_of(element: etree._Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    value = element.text.strip()
    return value or None
