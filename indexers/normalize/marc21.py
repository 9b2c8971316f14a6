"""MARC 21 bibliographic record -> Draft (docs/normalization.md has the field table)."""

from __future__ import annotations

import re

from fedsearch.record import RecordType
from indexers import vocab
from indexers.normalize.draft import Draft
from indexers.normalize.marc import DataField, MarcRecord
from indexers.normalize.people import parse_person
from indexers.normalize.text import strip_isbd

_SUBJECT_TAGS = ("600", "610", "611", "630", "648", "650", "651", "653")
_CODE_2 = {"doi": "doi", "hdl": "handle", "handle": "handle", "urn": "urn", "isbn": "isbn", "issn": "issn"}


def read(draft: Draft, rec: MarcRecord) -> None:
    _title(draft, rec)
    _people(draft, rec)
    _dates(draft, rec)
    _identifiers(draft, rec)
    _languages(draft, rec)
    _classifications(draft, rec)
    _subjects(draft, rec)
    for f in rec.get_fields("520"):
        draft.add_abstract(" ".join(f.get_all("a", "b")))
    for f in rec.get_fields("260", "264"):
        if f.tag == "264" and f.ind2 not in ("1", " "):
            continue
        draft.publisher = draft.publisher or strip_isbd(f.get("b"))
    _container(draft, rec)
    for f in rec.get_fields("856"):
        kind = "fulltext" if f.ind2 in ("0", "1") and _looks_fulltext(f) else ("other" if f.ind2 == "2" else "landing")
        for url in f.get_all("u"):
            draft.add_link(url, kind, f.get("q"))
    for f in rec.get_fields("502"):
        draft.add_dissertation_note(" ".join(f.get_all("a", "b")))
    for f in rec.get_fields("506"):
        draft.rights.append(" ".join(f.get_all("a", "f")))
    for f in rec.get_fields("540"):
        draft.rights.append(" ".join(f.get_all("a", "u")))
    draft.type = _type(rec, draft)


def _looks_fulltext(f: DataField) -> bool:
    label = " ".join(f.get_all("3", "y", "z", "q")).lower()
    if re.search(
        r"cover|обложк|оглавлен|table of contents|contents|реферат|abstract|thumbnail|catalog record|каталог", label
    ):
        return False
    return True


