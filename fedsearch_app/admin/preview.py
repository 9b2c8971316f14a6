"""Test a partner with unsaved settings: fetch a few records, show each raw beside its normalized form.

`preview(settings, source)` calls `Connector.sample(limit=5)` and
`normalize_with_warnings` on each record. It never raises for the partner's
fault: a problem comes back as a `Plain` message with the technical detail.
"""

from __future__ import annotations

import json
import time
import traceback
from dataclasses import dataclass, field

from lxml import etree

from connectors.base import HarvestFailed, Quarantine, RawRecord
from connectors.http import PartnerError
from connectors.registry import get_connector
from fedsearch.config import Settings, SourceConfig
from fedsearch.record import Person, Record
from fedsearch_app.admin.plain import Plain, plain, plain_error
from indexers.normalize import NormalizationError, normalize_with_warnings
from web_ui.i18n import gettext_ as _
from web_ui.labels import TYPE_LABELS

SAMPLE_SIZE = 5
RAW_SHOWN = 20_000  # characters of a raw record shown


@dataclass
class PreviewRecord:
    local_id: str | None
    raw_format: str | None
    raw_text: str
    fields: list[tuple[str, list[str]]] = field(default_factory=list)  # (label, values) of the normalized record
    warnings: list[Plain] = field(default_factory=list)
    problem: Plain | None = None  # could not be read or normalized


@dataclass
class Preview:
    records: list[PreviewRecord]
    problem: Plain | None
    seconds: float


def raw_text(payload: bytes, limit: int = RAW_SHOWN) -> str:
    """A raw payload for people: indented XML or JSON when it parses, else the text as it is."""
    text = None
    stripped = payload.lstrip()
    if stripped.startswith(b"<"):
        try:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_blank_text=True, huge_tree=False)
            text = etree.tostring(etree.fromstring(payload, parser), pretty_print=True, encoding="unicode")
        except etree.XMLSyntaxError:
            text = None
    elif stripped.startswith((b"{", b"[")):
        try:
            text = json.dumps(json.loads(payload), ensure_ascii=False, indent=2)
        except ValueError:
            text = None
    if text is None:
        text = payload.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + "\n…"


def _people(people: list[Person]) -> list[str]:
    return [p.name + (f" (ORCID {p.orcid})" if p.orcid else "") + (f" — {p.role}" if p.role else "") for p in people]


def _texts(items) -> list[str]:
    return [f"{t.value} [{t.lang}]" if t.lang else t.value for t in items]


def record_fields(record: Record) -> list[tuple[str, list[str]]]:
    """The normalized record, field by field, as the preview shows it (empty fields included)."""
    ids = record.identifiers
    container = record.container
    guessed = _("guessed")
    return [
        (_("Title"), _texts(record.title)),
        (_("Other titles"), _texts(record.title_alt)),
        (_("Type"), [_(TYPE_LABELS.get(record.type.value, record.type.value))]),
        (_("Authors"), _people(record.authors)),
        (_("Contributors"), _people(record.contributors)),
        (_("Year"), [str(record.year)] if record.year else []),
        (_("Date"), [record.date] if record.date else []),
        (
            _("Languages"),
            [", ".join(record.languages) + (f" ({guessed})" if record.language_detected else "")]
            if record.languages
            else [],
        ),
        (_("Abstract"), [a[:500] + ("…" if len(a) > 500 else "") for a in _texts(record.abstract)]),
        (_("Subjects"), list(record.subjects)),
        (_("Classifications"), [f"{c.scheme.upper()} {c.code}" for c in record.classifications]),
        (_("Publisher"), [record.publisher] if record.publisher else []),
        (
            _("Journal or series"),
            [", ".join(x for x in (container.title, container.volume, container.issue, container.pages) if x)]
            if container
            else [],
        ),
        (_("Institution"), [record.institution] if record.institution else []),
        (
            _("Identifiers"),
            [
                f"{kind.upper()} {v}"
                for kind in ("doi", "isbn", "issn", "handle", "urn", "patent", "other")
                for v in getattr(ids, kind)
            ],
        ),
        (_("Access"), [record.access.value]),
        (_("Links"), [link.url for link in record.links]),
        (_("At the partner"), [record.source_url] if record.source_url else []),
    ]


def _record(item: RawRecord, source: SourceConfig) -> PreviewRecord:
    out = PreviewRecord(item.local_id, item.format, raw_text(item.payload or b""))
    if item.deleted:
        out.problem = Plain(_("The partner lists this record as deleted."), None)
        return out
    try:
        record, warnings = normalize_with_warnings(item, source)
    except NormalizationError as err:
        out.problem = plain(f"could not be normalized: {err.reason}")
        return out
    out.fields = record_fields(record)
    out.warnings = [w for w in (plain(text) for text in warnings) if w]
    return out


def preview(settings: Settings, source: SourceConfig, limit: int = SAMPLE_SIZE) -> Preview:
    started = time.perf_counter()
    records: list[PreviewRecord] = []
    problem = None
    try:
        cls = get_connector(source.connector)
        connector = cls(source, cls.Options.model_validate(source.options), settings.policy_for(source))
        for item in connector.sample(limit=limit):
            if isinstance(item, Quarantine):
                records.append(
                    PreviewRecord(
                        item.local_id, None, raw_text(item.payload or b""), problem=plain(item.reason, item.code)
                    )
                )
            elif isinstance(item, RawRecord):
                records.append(_record(item, source))
    except PartnerError as err:
        problem = Plain(plain_error(err).message, f"{type(err).__name__}: {err.message}\nURL: {err.url}")
    except HarvestFailed as err:
        problem = Plain(plain_error(err).message, "\n".join(x for x in (err.message, err.detail) if x))
    except Exception as err:  # noqa: BLE001 - a connector's bug is shown, not a 500
        problem = Plain(
            _("The connector failed: %(error)s") % {"error": f"{type(err).__name__}: {err}"},
            traceback.format_exc(limit=8),
        )
    if problem is None and not records:
        problem = Plain(_("The partner answered, but sent no records. Check the set, query or file."), None)
    return Preview(records, problem, time.perf_counter() - started)


def stored_titles(store, source: SourceConfig, local_ids: list[str]) -> list[tuple[str, str | None]]:
    """(record id, its title) of stored records, for people to recognise them (e.g. a held deletion sweep)."""
    out: list[tuple[str, str | None]] = []
    for local_id in local_ids:
        stored = store.get(source.id, local_id)
        title = None
        if stored is not None:
            try:
                record, _warnings = normalize_with_warnings(stored.raw(), source)
                title = record.title[0].value if record.title else None
            except NormalizationError:
                title = None
        out.append((local_id, title))
    return out
