"""DataCite metadata kernel (3 and 4) `<resource>`, bare or inside OAI (datacite, oai_datacite) -> Draft."""

from __future__ import annotations

from fedsearch.record import RecordType
from indexers import vocab
from indexers.normalize.draft import Draft
from indexers.normalize.errors import NormalizationError
from indexers.normalize.people import parse_person
from indexers.normalize.xml import XML_LANG, child, children, find_first, parse_xml, text_of

_ID_KINDS = {"doi": "doi", "isbn": "isbn", "issn": "issn", "eissn": "issn", "handle": "handle", "urn": "urn"}
_CONTRIBUTOR_ROLES = {
    "supervisor": "supervisor",
    "editor": "editor",
    "projectleader": "project leader",
    "researcher": "contributor",
    "contactperson": "contact",
    "datacurator": "data curator",
}


def read(draft: Draft, payload: bytes) -> None:
    root = parse_xml(payload)
    res = find_first(root, "resource")
    if res is None:
        raise NormalizationError("no DataCite <resource> element in the payload")

    ident = child(res, "identifier")
    if ident is not None:
        kind = _ID_KINDS.get((ident.get("identifierType") or "").lower(), "other")
        draft.add_identifier(kind, text_of(ident))
    for alt in _items(res, "alternateIdentifiers", "alternateIdentifier"):
        kind = (alt.get("alternateIdentifierType") or "").lower()
        if kind == "oai":
            continue
        if kind == "url":
            draft.add_link(text_of(alt), "landing")
        else:
            draft.add_identifier(_ID_KINDS.get(kind, "other"), text_of(alt))

    for t in _items(res, "titles", "title"):
        ttype = (t.get("titleType") or "").lower()
        if ttype == "subtitle" and draft.titles:
            main, lang = draft.titles[0]
            draft.titles[0] = (f"{main} : {text_of(t).strip()}", lang)
        else:
            draft.add_title(text_of(t), t.get(XML_LANG), alt=bool(ttype) or bool(draft.titles))

    for c in _items(res, "creators", "creator"):
        draft.add_person(_person(c, "creatorName", None))
    for c in _items(res, "contributors", "contributor"):
        ctype = (c.get("contributorType") or "").lower()
        if ctype in ("hostinginstitution", "distributor", "registrationagency", "registrationauthority"):
            continue
        draft.add_person(_person(c, "contributorName", _CONTRIBUTOR_ROLES.get(ctype, "contributor")))

    pub = child(res, "publisher")
    if pub is not None:
        draft.publisher = text_of(pub).strip() or None
    issued = [d for d in _items(res, "dates", "date") if (d.get("dateType") or "") == "Issued"]
    for d in issued:
        draft.add_date(text_of(d))
    year = child(res, "publicationYear")
    if year is not None and not draft.dates:
        draft.add_date(text_of(year))

    for s in _items(res, "subjects", "subject"):
        scheme = (s.get("subjectScheme") or "").strip()
        mapped = vocab.classification_scheme(scheme, default="") if scheme else ""
        if mapped:
            draft.add_classification(mapped, s.get("classificationCode") or text_of(s))
        else:
            draft.add_subject(text_of(s))

    lang = child(res, "language")
    if lang is not None:
        draft.languages.append(text_of(lang))

    rt = child(res, "resourceType")
    if rt is not None:
        general = (rt.get("resourceTypeGeneral") or "").lower()
        specific = vocab.record_type(text_of(rt)) if text_of(rt).strip() else None
        if specific and specific is not RecordType.other:
            draft.type = specific
        elif general in vocab.DATACITE_TYPES:
            draft.type = vocab.DATACITE_TYPES[general]
        elif general:
            draft.type_terms.append(general)

    for r in _items(res, "rightsList", "rights"):
        draft.rights.extend(filter(None, (r.get("rightsURI"), r.get("rightsIdentifier"), text_of(r).strip())))

    descriptions = list(_items(res, "descriptions", "description"))
    descriptions.sort(key=lambda d: (d.get("descriptionType") or "") != "Abstract")
    for d in descriptions:
        dtype = d.get("descriptionType") or ""
        if dtype in ("Abstract", "Other", "TechnicalInfo", "Methods", ""):
            draft.add_abstract(text_of(d), d.get(XML_LANG))
        elif dtype == "SeriesInformation":
            draft.set_container(title=text_of(d))

    for r in _items(res, "relatedIdentifiers", "relatedIdentifier"):
        if (r.get("relationType") or "") == "IsPartOf" and (r.get("relatedIdentifierType") or "") == "ISSN":
            draft.add_identifier("issn", text_of(r))
    doi = draft.identifiers.get("doi")
    if doi:
        draft.add_link(f"https://doi.org/{doi[0]}", "landing")


def _items(res, container: str, item: str) -> list:
    """<titles><title/>...</titles> -> the title elements (empty if the container is missing)."""
    box = child(res, container)
    return list(children(box, item)) if box is not None else []


def _person(el, name_tag: str, role: str | None):
    name_el = child(el, name_tag)
    if name_el is None:
        return None
    orcid = None
    for ni in children(el, "nameIdentifier"):
        if (ni.get("nameIdentifierScheme") or "").upper() == "ORCID":
            orcid = text_of(ni)
    affiliation = child(el, "affiliation")
    person = parse_person(
        text_of(name_el),
        orcid=orcid,
        affiliation=text_of(affiliation).strip() or None if affiliation is not None else None,
        role=role,
    )
    if person is None:
        return None
    family, given = child(el, "familyName"), child(el, "givenName")
    if (name_el.get("nameType") or "") == "Organizational":
        return person.model_copy(update={"family": None, "given": None})
    if family is not None:
        person = person.model_copy(
            update={
                "family": text_of(family).strip() or person.family,
                "given": text_of(given).strip() if given is not None else person.given,
            }
        )
    return person
