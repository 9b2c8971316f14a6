"""OAI-PMH protocol objects (Identify, formats, sets, records, pages, resumption tokens) and datestamps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from connectors.base import Quarantine, RawRecord

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"


def parse_datestamp(value: str | None) -> datetime | None:
    """An OAI-PMH datestamp or responseDate (day or seconds granularity) as an aware UTC datetime."""
    if not value:
        return None
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


# -- protocol objects ----------------------------------------------------------------


@dataclass
class Identify:
    repository_name: str | None
    base_url: str | None
    protocol_version: str | None
    granularity: str | None
    deleted_record: str | None
    earliest_datestamp: str | None


@dataclass
class MetadataFormat:
    prefix: str
    schema: str | None
    namespace: str | None


@dataclass
class OaiSet:
    spec: str
    name: str | None


@dataclass
class ResumptionToken:
    value: str | None  # None or "" ends the list
    cursor: int | None = None
    complete_list_size: int | None = None
    expiration_date: str | None = None


@dataclass
class OaiRecord:
    identifier: str
    datestamp: str | None
    deleted: bool
    sets: list[str]
    element: etree._Element  # the <record>

    @property
    def header(self) -> etree._Element:
        return self.element.find("{*}header")

    @property
    def metadata(self) -> etree._Element | None:
        """The first element inside <metadata> (e.g. <oai_dc:dc>), or None."""
        md = self.element.find("{*}metadata")
        if md is None:
            return None
        return next((child for child in md if isinstance(child.tag, str)), None)


@dataclass
class OaiPage:
    number: int
    url: str
    records: list[OaiRecord] = field(default_factory=list)
    problems: list[Quarantine] = field(default_factory=list)  # records we could not read
    token: ResumptionToken | None = None
    salvaged: bool = False  # the page was not well-formed; records were read one by one
    cut: bool = False  # salvaged, and the list's end (token or </ListRecords>) is missing: cut off
    error: str | None = None  # why it was salvaged
    digest: str | None = None  # of a salvaged body, to tell a damaged transfer from a broken record
    response_date: str | None = None
    items: list[RawRecord | Quarantine] | None = None  # the records' payloads, cut out by the connector

    @property
    def next_token(self) -> str | None:
        return self.token.value if self.token and self.token.value else None
