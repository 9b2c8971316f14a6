"""Simple Dublin Core (oai_dc, srw_dc) -> Draft.

The payload may be the bare `oai_dc:dc` element or a whole OAI `<record>`.
Besides the fifteen DC elements we read what real providers add inside
oai_dc: CyberLeninka's `bibo:issn/issue/pages/uri`, `dcterms:isPartOf`,
`dcterms:bibliographicCitation` and `rdf:type`; the `linktype` attribute on
dc:identifier; `xml:lang` everywhere (OJS).
"""

from __future__ import annotations

import re

from indexers import vocab
from indexers.normalize import identifiers as ids
from indexers.normalize.draft import Draft
from indexers.normalize.errors import NormalizationError
from indexers.normalize.people import parse_person, split_names
from indexers.normalize.text import split_subjects, subtitle_colon
from indexers.normalize.xml import XML_LANG, children, find_first, local, namespace, parse_xml, text_of

DC_NS = "http://purl.org/dc/elements/1.1/"
DCTERMS_NS = "http://purl.org/dc/terms/"
RDF_RESOURCE = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}resource"
_CLASS_IN_SUBJECT = re.compile(r"^(УДК|UDC|UDK|ГРНТИ|GRNTI|ББК|BBK|DDC|МПК|IPC|ВАК)[\s:.]*(\S.*)$", re.I)


def read(draft: Draft, payload: bytes) -> None:
    root = parse_xml(payload)
    dc = find_first(root, "dc")
    if dc is None:
        # srw_dc and some SRU servers put DC elements straight into the record data.
        dc = next((el.getparent() for el in root.iter() if namespace(el) == DC_NS), None)
    if dc is None:
        raise NormalizationError("no Dublin Core (oai_dc:dc) element in the payload")

    bare_relation_dois: list[str] = []
    for el in children(dc):
        ns, name = namespace(el), local(el)
        value = text_of(el).strip()
        lang = el.get(XML_LANG)
        if ns == DC_NS or ns == "":
            _dc_element(draft, name, value, lang, el, bare_relation_dois)
        elif name == "type" and el.get(RDF_RESOURCE):
            draft.type_terms.append(el.get(RDF_RESOURCE))
        elif name in ("issn", "eissn"):
            draft.add_identifier("issn", value)
        elif name == "isbn":
            draft.add_identifier("isbn", value)
        elif name == "doi":
            draft.add_identifier("doi", value)
        elif name in ("volume", "issue", "pages"):
            draft.set_container(**{name: value})
        elif name == "uri":
            draft.add_link(value, "landing")
        elif name == "isPartOf":
            res = el.get(RDF_RESOURCE) or value
            if res.lower().startswith("urn:issn:"):
                draft.add_identifier("issn", res[9:])
            elif res and not res.startswith("http"):
                draft.set_container(title=res)
        elif name == "bibliographicCitation" and value:
            # CyberLeninka repeats it: journal title, ISSN, " issue pages", place. The first is the journal.
            if not draft.container.get("title") and not ids.issn(value) and re.search(r"[^\W\d_]{3}", value):
                draft.set_container(title=value)
        elif name in ("abstract",) and ns == DCTERMS_NS:
            draft.add_abstract(value, lang)
        elif name in ("issued", "created", "dateAccepted") and ns == DCTERMS_NS:
            draft.add_date(value)
    if not draft.identifiers.get("doi") and bare_relation_dois:
        # EPrints puts the published version's DOI in dc:relation; Zenodo puts related DOIs
        # there as resolver URLs. Only the bare form is taken, and only without a DOI of its own.
        draft.identifiers.setdefault("doi", []).extend(bare_relation_dois[:1])


def _dc_element(draft: Draft, name: str, value: str, lang: str | None, el, bare_relation_dois: list[str]) -> None:
    if not value:
        return
    if name == "title":
        draft.add_title(subtitle_colon(value), lang)
    elif name in ("creator", "contributor"):
        for one in split_names(value):
            person = parse_person(one, role=None if name == "creator" else "contributor")
            draft.add_person(person)
    elif name == "subject":
        for subject in split_subjects(value):
            m = _CLASS_IN_SUBJECT.match(subject)
            if m:
                draft.add_classification(vocab.classification_scheme(m.group(1)), m.group(2).strip())
            else:
                draft.add_subject(subject)
    elif name == "description":
        draft.add_abstract(value, lang)
    elif name == "date":
        draft.add_date(value)
    elif name == "type":
        draft.type_terms.append(value)
    elif name == "identifier":
        linktype = (el.get("linktype") or "").lower()
        if linktype == "thumbnail":
            return
        draft.add_any_identifier(value, link_kind="fulltext" if linktype == "fulltext" else "landing")
    elif name == "language":
        draft.languages.append(value)
    elif name == "rights":
        draft.rights.append(value)
    elif name == "publisher":
        draft.publisher = draft.publisher or value
    elif name == "source":
        _dc_source(draft, value)
    elif name == "relation":
        v = value.strip()
        if re.match(r"^(doi:\s*)?10\.\d{4,9}/\S+$", v, re.I):
            d = ids.doi(v)
            if d:
                bare_relation_dois.append(d)
    elif name == "format":
        pass  # MIME types say nothing without the file's URL


def _dc_source(draft: Draft, value: str) -> None:
    """OJS: 'Journal Title; Vol 5 No 2 (2019); 10-20' and a separate ISSN value."""
    s = ids.issn(value)
    if s and len(value) <= 12:
        draft.add_identifier("issn", value)
        return
    if ids.is_doi(value):
        return  # the DOI, not the article's
    first, *rest = [p.strip() for p in value.split(";")]
    if first and not draft.container.get("title") and re.search(r"[^\W\d_]{3}", first):
        draft.set_container(title=first)
    draft.set_container_from_citation(" ".join(rest))
