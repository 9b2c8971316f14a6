"""Formatted references of a record as plain text: GOST-like (Russian/Kyrgyz bibliographies) and APA.

The HTML layer escapes them like any other text.
"""

from __future__ import annotations

from fedsearch import analysis
from fedsearch.record import Record, RecordType
from search_api.citation_text import best_url as _best_url
from search_api.citation_text import clean as _clean
from search_api.citation_text import initials, split_name


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
