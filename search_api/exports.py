"""Citation exports of records: BibTeX, RIS, CSL-JSON, and formatted references (GOST-like, APA).

Harvested metadata is untrusted text: each format escapes it for its own syntax
(BibTeX special characters, RIS line structure). Formatted references are plain
text; the HTML layer escapes them like any other text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from fedsearch import analysis
from fedsearch.record import Person, Record, RecordType

FORMATS: dict[str, tuple[str, str]] = {
    # name -> (media type, file extension)
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl": ("application/vnd.citationstyles.csl+json; charset=utf-8", "json"),
}

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WS_RE = re.compile(r"\s+")


def _clean(text: str | None) -> str:
    """One line of text: control characters gone, whitespace collapsed."""
    if not text:
        return ""
    return _WS_RE.sub(" ", _CONTROL_RE.sub("", text)).strip()


# --- names ---------------------------------------------------------------------------------------


@dataclass
class Name:
    family: str | None
    given: str | None
    literal: str


# Kyrgyz (and Kazakh, Turkic) patronymic forms: "Канат Шаршен уулу" is Канат, son of Шаршен. There is no
# family name to invert or abbreviate, so citations keep the name whole, in its natural order.
_PATRONYMIC_WORD = re.compile(r"(?:^|\s)(?:уулу|кызы|улы|қызы|uulu|kyzy|uly|kyzi)(?:\s|$)", re.I)


def split_name(p: Person) -> Name:
    """Family and given names: from the record if known, else from 'Family, Given'."""
    literal = _clean(p.name)
    if _PATRONYMIC_WORD.search(literal.replace(",", " ")):
        family, comma, given = literal.partition(",")
        if comma and _PATRONYMIC_WORD.search(family) and given.strip():
            literal = f"{given.strip()} {family.strip()}"  # "Шаршен уулу, Канат" -> "Канат Шаршен уулу"
        return Name(None, None, literal)
    if p.family:
        return Name(_clean(p.family), _clean(p.given) or None, literal)
    if "," in literal:
        family, _, given = literal.partition(",")
        return Name(family.strip() or None, given.strip() or None, literal)
    return Name(None, None, literal)


def initials(given: str | None) -> str:
    """'Чингиз Торекулович' -> 'Ч. Т.'; 'Т.' stays 'Т.'; hyphenated names keep the hyphen."""
    if not given:
        return ""
    out = []
    for part in re.split(r"\s+", given.strip()):
        pieces = [p for p in re.split(r"(-)", part) if p]
        out.append("".join(p if p == "-" else (p[0] + ".") for p in pieces if p.strip(".")))
    return " ".join(x for x in out if x)


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


def _best_url(record: Record) -> str | None:
    links = record.links or [lk for h in record.holdings for lk in h.links]
    for kind in ("fulltext", "landing", "other"):
        for link in links:
            if link.kind == kind:
                return link.url
    if record.identifiers.doi:
        return f"https://doi.org/{record.identifiers.doi[0]}"
    return record.source_url


# --- formatted references ---------------------------------------------------------------------


def _is_cyrillic_record(record: Record) -> bool:
    return analysis.is_cyrillic(record.main_title)


def reference_apa(record: Record) -> str:
    """An APA 7-like reference, as plain text."""
    names = []
    for p in record.authors:
        n = split_name(p)
        names.append(f"{n.family}, {initials(n.given)}".rstrip(", ") if n.family else n.literal)
    if len(names) > 1:
        who = ", ".join(names[:-1]) + ", & " + names[-1]
    else:
        who = names[0] if names else ""
    year = f"({record.year})" if record.year else "(n.d.)"
    title = _clean(record.main_title).rstrip(".")
    parts = [f"{who} {year}." if who else "", f"{title}." if who else f"{title}. {year}."]
    c = record.container
    if c and c.title:
        src = _clean(c.title)
        if c.volume:
            src += f", {c.volume}"
            if c.issue:
                src += f"({c.issue})"
        if c.pages:
            src += f", {_clean(c.pages)}"
        parts.append(src + ".")
    elif record.type in (RecordType.dissertation, RecordType.thesis) and record.institution:
        kind = "Doctoral dissertation" if record.type == RecordType.dissertation else "Thesis"
        parts.append(f"[{kind}, {_clean(record.institution)}].")
    elif record.publisher or record.institution:
        parts.append(_clean(record.publisher or record.institution) + ".")
    if record.type == RecordType.patent and record.identifiers.patent:
        parts.append(f"Patent {record.identifiers.patent[0]}.")
    if record.identifiers.doi:
        parts.append(f"https://doi.org/{record.identifiers.doi[0]}")
    elif url := _best_url(record):
        parts.append(url)
    return " ".join(p for p in parts if p).strip()


def degree_genitive(degree: str) -> str:
    """'кандидат технических наук' -> 'кандидата технических наук' (as "степени …" needs); others as given."""
    first, _, rest = degree.partition(" ")
    if first.lower() in ("кандидат", "доктор") and rest:
        return f"{first}а {rest}"
    return degree


def _gost_dissertation(record: Record, cyr: bool) -> str:
    """ " : специальность 05.13.01 «…» : диссертация на соискание ученой степени кандидата технических наук"."""
    d = record.dissertation
    out = ""
    if d and d.specialty:
        out += (" : специальность " if cyr else " : specialty ") + _clean(d.specialty)
        if d.specialty_name:
            out += f" «{_clean(d.specialty_name)}»" if cyr else f' "{_clean(d.specialty_name)}"'
    if cyr:
        out += " : диссертация" + (
            f" на соискание ученой степени {degree_genitive(_clean(d.degree))}" if d and d.degree else ""
        )
    else:
        out += " : dissertation" + (f" for the degree of {_clean(d.degree)}" if d and d.degree else "")
    return out


def reference_gost(record: Record) -> str:
    """A GOST R 7.0.100-2018-like reference, as plain text (Russian conventions for Cyrillic records)."""
    cyr = _is_cyrillic_record(record)
    first = ""
    if record.authors:
        n = split_name(record.authors[0])
        first = f"{n.family} {initials(n.given)}".strip() if n.family else n.literal
    title = _clean(record.main_title).rstrip(".")
    s = f"{first} {title}" if first else title
    diss = record.dissertation if record.type == RecordType.dissertation else None
    if record.type == RecordType.dissertation:
        s += _gost_dissertation(record, cyr)
    elif record.type == RecordType.patent:
        s += " : патент" if cyr else " : patent"
    if diss is not None and record.authors:
        # GOST R 7.0.100-2018 §5.4: the author's full name, then the institution, after " / ".
        s += " / " + ", ".join(_clean(p.name) for p in record.authors[:4])
        if record.institution:
            s += " ; " + _clean(record.institution)
    elif len(record.authors) > 1:
        others = []
        for p in record.authors[:4]:
            n = split_name(p)
            others.append(f"{initials(n.given)} {n.family}".strip() if n.family else n.literal)
        s += " / " + ", ".join(others)
    c = record.container
    pieces = [s]
    if c and c.title:
        pieces[0] += f" // {_clean(c.title)}"
        if record.year:
            pieces.append(str(record.year))
        if c.volume:
            pieces.append(
                ("Т. " if cyr else "Vol. ")
                + _clean(c.volume)
                + ((", № " if cyr else ", no. ") + _clean(c.issue) if c.issue else "")
            )
        elif c.issue:
            pieces.append(("№ " if cyr else "No. ") + _clean(c.issue))
        if c.pages:
            pieces.append(("С. " if cyr else "P. ") + _clean(c.pages))
    else:
        where = _clean(record.publisher or (record.institution if diss is None else None))
        pieces.append(", ".join(x for x in (where, str(record.year) if record.year else "") if x))
    if record.identifiers.patent:
        pieces.append(("№ " if cyr else "No. ") + record.identifiers.patent[0])
    if record.identifiers.isbn:
        pieces.append("ISBN " + record.identifiers.isbn[0])
    if record.identifiers.doi:
        pieces.append("DOI: " + record.identifiers.doi[0])
    elif url := _best_url(record):
        pieces.append(("URL: " if cyr else "URL: ") + url)
    return ". – ".join(p for p in pieces if p).rstrip(".") + "."
