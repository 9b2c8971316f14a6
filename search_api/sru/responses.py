"""The XML of SRU responses, in version 1.2 (the LoC schema) or 2.0 (the OASIS schema).

The two differ in namespaces and in one element name (recordPacking in 1.2 says what
2.0's recordXMLEscaping says); the structure is otherwise the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from search_api.sru.diagnostics import Diagnostic

EXPLAIN_NS = "http://explain.z3950.org/dtd/2.0/"
EXPLAIN_SCHEMA = "http://explain.z3950.org/dtd/2.0/"


@dataclass(frozen=True)
class Version:
    number: str
    ns: str
    prefix: str
    diag_ns: str
    packing_element: str  # what says whether recordData is XML or escaped XML


V12 = Version("1.2", "http://www.loc.gov/zing/srw/", "srw", "http://www.loc.gov/zing/srw/diagnostic/", "recordPacking")
V20 = Version(
    "2.0",
    "http://docs.oasis-open.org/ns/search-ws/sruResponse",
    "sruResponse",
    "http://docs.oasis-open.org/ns/search-ws/diagnostic",
    "recordXMLEscaping",
)


@dataclass(frozen=True)
class Schema:
    name: str
    uri: str
    title: str


SCHEMAS = {
    "dc": Schema("dc", "info:srw/schema/1/dc-v1.1", "Dublin Core"),
    "marcxml": Schema("marcxml", "info:srw/schema/1/marcxml-v1.1", "MARC 21 (MARCXML)"),
}
SCHEMA_ALIASES = {
    "dc": "dc",
    "info:srw/schema/1/dc-v1.1": "dc",
    "info:srw/schema/1/dc-schema": "dc",
    "marcxml": "marcxml",
    "marc21": "marcxml",
    "marc": "marcxml",
    "info:srw/schema/1/marcxml-v1.1": "marcxml",
}
# Indexes in explain: (context set, name, title)
EXPLAIN_INDEXES = [
    ("cql", "serverChoice", "anywhere"),
    ("cql", "allRecords", "all records"),
    ("dc", "title", "title"),
    ("dc", "creator", "author"),
    ("dc", "subject", "subject"),
    ("dc", "identifier", "identifier (DOI, ISBN, ISSN, UDC, ...)"),
    ("dc", "date", "year"),
    ("bath", "isbn", "ISBN"),
]
CONTEXT_SETS = [
    ("cql", "info:srw/cql-context-set/1/cql-v1.2"),
    ("dc", "info:srw/cql-context-set/1/dc-v1.1"),
    ("bath", "http://zing.z3950.org/cql/bath/2.0/"),
]


@dataclass
class ResultRecord:
    data: etree._Element
    position: int


def _el(parent: etree._Element, v: Version, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, f"{{{v.ns}}}{name}")
    if text is not None:
        el.text = text
    return el


def _root(v: Version, name: str) -> etree._Element:
    root = etree.Element(f"{{{v.ns}}}{name}", nsmap={v.prefix: v.ns})
    _el(root, v, "version", v.number)
    return root


def _record(
    parent: etree._Element, v: Version, schema_uri: str, data: etree._Element, packing: str, position: int | None
) -> None:
    rec = _el(parent, v, "record")
    _el(rec, v, "recordSchema", schema_uri)
    _el(rec, v, v.packing_element, packing)
    holder = _el(rec, v, "recordData")
    if packing == "string":
        holder.text = etree.tostring(data, encoding="unicode")
    else:
        holder.append(data)
    if position is not None:
        _el(rec, v, "recordPosition", str(position))


def _diagnostics(parent: etree._Element, v: Version, diag: Diagnostic) -> None:
    holder = _el(parent, v, "diagnostics")
    d = etree.SubElement(holder, f"{{{v.diag_ns}}}diagnostic", nsmap={"diag": v.diag_ns})
    for name, text in (("uri", diag.uri), ("details", diag.details), ("message", diag.message)):
        if text:
            etree.SubElement(d, f"{{{v.diag_ns}}}{name}").text = text


def _bytes(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def search_retrieve(
    v: Version, total: int, records: list[ResultRecord], schema: Schema, packing: str, next_position: int | None
) -> bytes:
    root = _root(v, "searchRetrieveResponse")
    _el(root, v, "numberOfRecords", str(total))
    if records:
        holder = _el(root, v, "records")
        for r in records:
            _record(holder, v, schema.uri, r.data, packing, r.position)
    if next_position is not None:
        _el(root, v, "nextRecordPosition", str(next_position))
    if v is V20:
        _el(root, v, "resultCountPrecision", "info:srw/vocabulary/resultCountPrecision/1/exact")
    return _bytes(root)


def diagnostic(v: Version, operation: str, diag: Diagnostic) -> bytes:
    root = _root(v, "explainResponse" if operation == "explain" else "searchRetrieveResponse")
    if operation != "explain":
        _el(root, v, "numberOfRecords", "0")
    _diagnostics(root, v, diag)
    return _bytes(root)


def explain(
    v: Version,
    host: str,
    port: int,
    database: str,
    title: str,
    description: str,
    default_records: int,
    max_records: int,
    packing: str,
) -> bytes:
    z = EXPLAIN_NS
    ex = etree.Element(f"{{{z}}}explain", nsmap={"zr": z})
    server = etree.SubElement(ex, f"{{{z}}}serverInfo", protocol="SRU", version=v.number, transport="http")
    etree.SubElement(server, f"{{{z}}}host").text = host
    etree.SubElement(server, f"{{{z}}}port").text = str(port)
    etree.SubElement(server, f"{{{z}}}database").text = database
    db = etree.SubElement(ex, f"{{{z}}}databaseInfo")
    etree.SubElement(db, f"{{{z}}}title", lang="en", primary="true").text = title
    etree.SubElement(db, f"{{{z}}}description", lang="en", primary="true").text = description
    index_info = etree.SubElement(ex, f"{{{z}}}indexInfo")
    for name, uri in CONTEXT_SETS:
        etree.SubElement(index_info, f"{{{z}}}set", identifier=uri, name=name)
    for cset, name, title_ in EXPLAIN_INDEXES:
        index = etree.SubElement(
            index_info,
            f"{{{z}}}index",
            search="true",
            scan="false",
            sort="true" if (cset, name) in (("dc", "title"), ("dc", "date")) else "false",
        )
        etree.SubElement(index, f"{{{z}}}title", lang="en").text = title_
        mapping = etree.SubElement(index, f"{{{z}}}map")
        etree.SubElement(mapping, f"{{{z}}}name", set=cset).text = name
    schema_info = etree.SubElement(ex, f"{{{z}}}schemaInfo")
    for s in SCHEMAS.values():
        el = etree.SubElement(schema_info, f"{{{z}}}schema", identifier=s.uri, name=s.name, retrieve="true")
        etree.SubElement(el, f"{{{z}}}title", lang="en").text = s.title
    config = etree.SubElement(ex, f"{{{z}}}configInfo")
    etree.SubElement(config, f"{{{z}}}default", type="numberOfRecords").text = str(default_records)
    etree.SubElement(config, f"{{{z}}}default", type="retrieveSchema").text = SCHEMAS["dc"].uri
    etree.SubElement(config, f"{{{z}}}setting", type="maximumRecords").text = str(max_records)
    root = _root(v, "explainResponse")
    _record(root, v, EXPLAIN_SCHEMA, ex, packing, None)
    return _bytes(root)
