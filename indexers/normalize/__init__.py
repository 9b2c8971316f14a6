"""Raw records -> Records: one function per raw format, one entry point.

    record = normalize(raw, source)                      # NormalizationError -> quarantine
    record, warnings = normalize_with_warnings(raw, source)  # for the admin's mapping preview

Formats (RawRecord.format): oai_dc (dc, srw_dc), marcxml / marc21 / marcxchange (MARC 21,
XML or ISO 2709), unimarc / rusmarc (XML or ISO 2709), datacite (oai_datacite, datacite4),
tabular. A record sent as MARC 21 that is really UNIMARC (title in 200, leader
ending "450 ") is read as UNIMARC, with a warning. Rules: docs/normalization.md.
"""

from __future__ import annotations

from collections.abc import Callable

from connectors.base import RawRecord
from fedsearch.config import SourceConfig
from fedsearch.record import Record
from indexers.normalize import datacite, dc, marc21, tabular, unimarc
from indexers.normalize.draft import Draft
from indexers.normalize.errors import NormalizationError
from indexers.normalize.marc import read_marc

__all__ = ["FORMATS", "NormalizationError", "normalize", "normalize_with_warnings"]


def _read_marc21(draft: Draft, payload: bytes) -> None:
    rec = read_marc(payload)
    if rec.looks_unimarc():
        draft.warnings.append("sent as MARC 21 but is UNIMARC/RUSMARC (title in 200); read as UNIMARC")
        unimarc.read(draft, rec)
    else:
        marc21.read(draft, rec)


def _read_unimarc(draft: Draft, payload: bytes) -> None:
    rec = read_marc(payload)
    if rec.has("245") and not rec.has("200"):
        draft.warnings.append("sent as UNIMARC but is MARC 21 (title in 245); read as MARC 21")
        marc21.read(draft, rec)
    else:
        unimarc.read(draft, rec)


FORMATS: dict[str, Callable[[Draft, bytes], None]] = {
    "oai_dc": dc.read,
    "dc": dc.read,
    "srw_dc": dc.read,
    "marcxml": _read_marc21,
    "marc21": _read_marc21,
    "marc": _read_marc21,
    "usmarc": _read_marc21,
    "marcxchange": _read_marc21,
    "unimarc": _read_unimarc,
    "rusmarc": _read_unimarc,
    "datacite": datacite.read,
    "oai_datacite": datacite.read,
    "datacite4": datacite.read,
    "oai_datacite4": datacite.read,
    "tabular": tabular.read,
}


def normalize_with_warnings(raw: RawRecord, source: SourceConfig) -> tuple[Record, list[str]]:
    """The Record for one raw record, and what was doubtful about it (no year, guessed language, ...)."""
    if raw.deleted:
        raise NormalizationError("the record is deleted at the source; there is nothing to normalize")
    reader = FORMATS.get((raw.format or "").strip().lower())
    if reader is None:
        known = ", ".join(sorted(FORMATS))
        raise NormalizationError(f"unknown raw format {raw.format!r} (known: {known})")
    if not raw.payload or not raw.payload.strip():
        raise NormalizationError("the payload is empty")
    draft = Draft(raw=raw, source=source)
    reader(draft, raw.payload)
    return draft.finish()


def normalize(raw: RawRecord, source: SourceConfig) -> Record:
    """The Record for one raw record; NormalizationError(reason) if it cannot be made."""
    return normalize_with_warnings(raw, source)[0]
