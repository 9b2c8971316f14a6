"""Metadata formats: oai_dc (every harvester) and marcxml (library aggregators).

marcxml rather than oai_datacite: DataCite requires an identifier (a DOI) and a resource
type per record, which most of our works lack, while every field of our Record has a MARC
21 home (titles 245/246, people 100/700, classifications 080/084, container 773, links 856,
dissertation 502). Text goes through lxml, which escapes it; characters XML 1.0 forbids
(control characters from partner data) are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from lxml import etree

from fedsearch.record import Access, Container, Record

OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC_NS = "http://purl.org/dc/elements/1.1/"
MARC_NS = "http://www.loc.gov/MARC21/slim"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# info:eu-repo/semantics types (the OpenAIRE guidelines' vocabulary) for dc:type.
EU_REPO_TYPE = {
    "article": "article",
    "book": "book",
    "chapter": "bookPart",
    "thesis": "bachelorThesis",
    "dissertation": "doctoralThesis",
    "patent": "patent",
    "dataset": "dataset",
    "report": "report",
    "conference_paper": "conferenceObject",
    "project": "other",
    "other": "other",
}
EU_REPO_ACCESS = {
    Access.open: "openAccess",
    Access.free: "openAccess",
    Access.restricted: "restrictedAccess",
    Access.unknown: "closedAccess",
}


def clean(text: object) -> str:
    return _NOT_XML.sub("", str(text))


def _sub(parent: etree._Element, tag: str, text: object | None, **attrs: str) -> etree._Element | None:
    if text is None or str(text).strip() == "":
        return None
    el = etree.SubElement(parent, tag, {k: clean(v) for k, v in attrs.items()})
    el.text = clean(text)
    return el


def _date(record: Record) -> str | None:
    return record.date or (str(record.year) if record.year else None)


def oai_dc(record: Record, landing_url: str) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC_NS}}}dc", nsmap={"oai_dc": OAI_DC_NS, "dc": DC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd")
    dc = f"{{{DC_NS}}}"
    for t in record.title + record.title_alt:
        _sub(root, dc + "title", t.value, **({XML_LANG: t.lang} if t.lang else {}))
    for p in record.authors:
        _sub(root, dc + "creator", p.name)
    for p in record.contributors:
        _sub(root, dc + "contributor", p.name)
    for s in record.subjects:
        _sub(root, dc + "subject", s)
    for c in record.classifications:
        _sub(root, dc + "subject", f"{c.scheme.upper()} {c.code}")
    for a in record.abstract:
        _sub(root, dc + "description", a.value, **({XML_LANG: a.lang} if a.lang else {}))
    _sub(root, dc + "publisher", record.publisher or record.institution)
    _sub(root, dc + "date", _date(record))
    _sub(root, dc + "type", f"info:eu-repo/semantics/{EU_REPO_TYPE[record.type.value]}")
    _sub(root, dc + "identifier", landing_url)
    ids = record.identifiers
    for v in ids.doi:
        _sub(root, dc + "identifier", f"https://doi.org/{v}")
    for v in ids.isbn:
        _sub(root, dc + "identifier", f"urn:isbn:{v}")
    for v in ids.handle:
        _sub(root, dc + "identifier", f"https://hdl.handle.net/{v}")
    for v in ids.urn + ids.patent + ids.register_number:
        _sub(root, dc + "identifier", v)
    for link in record.links:
        _sub(root, dc + "identifier" if link.kind == "landing" else dc + "relation", link.url)
    for lang in record.languages:
        _sub(root, dc + "language", lang)
    if record.container and record.container.title:
        _sub(root, dc + "source", ", ".join([record.container.title, *_numbering(record.container)]))
    for v in ids.issn:
        _sub(root, dc + "source", f"urn:issn:{v}")
    _sub(root, dc + "rights", f"info:eu-repo/semantics/{EU_REPO_ACCESS[record.access]}")
    return root


def _field(
    root: etree._Element, tag: str, subfields: list[tuple[str, object | None]], ind1: str = " ", ind2: str = " "
) -> None:
    present = [(c, v) for c, v in subfields if v is not None and str(v).strip()]
    if not present:
        return
    df = etree.SubElement(root, f"{{{MARC_NS}}}datafield", tag=tag, ind1=ind1, ind2=ind2)
    for code, value in present:
        sf = etree.SubElement(df, f"{{{MARC_NS}}}subfield", code=code)
        sf.text = clean(value)


ACCESS_NOTE = {Access.open: "Open access", Access.free: "Free to read", Access.restricted: "Restricted access"}
MARC_LEADER_TYPE = {"article": "ab", "chapter": "aa", "dataset": "mm", "patent": "am"}  # else "am": a monograph


def marcxml(record: Record, landing_url: str) -> etree._Element:
    root = etree.Element(f"{{{MARC_NS}}}record", nsmap={"marc": MARC_NS, "xsi": XSI_NS})
    root.set(f"{{{XSI_NS}}}schemaLocation", f"{MARC_NS} http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd")
    leader = etree.SubElement(root, f"{{{MARC_NS}}}leader")
    leader.text = f"00000n{MARC_LEADER_TYPE.get(record.type.value, 'am')} a2200000 i 4500"
    cf = etree.SubElement(root, f"{{{MARC_NS}}}controlfield", tag="001")
    cf.text = record.id
    for v in record.identifiers.isbn:
        _field(root, "020", [("a", v)])
    for v in record.identifiers.issn:
        _field(root, "022", [("a", v)])
    for v in record.identifiers.doi:
        _field(root, "024", [("a", v), ("2", "doi")], ind1="7")
    for v in record.identifiers.handle:
        _field(root, "024", [("a", v), ("2", "hdl")], ind1="7")
    for lang in record.languages:
        _field(root, "041", [("a", lang), ("2", "iso639-1" if len(lang) == 2 else "iso639-2b")], ind2="7")
    for c in record.classifications:
        if c.scheme == "udc":
            _field(root, "080", [("a", c.code)])
        else:
            _field(root, "084", [("a", c.code), ("2", c.scheme)])
    title = record.title[0]
    if record.authors:
        first = record.authors[0]
        _field(root, "100", [("a", first.name), ("u", first.affiliation), ("0", _orcid(first.orcid))], ind1="1")
    _field(root, "245", [("a", title.value)], ind1="1" if record.authors else "0", ind2="0")
    for t in record.title[1:] + record.title_alt:
        _field(root, "246", [("a", t.value)], ind1="1", ind2=" ")
    _field(root, "264", [("b", record.publisher or record.institution), ("c", _date(record))], ind2="1")
    if record.dissertation:
        d = record.dissertation
        _field(root, "502", [("b", d.degree), ("c", d.council), ("d", d.defence_date), ("o", d.specialty)])
    for a in record.abstract:
        _field(root, "520", [("a", a.value)])
    free = record.access in (Access.open, Access.free)
    _field(
        root,
        "506",
        [("a", ACCESS_NOTE.get(record.access)), ("f", "Unrestricted online access" if free else None)],
        ind1="0" if free else " ",
    )
    for s in record.subjects:
        _field(root, "653", [("a", s)])
    for person in record.authors[1:] + record.contributors:
        _field(
            root,
            "700",
            [("a", person.name), ("e", person.role), ("u", person.affiliation), ("0", _orcid(person.orcid))],
            ind1="1",
        )
    if record.container:
        c = record.container
        related = ", ".join(_numbering(c))
        _field(
            root,
            "773",
            [("t", c.title), ("g", related or None), ("x", (record.identifiers.issn or [None])[0])],
            ind1="0",
        )
    _field(root, "856", [("u", landing_url), ("y", "fedsearch")], ind1="4", ind2="0")
    for link in record.links:
        _field(
            root,
            "856",
            [("u", link.url), ("q", link.mime), ("3", "Full text" if link.kind == "fulltext" else None)],
            ind1="4",
            ind2="0" if link.kind == "fulltext" else "1",
        )
    return root


def _numbering(c: Container) -> list[str]:
    """ "vol. 3", "no. 2", "pp. 10-20", those known."""
    return [f"{label} {v}" for label, v in (("vol.", c.volume), ("no.", c.issue), ("pp.", c.pages)) if v]


def _orcid(orcid: str | None) -> str | None:
    return f"https://orcid.org/{orcid}" if orcid else None


@dataclass(frozen=True)
class MetadataFormat:
    prefix: str
    schema: str
    namespace: str
    render: Callable[[Record, str], etree._Element]


FORMATS: dict[str, MetadataFormat] = {
    "oai_dc": MetadataFormat("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC_NS, oai_dc),
    "marcxml": MetadataFormat(
        "marcxml", "http://www.loc.gov/standards/marcxml/schema/MARC21slim.xsd", MARC_NS, marcxml
    ),
}
