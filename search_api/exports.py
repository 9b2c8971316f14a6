"""Citation exports of records: BibTeX, RIS, CSL-JSON; formatted references (GOST-like, APA) in search_api/references.py.

Harvested metadata is untrusted text: each format escapes it for its own syntax
(BibTeX special characters, RIS line structure). Formatted references are plain
text; the HTML layer escapes them like any other text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence

from fedsearch import analysis
from fedsearch.record import Person, Record, RecordType
from search_api.citation_text import (  # noqa: F401 - re-exported: callers import them from here
    Name,
    initials,
    split_name,
)
from search_api.citation_text import best_url as _best_url
from search_api.citation_text import clean as _clean
from search_api.references import degree_genitive, reference_apa, reference_gost  # noqa: F401 - re-exported

FORMATS: dict[str, tuple[str, str]] = {
    # name -> (media type, file extension)
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}


# --- BibTeX --------------------------------------------------------------------------------------

_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "^": r"\^{}",
    "~": r"\~{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}
_BIBTEX_RE = re.compile("|".join(re.escape(k) for k in _BIBTEX_ESCAPES))

BIBTEX_TYPES = {
    RecordType.article: "article",
    RecordType.book: "book",
    RecordType.chapter: "incollection",
    RecordType.thesis: "mastersthesis",
    RecordType.dissertation: "phdthesis",
    RecordType.report: "techreport",
    RecordType.conference_paper: "inproceedings",
}


def bibtex_escape(text: str | None) -> str:
    """Text safe inside a braced BibTeX field: specials escaped, so braces always balance."""
    return _BIBTEX_RE.sub(lambda m: _BIBTEX_ESCAPES[m.group()], _clean(text))


def bibtex_key(record: Record) -> str:
    """An ASCII key like 'aitmatov2019ekologiia': first author, year, first title word."""
    who = ""
    if record.authors:
        n = split_name(record.authors[0])
        who = (n.family or n.literal).split()[0] if (n.family or n.literal).split() else ""
    first_word = next((w for w in analysis.words(record.main_title) if len(w) > 3), "")

    def ascii_key(s: str) -> str:
        return re.sub(r"[^a-z0-9]", "", analysis.skeleton(s)) if s else ""

    key = f"{ascii_key(who)}{record.year or ''}{ascii_key(first_word)}"
    return key or re.sub(r"[^a-z0-9_-]", "", record.id)


def _pages(record: Record) -> str | None:
    return _clean(record.container.pages) if record.container and record.container.pages else None


def bibtex_entry(record: Record, key: str | None = None) -> str:
    kind = BIBTEX_TYPES.get(record.type, "misc")
    c = record.container
    fields: list[tuple[str, str]] = [("title", record.main_title)]
    if record.authors:
        fields.append(("author", _Escaped(" and ".join(_bibtex_name(p) for p in record.authors))))
    editors = [p for p in record.contributors if (p.role or "").lower() == "editor"]
    if editors:
        fields.append(("editor", _Escaped(" and ".join(_bibtex_name(p) for p in editors))))
    if record.year:
        fields.append(("year", str(record.year)))
    if c and c.title:
        fields.append(
            (
                "booktitle"
                if kind in ("incollection", "inproceedings")
                else "journal"
                if kind == "article"
                else "series",
                c.title,
            )
        )
    if c and c.volume:
        fields.append(("volume", c.volume))
    if c and c.issue:
        fields.append(("number", c.issue))
    if pages := _pages(record):
        fields.append(("pages", re.sub(r"\s*[-–—]+\s*", "--", pages)))
    if record.publisher:
        fields.append(("publisher", record.publisher))
    if record.dissertation and record.dissertation.degree:
        fields.append(("type", record.dissertation.degree))
    if record.institution:
        fields.append(
            (
                "school"
                if kind in ("phdthesis", "mastersthesis")
                else "institution"
                if kind == "techreport"
                else "organization",
                record.institution,
            )
        )
    ids = record.identifiers
    if ids.doi:
        fields.append(("doi", ids.doi[0]))
    if ids.isbn:
        fields.append(("isbn", ids.isbn[0]))
    if ids.issn:
        fields.append(("issn", ids.issn[0]))
    if record.type == RecordType.patent:
        fields.append(("howpublished", "Patent " + ", ".join(ids.patent) if ids.patent else "Patent"))
    if record.languages:
        fields.append(("language", ", ".join(record.languages)))
    if record.subjects:
        fields.append(("keywords", ", ".join(record.subjects)))
    url = _best_url(record)
    if url:
        fields.append(("url", url))
    if record.abstract:
        fields.append(("abstract", record.abstract[0].value))
    body = ",\n".join(f"  {name} = {{{_bibtex_value(name, value)}}}" for name, value in fields)
    return f"@{kind}{{{key or bibtex_key(record)},\n{body}\n}}\n"


class _Escaped(str):
    """A BibTeX value escaped already (name lists, whose protective braces must stay)."""


def _bibtex_value(name: str, value: str) -> str:
    if isinstance(value, _Escaped):
        return value
    if name == "url":
        # URLs stay literal for the url package; only the characters that break the field go.
        return _clean(value).replace("\\", "%5C").replace("{", "%7B").replace("}", "%7D")
    return bibtex_escape(value)


def _bibtex_name(p: Person) -> str:
    n = split_name(p)
    if n.family:
        family = bibtex_escape(n.family)
        return f"{family}, {bibtex_escape(n.given)}" if n.given else family
    # A name we can't split (an organization, often) is braced so BibTeX keeps it whole.
    return "{" + bibtex_escape(n.literal) + "}"


def to_bibtex(records: Iterable[Record]) -> str:
    seen: dict[str, int] = {}
    out = []
    for r in records:
        key = bibtex_key(r)
        n = seen.get(key, 0)
        seen[key] = n + 1
        if n:  # the same key twice in one file: aitmatov2019ekologiia, ...b, ...c
            key = f"{key}{_suffix(n)}"
        out.append(bibtex_entry(r, key))
    return "\n".join(out)


def _suffix(n: int) -> str:
    s = ""
    while n:
        n, rem = divmod(n, 26)
        s = "abcdefghijklmnopqrstuvwxyz"[rem] + s
    return s


# --- RIS -----------------------------------------------------------------------------------------

RIS_TYPES = {
    RecordType.article: "JOUR",
    RecordType.book: "BOOK",
    RecordType.chapter: "CHAP",
    RecordType.thesis: "THES",
    RecordType.dissertation: "THES",
    RecordType.patent: "PAT",
    RecordType.dataset: "DATA",
    RecordType.report: "RPRT",
    RecordType.conference_paper: "CPAPER",
    RecordType.project: "GEN",
    RecordType.other: "GEN",
}


def ris_entry(record: Record) -> str:
    lines: list[tuple[str, str]] = [
        ("TY", RIS_TYPES.get(record.type, "GEN")),
        ("ID", record.id),
        ("TI", record.main_title),
    ]
    for t in record.title_alt:
        lines.append(("TT", t.value))
    for p in record.authors:
        n = split_name(p)
        lines.append(("AU", f"{n.family}, {n.given}" if n.family and n.given else n.family or n.literal))
    for p in record.contributors:
        lines.append(("A2" if (p.role or "").lower() in ("editor", "supervisor") else "A4", p.name))
    if record.year:
        lines.append(("PY", str(record.year)))
    if record.date:
        lines.append(("DA", record.date.replace("-", "/")))
    c = record.container
    if c and c.title:
        lines.append(("T2", c.title))
    if c and c.volume:
        lines.append(("VL", c.volume))
    if c and c.issue:
        lines.append(("IS", c.issue))
    if pages := _pages(record):
        first, _, last = pages.replace("–", "-").partition("-")
        lines.append(("SP", first.strip()))
        if last.strip("- "):
            lines.append(("EP", last.strip("- ")))
    if record.publisher:
        lines.append(("PB", record.publisher))
    if record.institution:
        lines.append(("PB" if not record.publisher else "AD", record.institution))
    ids = record.identifiers
    for v in ids.doi:
        lines.append(("DO", v))
    for v in ids.isbn + ids.issn:
        lines.append(("SN", v))
    for v in ids.patent:
        lines.append(("M1", v))
    if record.dissertation and record.dissertation.degree:
        lines.append(("M3", record.dissertation.degree))
    for lang in record.languages:
        lines.append(("LA", lang))
    for s in record.subjects:
        lines.append(("KW", s))
    for a in record.abstract[:1]:
        lines.append(("AB", a.value))
    for link in record.links or [lk for h in record.holdings for lk in h.links]:
        lines.append(("L1" if link.kind == "fulltext" else "UR", link.url))
    if not record.links and record.source_url:
        lines.append(("UR", record.source_url))
    # RIS is line-based: a value is one line, however the partner wrapped it.
    out = [f"{tag}  - {_clean(value)}" for tag, value in lines if _clean(value)]
    out.append("ER  - ")
    return "\r\n".join(out) + "\r\n"


def to_ris(records: Iterable[Record]) -> str:
    return "\r\n".join(ris_entry(r) for r in records)


# --- CSL-JSON ------------------------------------------------------------------------------------

CSL_TYPES = {
    RecordType.article: "article-journal",
    RecordType.book: "book",
    RecordType.chapter: "chapter",
    RecordType.thesis: "thesis",
    RecordType.dissertation: "thesis",
    RecordType.patent: "patent",
    RecordType.dataset: "dataset",
    RecordType.report: "report",
    RecordType.conference_paper: "paper-conference",
    RecordType.project: "document",
    RecordType.other: "document",
}


def csl_item(record: Record) -> dict:
    item: dict = {"id": record.id, "type": CSL_TYPES.get(record.type, "document"), "title": record.main_title}
    authors = []
    for p in record.authors:
        n = split_name(p)
        authors.append(
            {"family": n.family, **({"given": n.given} if n.given else {})} if n.family else {"literal": n.literal}
        )
    if authors:
        item["author"] = authors
    if record.year:
        item["issued"] = {"date-parts": [[record.year]]}
    c = record.container
    if c and c.title:
        item["container-title"] = c.title
    if c and c.volume:
        item["volume"] = c.volume
    if c and c.issue:
        item["issue"] = c.issue
    if pages := _pages(record):
        item["page"] = pages
    if record.publisher or record.institution:
        item["publisher"] = record.publisher or record.institution
    if record.type == RecordType.dissertation:
        item["genre"] = (
            record.dissertation.degree if record.dissertation and record.dissertation.degree else "dissertation"
        )
    if record.dissertation and record.dissertation.defence_date:
        item["issued"] = {"date-parts": [[int(p) for p in record.dissertation.defence_date.split("-")]]}
    ids = record.identifiers
    if ids.doi:
        item["DOI"] = ids.doi[0]
    if ids.isbn:
        item["ISBN"] = ids.isbn[0]
    if ids.issn:
        item["ISSN"] = ids.issn[0]
    if ids.patent:
        item["number"] = ids.patent[0]
    if record.languages:
        item["language"] = record.languages[0]
    if record.subjects:
        item["keyword"] = ", ".join(record.subjects)
    if record.abstract:
        item["abstract"] = record.abstract[0].value
    if url := _best_url(record):
        item["URL"] = url
    return item


def to_csl_json(records: Iterable[Record]) -> str:
    return json.dumps([csl_item(r) for r in records], ensure_ascii=False, indent=2) + "\n"


def render(fmt: str, records: Sequence[Record]) -> str:
    if fmt == "bibtex":
        return to_bibtex(records)
    if fmt == "ris":
        return to_ris(records)
    if fmt == "csl":
        return to_csl_json(records)
    raise ValueError(f"unknown export format {fmt!r}; valid: {', '.join(FORMATS)}")
