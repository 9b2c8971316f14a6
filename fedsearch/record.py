"""The one normalized record model every connector's records end up as.

Connectors yield raw records; indexers/ turn them into `Record`; engines index
`Record` and give it back. Docs: docs/record.schema.json (`python -m indexers.schema`)
and docs/normalization.md.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

SOURCE_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"
LANG_PATTERN = r"^[a-z]{2,3}$"


class RecordType(StrEnum):
    article = "article"
    book = "book"
    chapter = "chapter"
    thesis = "thesis"
    dissertation = "dissertation"
    patent = "patent"
    dataset = "dataset"
    report = "report"
    conference_paper = "conference_paper"
    project = "project"
    other = "other"


class Access(StrEnum):
    open = "open"  # openly licensed full text
    free = "free"  # free to read, no open licence
    restricted = "restricted"
    unknown = "unknown"


class DatePrecision(StrEnum):
    year = "year"
    month = "month"
    day = "day"
    decade = "decade"  # "199-?"
    range = "range"  # "2010-2012": year is the first


class LangText(BaseModel):
    """A piece of text with the language it is written in (None if unknown)."""

    model_config = ConfigDict(frozen=True)
    value: Annotated[str, Field(min_length=1, max_length=20_000)]
    lang: Annotated[str | None, Field(pattern=LANG_PATTERN)] = None

    @field_validator("value")
    @classmethod
    def _strip(cls, v: str) -> str:
        v = v.strip()
        if not v:
            raise ValueError("text must not be blank")
        return v


class Person(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=500)]  # as given
    family: str | None = None
    given: str | None = None
    orcid: Annotated[str | None, Field(pattern=r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")] = None
    affiliation: str | None = None
    role: str | None = None  # for contributors: supervisor, editor, ...


class Classification(BaseModel):
    scheme: Annotated[str, Field(pattern=r"^(udc|grnti|ipc|bbk|ddc|lcc|vak|other)$")]
    code: Annotated[str, Field(min_length=1, max_length=100)]


class Identifiers(BaseModel):
    """Normalized identifiers (see indexers/normalize/identifiers.py for the rules)."""

    doi: list[str] = []
    isbn: list[str] = []  # ISBN-13, digits only
    issn: list[str] = []  # NNNN-NNNX
    handle: list[str] = []
    urn: list[str] = []
    patent: list[str] = []  # e.g. KG1234, KG20190012.1
    register_number: list[str] = []  # dissertation register number, e.g. Д-2024-000001
    other: list[str] = []

    def all(self) -> list[str]:
        return [v for name in type(self).model_fields for v in getattr(self, name)]


class Container(BaseModel):
    title: str | None = None  # journal or series
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None


class Dissertation(BaseModel):
    """A dissertation's defence, as the register or catalogue states it (GOST R 7.0.100 cites these)."""

    degree: Annotated[str | None, Field(max_length=300)] = None  # "кандидат технических наук", as given
    specialty: Annotated[str | None, Field(max_length=100)] = None  # the VAK specialty code: "05.13.01"
    specialty_name: Annotated[str | None, Field(max_length=500)] = None  # "Системный анализ, управление ..."
    council: Annotated[str | None, Field(max_length=500)] = None  # the dissertation council: "Д 05.23.677"
    defence_date: Annotated[str | None, Field(pattern=r"^\d{4}(-\d{2}(-\d{2})?)?$")] = None  # ISO 8601


class Link(BaseModel):
    url: Annotated[str, Field(pattern=r"^https?://", max_length=2000)]
    kind: Annotated[str, Field(pattern=r"^(fulltext|landing|other)$")] = "landing"
    mime: str | None = None


class Holding(BaseModel):
    """One source's copy of a work. A deduplicated Record lists all of them."""

    source: Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]
    source_record_id: Annotated[str, Field(min_length=1, max_length=1000)]
    record_id: str  # the Record.id this holding had before merging
    source_url: str | None = None
    links: list[Link] = []
    access: Access = Access.unknown


class MatchLink(BaseModel):
    """Why one member record joined the work: the rule that matched it to another member, and its evidence."""

    record_id: str
    to: str  # the member it matched
    rule: Annotated[str, Field(pattern=r"^(doi|isbn|handle|patent|register|title|manual)$")]
    evidence: str  # the shared identifier, or what agreed ("title 97%, first author aitmatov, 2019")


class Match(BaseModel):
    """Provenance of a merged work: which records it was made from and why (indexers/dedup)."""

    members: list[str] = Field(min_length=2)  # record ids, the work's own id first
    rule: str  # the strongest rule among the links
    evidence: str
    links: list[MatchLink] = []


def make_record_id(source: str, source_record_id: str) -> str:
    """Stable, URL-safe id: the source id plus a digest of the partner's id."""
    digest = hashlib.sha1(source_record_id.encode("utf-8")).hexdigest()[:16]
    return f"{source}-{digest}"


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]*-[0-9a-f]{16}$")]
    source: Annotated[str, Field(pattern=SOURCE_ID_PATTERN)]
    source_record_id: Annotated[str, Field(min_length=1, max_length=1000)]
    source_url: str | None = None

    type: RecordType = RecordType.other
    title: list[LangText] = Field(min_length=1)  # first is the main title
    title_alt: list[LangText] = []
    abstract: list[LangText] = []

    authors: list[Person] = []
    contributors: list[Person] = []
    subjects: list[str] = []  # subject headings and keywords
    classifications: list[Classification] = []

    year: Annotated[int | None, Field(ge=1000, le=2100)] = None
    date: str | None = None  # ISO 8601, as precise as known
    date_precision: DatePrecision | None = None
    languages: list[Annotated[str, Field(pattern=LANG_PATTERN)]] = []
    language_detected: bool = False  # true when languages were guessed from text

    publisher: str | None = None
    container: Container | None = None
    institution: str | None = None
    dissertation: Dissertation | None = None  # for dissertations: degree, specialty, council, defence date

    identifiers: Identifiers = Identifiers()
    access: Access = Access.unknown
    links: list[Link] = []

    # Every source holding this work; the record's own holding comes first.
    holdings: list[Holding] = []
    # For a work merged from several records: its members and the rule that joined each.
    match: Match | None = None

    harvested_at: datetime | None = None
    updated_at: datetime | None = None
    raw_format: str | None = None

    @field_validator("harvested_at", "updated_at")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        # A partner's datestamp without a zone ("2024-03-01T10:00:00", "2024-03-01") is taken as UTC, so every
        # stamp we serve is an RFC 3339 date-time, as docs/record.schema.json says.
        return value.replace(tzinfo=UTC) if value is not None and value.tzinfo is None else value

    @model_validator(mode="after")
    def _own_holding_first(self) -> Record:
        if not self.holdings:
            self.holdings = [
                Holding(
                    source=self.source,
                    source_record_id=self.source_record_id,
                    record_id=self.id,
                    source_url=self.source_url,
                    links=self.links,
                    access=self.access,
                )
            ]
        return self

    @property
    def main_title(self) -> str:
        return self.title[0].value

    @property
    def sources(self) -> list[str]:
        return sorted({h.source for h in self.holdings})


def clean_text(value: str | None) -> str | None:
    """Collapse whitespace; None for blank. Markup is kept as text (escaped on output)."""
    if value is None:
        return None
    value = " ".join(value.split())  # str.split() and re's \s agree on whitespace; 3-5x faster than re.sub
    return value or None
