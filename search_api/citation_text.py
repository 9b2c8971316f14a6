"""What every citation format shares: one-line text, names split into family and given, initials, a record's best link."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fedsearch.record import Person, Record

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WS_RE = re.compile(r"\s+")


def clean(text: str | None) -> str:
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
    literal = clean(p.name)
    if _PATRONYMIC_WORD.search(literal.replace(",", " ")):
        family, comma, given = literal.partition(",")
        if comma and _PATRONYMIC_WORD.search(family) and given.strip():
            literal = f"{given.strip()} {family.strip()}"  # "Шаршен уулу, Канат" -> "Канат Шаршен уулу"
        return Name(None, None, literal)
    if p.family:
        return Name(clean(p.family), clean(p.given) or None, literal)
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


def best_url(record: Record) -> str | None:
    links = record.links or [lk for h in record.holdings for lk in h.links]
    for kind in ("fulltext", "landing", "other"):
        for link in links:
            if link.kind == kind:
                return link.url
    if record.identifiers.doi:
        return f"https://doi.org/{record.identifiers.doi[0]}"
    return record.source_url
