"""One spreadsheet or JSON row -> Draft, through the source's column mapping.

The tabular connector's options hold `mapping: {record field: column name}`,
`id_column` and a default `type`. Record fields (docs/normalization.md):

  title, title.<lang>, title_alt, abstract, abstract.<lang>, authors, contributors,
  contributors.<role>, subjects (or keywords), year, date, languages (or language),
  type, institution, publisher, url, fulltext_url, access, rights,
  container.title (or journal), container.volume, container.issue, container.pages,
  classifications.<udc|grnti|ipc|bbk|ddc|lcc|vak|other>,
  identifiers.<doi|isbn|issn|handle|urn|patent|register_number|other>,
  dissertation.<degree|specialty|specialty_name|council|defence_date>

People, subjects, languages and identifiers are split on ";" (and on new lines).
Without a mapping, columns named like the fields are used.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fedsearch.record import Access
from indexers.normalize.draft import Draft
from indexers.normalize.errors import NormalizationError
from indexers.normalize.people import parse_person

CLASSIFICATION_SCHEMES = ("udc", "grnti", "ipc", "bbk", "ddc", "lcc", "vak", "other")
IDENTIFIER_KINDS = ("doi", "isbn", "issn", "handle", "urn", "patent", "register_number", "other")
DISSERTATION_FIELDS = ("degree", "specialty", "specialty_name", "council", "defence_date")
PLAIN_FIELDS = (
    "title",
    "title_alt",
    "abstract",
    "authors",
    "contributors",
    "subjects",
    "keywords",
    "year",
    "date",
    "languages",
    "language",
    "type",
    "institution",
    "publisher",
    "url",
    "fulltext_url",
    "access",
    "rights",
    "journal",
    "container.title",
    "container.volume",
    "container.issue",
    "container.pages",
)
_LANG_FIELD = re.compile(r"^(title|abstract)\.([a-z]{2,3})$")
_ROLE_FIELD = re.compile(r"^contributors\.([a-z_ ]+)$")


def mapping_problems(mapping: dict[str, str]) -> list[str]:
    """What is wrong with a mapping's record-field names (for the connector's option check and the preview)."""
    problems = []
    for target in mapping:
        if target in PLAIN_FIELDS or _LANG_FIELD.match(target) or _ROLE_FIELD.match(target):
            continue
        prefix, _, rest = target.partition(".")
        if prefix == "classifications" and rest in CLASSIFICATION_SCHEMES:
            continue
        if prefix == "identifiers" and rest in IDENTIFIER_KINDS:
            continue
        if prefix == "dissertation" and rest in DISSERTATION_FIELDS:
            continue
        problems.append(f"unknown record field {target!r} in mapping")
    return problems


def _values(value: Any, split: bool) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [v for item in value for v in _values(item, split)]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # spreadsheets store years as 2019.0
    text = str(value).strip()
    if not text:
        return []
    if not split:
        return [text]
    return [p.strip() for p in re.split(r"\s*;\s*|\s*\n\s*", text) if p.strip()]


def read(draft: Draft, payload: bytes) -> None:
    try:
        row = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise NormalizationError(f"the row is not JSON: {err}") from None
    if not isinstance(row, dict):
        raise NormalizationError("the row is not a JSON object of column -> value")
    options = draft.source.options
    mapping: dict[str, str] = options.get("mapping") or {}
    if not mapping:
        mapping = {col.strip().lower(): col for col in row}
    draft.warnings.extend(mapping_problems(mapping))
    missing = sorted({col for col in mapping.values() if col not in row})
    if missing:
        draft.warnings.append(f"columns not in the row: {', '.join(missing[:5])}")

    for target, column in mapping.items():
        value = row.get(column)
        _apply(draft, target, value)


def _apply(draft: Draft, target: str, value: Any) -> None:
    m = _LANG_FIELD.match(target)
    if m:
        for v in _values(value, split=False):
            (draft.add_title if m.group(1) == "title" else draft.add_abstract)(v, m.group(2))
        return
    m = _ROLE_FIELD.match(target)
    if m:
        for v in _values(value, split=True):
            draft.add_person(parse_person(v, role=m.group(1).strip()))
        return
    prefix, _, rest = target.partition(".")
    if prefix == "classifications":
        for v in _values(value, split=True):
            draft.add_classification(rest, v)
        return
    if prefix == "identifiers":
        for v in _values(value, split=True):
            draft.add_identifier(rest, v)
        return
    if prefix == "dissertation":
        for v in _values(value, split=False)[:1]:
            draft.set_dissertation(rest, v)
        return
    if prefix == "container" or target == "journal":
        for v in _values(value, split=False)[:1]:
            draft.set_container(**{rest or "title": v})
        return
    split = target in ("authors", "contributors", "subjects", "keywords", "languages", "language", "title_alt")
    for v in _values(value, split=split):
        if target == "title":
            draft.add_title(v)
        elif target == "title_alt":
            draft.add_title(v, alt=True)
        elif target == "abstract":
            draft.add_abstract(v)
        elif target == "authors":
            draft.add_person(parse_person(v))
        elif target == "contributors":
            draft.add_person(parse_person(v, role="contributor"))
        elif target in ("subjects", "keywords"):
            draft.add_subject(v)
        elif target in ("year", "date"):
            draft.add_date(v)
        elif target in ("languages", "language"):
            draft.languages.append(v)
        elif target == "type":
            draft.type_terms.append(v)
        elif target == "institution":
            draft.institution = draft.institution or v
        elif target == "publisher":
            draft.publisher = draft.publisher or v
        elif target == "url":
            draft.add_link(v, "landing")
            draft.source_url = draft.source_url or (draft.links[-1].url if draft.links else None)
        elif target == "fulltext_url":
            draft.add_link(v, "fulltext")
        elif target in ("access", "rights"):
            if v.lower() in {a.value for a in Access}:
                draft.rights.append({"open": "openAccess", "restricted": "restrictedAccess"}.get(v.lower(), v))
                if v.lower() == "free":
                    draft.rights.append("free to read")
            else:
                draft.rights.append(v)
