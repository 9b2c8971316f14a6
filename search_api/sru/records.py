"""A Record as SRU record data: Dublin Core (info:srw/schema/1/dc-v1.1) or MARC 21 (MARCXML).

Only what the record holds is written; values go in as text (lxml escapes them), with the
characters XML 1.0 forbids dropped.
"""

from __future__ import annotations

import re

from lxml import etree

from fedsearch.record import Record, RecordType

DC_NS = "http://purl.org/dc/elements/1.1/"
SRW_DC_NS = "info:srw/schema/1/dc-schema"
MARC_NS = "http://www.loc.gov/MARC21/slim"

_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
MARC_LANG = {"ky": "kir", "ru": "rus", "en": "eng", "kk": "kaz", "uz": "uzb", "tg": "tgk", "de": "ger", "fr": "fre"}
# Leader/06 (type of record) and /07 (bibliographic level) for each of our types.
MARC_LEADER = {
    RecordType.article: "ab",
    RecordType.chapter: "aa",
    RecordType.book: "am",
    RecordType.thesis: "am",
    RecordType.dissertation: "am",
    RecordType.report: "am",
    RecordType.conference_paper: "aa",
    RecordType.patent: "am",
    RecordType.dataset: "mm",
    RecordType.project: "pc",
    RecordType.other: "am",
}


def _text(value: str) -> str:
    return _XML_FORBIDDEN.sub("", value)


def identifiers(record: Record, permalink: str) -> list[str]:
    """The record's identifiers as URIs where they have one, our page first."""
    ids = record.identifiers
    out = [permalink]
    out += [f"https://doi.org/{d}" for d in ids.doi]
    out += [f"urn:isbn:{i}" for i in ids.isbn] + [f"urn:issn:{i}" for i in ids.issn]
    out += [f"https://hdl.handle.net/{h}" for h in ids.handle] + list(ids.urn)
    out += ids.patent + ids.register_number + ids.other
    return out


def dublin_core(record: Record, permalink: str) -> etree._Element:
    root = etree.Element(f"{{{SRW_DC_NS}}}dc", nsmap={"srw_dc": SRW_DC_NS, "dc": DC_NS})

    def add(name: str, value: str | None, lang: str | None = None) -> None:
        if value:
            el = etree.SubElement(root, f"{{{DC_NS}}}{name}")
            el.text = _text(value)
            if lang:
                el.set("{http://www.w3.org/XML/1998/namespace}lang", lang)

    for t in record.title + record.title_alt:
        add("title", t.value, t.lang)
    for p in record.authors:
        add("creator", p.name)
    for p in record.contributors:
        add("contributor", p.name)
    for s in record.subjects:
        add("subject", s)
    for c in record.classifications:
        add("subject", f"{c.scheme.upper()} {c.code}")
    for a in record.abstract:
        add("description", a.value, a.lang)
    add("publisher", record.publisher or record.institution)
    add("date", record.date or (str(record.year) if record.year else None))
    add("type", record.type.value)
    for lang in record.languages:
        add("language", lang)
    for i in identifiers(record, permalink):
        add("identifier", i)
    if record.container and record.container.title:
        add("source", record.container.title)
    add("rights", {"open": "open access", "free": "free to read"}.get(record.access.value))
    return root


def marcxml(record: Record, permalink: str) -> etree._Element:
    root = etree.Element(f"{{{MARC_NS}}}record", nsmap={None: MARC_NS})
    leader = etree.SubElement(root, f"{{{MARC_NS}}}leader")
    leader.text = f"00000n{MARC_LEADER[record.type]}a22000007i 4500"

    def control(tag: str, value: str) -> None:
        el = etree.SubElement(root, f"{{{MARC_NS}}}controlfield", tag=tag)
        el.text = _text(value)

    def data(tag: str, ind: str, *subfields: tuple[str, str | None]) -> None:
        pairs = [(code, v) for code, v in subfields if v]
        if not pairs:
            return
        el = etree.SubElement(root, f"{{{MARC_NS}}}datafield", tag=tag, ind1=ind[0], ind2=ind[1])
        for code, value in pairs:
            sf = etree.SubElement(el, f"{{{MARC_NS}}}subfield", code=code)
            sf.text = _text(value)

    control("001", record.id)
    control("003", "fedsearch")
    lang = MARC_LANG.get(record.languages[0], "und") if record.languages else "und"
    year = f"{record.year:04d}" if record.year else "    "
    control("008", f"000000s{year}    xx            000 0 {lang} d")
    for isbn in record.identifiers.isbn:
        data("020", "  ", ("a", isbn))
    for issn in record.identifiers.issn:
        data("022", "  ", ("a", issn))
    for doi in record.identifiers.doi:
        data("024", "7 ", ("a", doi), ("2", "doi"))
    for h in record.identifiers.handle:
        data("024", "7 ", ("a", h), ("2", "hdl"))
    if len(record.languages) > 1:
        data("041", "0 ", *[("a", MARC_LANG.get(code, code)) for code in record.languages])
    for c in record.classifications:
        if c.scheme == "udc":
            data("080", "  ", ("a", c.code))
        else:
            data("084", "  ", ("a", c.code), ("2", c.scheme))
    if record.authors:
        data("100", "1 ", ("a", record.authors[0].name), ("u", record.authors[0].affiliation))
    data("245", "10" if record.authors else "00", ("a", record.main_title))
    for t in record.title[1:] + record.title_alt:
        data("246", "1 ", ("a", t.value))
    date = record.date or (str(record.year) if record.year else None)
    data("264", " 1", ("b", record.publisher), ("c", date))
    diss = record.dissertation
    if diss is not None or record.type in (RecordType.dissertation, RecordType.thesis):
        data(
            "502",
            "  ",
            ("b", diss.degree if diss else None),
            ("c", record.institution),
            ("d", record.year and str(record.year)),
            ("o", diss.specialty if diss else None),
        )
    for a in record.abstract:
        data("520", "  ", ("a", a.value))
    for s in record.subjects:
        data("653", "  ", ("a", s))
    for p in record.authors[1:]:
        data("700", "1 ", ("a", p.name), ("u", p.affiliation))
    for p in record.contributors:
        data("700", "1 ", ("a", p.name), ("e", p.role))
    if record.institution and record.type not in (RecordType.dissertation, RecordType.thesis):
        data("710", "2 ", ("a", record.institution))
    c = record.container
    if c and c.title:
        related = ", ".join(
            x for x in (c.volume and f"vol. {c.volume}", c.issue and f"no. {c.issue}", c.pages and f"p. {c.pages}") if x
        )
        data("773", "0 ", ("t", c.title), ("g", related or None))
    data("856", "40", ("u", permalink), ("z", "fedsearch"))
    for link in record.links:
        data("856", "40" if link.kind == "fulltext" else "42", ("u", link.url), ("q", link.mime))
    return root
