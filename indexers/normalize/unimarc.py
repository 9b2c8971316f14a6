"""UNIMARC / RUSMARC (IRBIS exports) bibliographic record -> Draft.

Field map (docs/normalization.md): 200 title, 517/510/532/541 other titles,
700/701 authors, 702 other people, 710-712 bodies, 210/214 publication,
100$a/9-16 dates, 101 language, 010 ISBN, 011 ISSN, 017/014 other ids,
675 UDC, 686 other class (GRNTI unless $2 says otherwise), 606/610/600/601/607
subjects, 330 abstract, 328 dissertation note, 461/463 host, 225 series, 856 links.
"""

from __future__ import annotations

import re

from fedsearch.record import RecordType
from indexers import vocab
from indexers.normalize.draft import Draft
from indexers.normalize.marc import DataField, MarcRecord
from indexers.normalize.marc21 import join_title
from indexers.normalize.people import parse_person
from indexers.normalize.text import strip_isbd


def read(draft: Draft, rec: MarcRecord) -> None:
    _titles(draft, rec)
    _people(draft, rec)
    _dates(draft, rec)
    for f in rec.get_fields("101"):
        draft.languages.extend(f.get_all("a"))
    for f in rec.get_fields("010"):
        for v in f.get_all("a"):
            draft.add_identifier("isbn", v)
    for f in rec.get_fields("011"):
        for v in f.get_all("a"):
            draft.add_identifier("issn", v)
    for f in rec.get_fields("017", "014"):
        code = (f.get("2") or "").lower()
        draft.add_identifier({"doi": "doi", "hdl": "handle", "urn": "urn"}.get(code, "other"), f.get("a"))
    for f in rec.get_fields("675"):
        draft.add_classification("udc", f.get("a"))
    for f in rec.get_fields("686"):
        draft.add_classification(vocab.classification_scheme(f.get("2"), default="grnti"), f.get("a"))
    for f in rec.get_fields("689"):  # RUSMARC: dissertation specialty (ВАК) codes in some IRBIS bases
        draft.add_classification("vak", f.get("a"))
    _subjects(draft, rec)
    for f in rec.get_fields("330"):
        draft.add_abstract(f.get("a"))
    for f in rec.get_fields("210", "214"):
        draft.publisher = draft.publisher or strip_isbd(f.get("c"))
    _host(draft, rec)
    for f in rec.get_fields("856"):
        for url in f.get_all("u"):
            draft.add_link(url, "fulltext" if f.ind2 in ("0", "1") else "landing", f.get("q"))
    for f in rec.get_fields("328"):
        draft.institution = draft.institution or strip_isbd(f.get("e"))
        draft.add_dissertation_note(" ".join(f.get_all("a", "b", "c")))
    draft.type = _type(rec)


def _titles(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("200"):
        draft.add_title(join_title(f.get_all("a")[:1], f.get_all("e"), f.get_all("h", "i")))
        for extra in f.get_all("a")[1:]:  # more works by the same author in one item
            draft.add_title(strip_isbd(extra), alt=True)
        parallel, langs = f.get_all("d"), f.get_all("z")
        for i, p in enumerate(parallel):
            draft.add_title(strip_isbd(p.lstrip("= ")), langs[i] if i < len(langs) else None, alt=True)
        break
    for f in rec.get_fields("510", "517", "532", "541"):
        draft.add_title(join_title(f.get_all("a"), f.get_all("e"), f.get_all("h", "i")), f.get("z"), alt=True)


def _name(f: DataField) -> str | None:
    family = strip_isbd(f.get("a"))
    given = strip_isbd(f.get("g")) or strip_isbd(f.get("b"))
    if not family:
        return None
    return f"{family}, {given}" if given else family


def _people(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("700", "701", "702"):
        name = _name(f)
        if not name:
            continue
        relator = f.get("4")
        role = vocab.role(relator) if relator else (None if f.tag != "702" else "contributor")
        person = parse_person(name, role=role, affiliation=strip_isbd(f.get("p")))
        draft.add_person(person)
    for f in rec.get_fields("710", "711", "712"):
        name = " ".join(filter(None, (strip_isbd(v) for v in f.get_all("a", "b"))))
        if name:
            role = None if f.tag != "712" else "contributor"
            person = parse_person(name, role=role)
            if person:
                draft.add_person(person.model_copy(update={"family": None, "given": None}))


def _dates(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("210", "214"):
        for d in f.get_all("d"):
            draft.add_date(d)
    if draft.dates:
        return
    f100 = rec.first("100", "a") or ""
    if len(f100) >= 17:
        kind, d1, d2 = f100[8], f100[9:13], f100[13:17]
        if re.fullmatch(r"\d{4}", d1):
            if kind in "fgi" and re.fullmatch(r"\d{4}", d2) and d2 not in ("9999",) and d2 > d1:
                draft.add_date(f"{d1}-{d2}")
            else:
                draft.add_date(d1)
        elif re.fullmatch(r"\d{3}[ u?]", d1):
            draft.add_date(d1[:3] + "-?")


def _subjects(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("606", "607", "600", "601", "605"):
        head = " ".join(
            filter(None, (strip_isbd(v) for c, v in f.subfields if c in "abcdg" and f.tag in ("600", "601")))
        )
        if f.tag not in ("600", "601"):
            head = strip_isbd(f.get("a")) or ""
        subdivisions = [strip_isbd(v) for c, v in f.subfields if c in "xyzj"]
        draft.add_subject(" -- ".join(filter(None, [head, *subdivisions])))
    for f in rec.get_fields("610"):
        for v in f.get_all("a"):
            draft.add_subject(strip_isbd(v))


def _host(draft: Draft, rec: MarcRecord) -> None:
    """461/463 (host item, embedded fields or $t) and 225 (series)."""
    for f in rec.get_fields("463", "461"):
        title = strip_isbd(f.get("t"))
        current = None
        for code, value in f.subfields:
            if code == "1":
                current = value[:3]
            elif code == "a" and current == "200" and not title:
                title = strip_isbd(value)
            elif code == "a" and current == "011":
                draft.add_identifier("issn", value)
            elif code == "v" and f.tag == "463":
                draft.set_container_from_citation(value)
        if title:
            draft.set_container(title=title)
        if f.get("v"):
            draft.set_container_from_citation(f.get("v") or "")
        if draft.container.get("title"):
            return
    for f in rec.get_fields("225"):
        draft.set_container(title=strip_isbd(f.get("a")), volume=strip_isbd(f.get("v")))
        return


def _type(rec: MarcRecord) -> RecordType | None:
    leader = rec.leader.ljust(24)
    if rec.has("328"):
        note = " ".join(v for f in rec.get_fields("328") for _, v in f.subfields)
        return vocab.degree_type(note)
    f105 = rec.first("105", "a") or ""
    for code in f105[4:8]:
        if code in vocab.UNIMARC_CONTENTS:
            return vocab.UNIMARC_CONTENTS[code]
    rtype = vocab.UNIMARC_RECORD_TYPES.get(leader[6])
    if rtype is not None:
        return rtype
    if leader[6] not in ("a", "b", "l"):
        return None
    if leader[7] == "a":
        # An analytic whose host has an ISBN is a chapter; otherwise a journal article.
        for f in rec.get_fields("463", "461"):
            if any(v.startswith("010") for c, v in f.subfields if c == "1"):
                return RecordType.chapter
        return RecordType.article
    return vocab.UNIMARC_LEVELS.get(leader[7])
