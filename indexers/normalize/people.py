"""Names of people as partners write them -> Person with name parts.

"Family, Given" is split at the comma. Without a comma:
- initials first ("И.И. Иванов", "J. Smith") -> family is the last word;
- initials last ("Иванов И.И.", "Smith JA", "ИВАНКОВ П.Л.") -> family is the first word;
- Cyrillic full names ("Айтматов Чингиз Торекулович") -> family first, as Russian
  and Kyrgyz catalogues write them;
- Latin full names ("John Smith") -> family last.
The name as given is kept in `name`; parts are never re-cased.
"""

from __future__ import annotations

import re

from fedsearch.analysis import is_cyrillic
from fedsearch.record import Person
from indexers.normalize import identifiers

_ET_AL = re.compile(r",?\s*(?:et\s+al\.?|и\s+др\.?|ж\.\s*б\.)\s*$", re.I)
# Degrees after a comma ("Art King, Ph.D."); "Altmann, DR" is initials, so the dot is required.
_DEGREE = re.compile(r",\s*(?:Ph\.?\s?D\.?|PhD|M\.D\.|Prof\.|Dr\.|[дк]\.\s?[а-я]+\.\s?н\.)\s*$")
# Life dates catalogued into the name itself: "Utagawa, Hiroshige, 1826?-1869."
_LIFE_DATES = re.compile(r",\s*(?:ca\.\s*|b\.\s*|d\.\s*)?\d{3,4}\??\s*-\s*(?:\d{3,4}\??)?\.?$")
_INITIALS = re.compile(r"^(?:[^\W\d_]{1,2}\.\s*-?\s*){1,3}$|^[A-ZА-ЯЁӨҮҢ]{1,3}$", re.U)
_PATRONYMIC = re.compile(r"(вич|вна|ична|инична|овна|евна|оглы|улы|уулу|кызы|қызы)$", re.I)
_MAX_NAME = 500


def _is_initials(word: str) -> bool:
    return bool(_INITIALS.match(word.strip()))


def parse_person(
    text: str, *, orcid: str | None = None, affiliation: str | None = None, role: str | None = None
) -> Person | None:
    """A Person for one name statement, or None if nothing is left of it."""
    name = " ".join((text or "").split()).strip(",;")  # whitespace runs -> one space, as re's \s
    name = _ET_AL.sub("", name)
    name = _DEGREE.sub("", name).strip(" ,;")
    name = _LIFE_DATES.sub("", name).strip(" ,;")
    if not name:
        return None
    name = name[:_MAX_NAME]
    family = given = None
    if "," in name:
        fam, _, rest = name.partition(",")
        family, given = fam.strip() or None, rest.strip() or None
        if given and _looks_like_dates(given):
            given = None
    else:
        words = name.split(" ")
        if len(words) == 1:
            family = words[0]
        elif _is_initials(" ".join(words[:-1])) and not _is_initials(words[-1]):
            given, family = " ".join(words[:-1]), words[-1]
        elif _is_initials(" ".join(words[1:])) or is_cyrillic(name) or _PATRONYMIC.search(words[-1]):
            family, given = words[0], " ".join(words[1:])
        else:
            given, family = " ".join(words[:-1]), words[-1]
    return Person(
        name=name,
        family=family,
        given=given,
        orcid=identifiers.orcid(orcid) if orcid else None,
        affiliation=affiliation or None,
        role=role,
    )


def _looks_like_dates(value: str) -> bool:
    return bool(re.fullmatch(r"[\d\s\-–?.]+", value))


def split_names(text: str) -> list[str]:
    """One field holding several people: 'A, B; C' or 'Hassan, M., Song, G.' stays careful.

    Semicolons always separate. Commas separate only a list of three or more
    full names ("M. Arshad Hassan, Guobing Song, Xiaoning Kang"): one comma is
    the inverted form "Ayala Valenzuela, Ricardo Alexis".
    """
    parts = [p.strip() for p in re.split(r"\s*;\s*|\s+\|\s+", text) if p.strip()]
    out: list[str] = []
    for part in parts:
        pieces = [p.strip() for p in part.split(",")]
        if len(pieces) >= 3 and all(len(p.split()) >= 2 for p in pieces) and not any(_is_initials(p) for p in pieces):
            out.extend(pieces)
        else:
            out.append(part)
    return out