def _title(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("245"):
        draft.add_title(join_title(f.get_all("a"), f.get_all("b"), f.get_all("n", "p")))
        break
    for f in rec.get_fields("242"):
        draft.add_title(join_title(f.get_all("a"), f.get_all("b"), f.get_all("n", "p")), f.get("y"), alt=True)
    for f in rec.get_fields("246", "240", "130"):
        draft.add_title(join_title(f.get_all("a"), f.get_all("b"), f.get_all("n", "p")), alt=True)


def join_title(main: list[str], sub: list[str], parts: list[str]) -> str | None:
    """'Title', 'subtitle', ['Part 2'] -> 'Title : subtitle. Part 2' (ISBD-style, punctuation cleaned)."""
    head = " ".join(filter(None, (strip_isbd(v) for v in main)))
    if not head:
        return None
    out = head
    for s in filter(None, (strip_isbd(v) for v in sub)):
        out += f" : {s}"
    for p in filter(None, (strip_isbd(v) for v in parts)):
        out += f". {p}"
    return out


def person_from(f: DataField, name_codes: str = "abcq") -> tuple[str | None, str | None]:
    name = " ".join(strip_isbd(v) or "" for c, v in f.subfields if c in name_codes).strip()
    relators = f.get_all("4") + f.get_all("e")
    return (name or None), (vocab.role(relators[0]) if relators else None)


def _people(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("100", "110", "111", "700", "710", "711", "720"):
        name, role = person_from(f, "abcq" if f.tag in ("100", "700", "720") else "abcdn")
        if not name:
            continue
        person = parse_person(name, orcid=_orcid(f), affiliation=strip_isbd(f.get("u")), role=role)
        if person and f.tag[1:] in ("10", "11"):
            person = person.model_copy(update={"family": None, "given": None})  # a body, not a person
        draft.add_person(person)


def _orcid(f: DataField) -> str | None:
    for v in f.get_all("0", "1"):
        if "orcid" in v.lower():
            return v
    return None


def _dates(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("264", "260"):
        if f.tag == "264" and f.ind2 not in ("1", " "):
            continue
        for c in f.get_all("c"):
            draft.add_date(c)
        if draft.dates:
            return
    f008 = rec.control_value("008") or ""
    if len(f008) >= 11 and re.fullmatch(r"\d{3}[\du]", f008[7:11]):
        d1 = f008[7:11].replace("u", "-")
        d2 = f008[11:15] if len(f008) >= 15 else ""
        if f008[6] in "mikq" and re.fullmatch(r"\d{4}", d2) and d2 != "9999" and d2 > d1:
            draft.add_date(f"{d1}-{d2}")
        else:
            draft.add_date(d1 if "-" not in d1 else d1.rstrip("-") + "-?")


def _identifiers(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("020"):
        for v in f.get_all("a"):
            draft.add_identifier("isbn", v.split(" ")[0])
    for f in rec.get_fields("022"):
        draft.add_identifier("issn", f.get("a"))
    for f in rec.get_fields("024"):
        code = (f.get("2") or "").lower()
        kind = _CODE_2.get(code) if f.ind1 == "7" else {"0": "other", "2": "other", "3": "other"}.get(f.ind1)
        if f.ind1 == "7" and kind is None:
            kind = "other"
        if kind:
            draft.add_identifier(kind, f.get("a"))
    for f in rec.get_fields("013"):
        number = " ".join(filter(None, (f.get("b"), f.get("a"))))
        draft.add_identifier("patent", number)


def _languages(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("041"):
        draft.languages.extend(f.get_all("a"))
    if not draft.languages:
        f008 = rec.control_value("008") or ""
        # 008 must be intact (40 characters): some exports collapse its spaces and shift it.
        if len(f008) == 40 and f008[35:38].strip(" |"):
            draft.languages.append(f008[35:38])


def _classifications(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("080"):
        draft.add_classification("udc", " ".join(f.get_all("a", "b")))
    for f in rec.get_fields("082"):
        draft.add_classification("ddc", f.get("a"))
    for f in rec.get_fields("050"):
        draft.add_classification("lcc", " ".join(f.get_all("a", "b")))
    for f in rec.get_fields("084"):
        scheme = vocab.classification_scheme(f.get("2"))
        for code in f.get_all("a"):
            draft.add_classification(scheme, code)


def _subjects(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields(*_SUBJECT_TAGS):
        if f.tag == "653":
            for v in f.get_all("a"):
                draft.add_subject(strip_isbd(v))
            continue
        head = " ".join(strip_isbd(v) or "" for c, v in f.subfields if c in "abcdtq").strip()
        subdivisions = [strip_isbd(v) for c, v in f.subfields if c in "vxyz"]
        draft.add_subject(" -- ".join(filter(None, [head, *subdivisions])))
    for f in rec.get_fields("655"):
        draft.type_terms.append(f.get("a") or "")


def _container(draft: Draft, rec: MarcRecord) -> None:
    for f in rec.get_fields("773"):
        draft.set_container(title=strip_isbd(f.get("t") or f.get("p")))
        g = " ".join(f.get_all("g"))
        draft.set_container_from_citation(g)
        if f.get("x"):
            draft.add_identifier("issn", f.get("x"))
        return
    for f in rec.get_fields("490", "830", "440"):
        draft.set_container(title=strip_isbd(f.get("a")), volume=strip_isbd(f.get("v")))
        return


def _type(rec: MarcRecord, draft: Draft) -> RecordType | None:
    """leader/06-07 and 008 decide; a 502 note makes a thesis; genre terms (655) refine."""
    leader = rec.leader.ljust(24)
    f008 = rec.control_value("008") or ""
    for f in rec.get_fields("502"):
        return vocab.degree_type(" ".join(v for _, v in f.subfields))
    for term in draft.type_terms:
        t = vocab.record_type(term)
        if t and t is not RecordType.other:
            return t
    rtype = vocab.MARC21_RECORD_TYPES.get(leader[6])
    if leader[6] == "m" and len(f008) == 40 and f008[26] == "a":
        return RecordType.dataset
    if rtype is not None:
        return rtype
    if leader[6] not in ("a", "t"):
        return None
    if len(f008) == 40:
        for code in f008[24:28]:
            if code in vocab.MARC21_CONTENTS:
                t = vocab.MARC21_CONTENTS[code]
                return RecordType.dissertation if t is RecordType.thesis and _russian_dissertation(rec) else t
        if f008[29] == "1" and leader[7] in ("a", "b"):
            return RecordType.conference_paper
    return vocab.MARC21_LEVELS.get(leader[7])


def _russian_dissertation(rec: MarcRecord) -> bool:
    text = " ".join(v for f in rec.get_fields("245", "500") for _, v in f.subfields).lower()
    return "дис" in text
