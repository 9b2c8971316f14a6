"""What a connector is: a config model, and an iterator of raw records and checkpoints.

A connector knows one protocol or file format. It does not normalize and it
does not index: it yields `RawRecord`s (kept as-is in the raw store),
`Quarantine`s for input it could not read, and `Checkpoint`s. The harvest
runner (rawstore/harvest.py) stores everything up to a checkpoint in one
transaction, so a killed harvest resumes there, losing and duplicating nothing.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from fedsearch.config import HarvestPolicy, SourceConfig
from fedsearch.errors import FedsearchError
from fedsearch.record import RecordType


class ConnectorOptions(BaseModel):
    """Base of each connector's own options model (the source's extra YAML keys).

    Every field needs a `Field(description=...)`: the admin UI builds its forms from these models.
    """

    model_config = ConfigDict(extra="forbid")

    type: Annotated[
        RecordType | None,
        Field(
            description=(
                "Record type for records whose own metadata does not say, e.g. dissertation for a register of theses"
            )
        ),
    ] = None


@dataclass
class RawRecord:
    local_id: str  # the record's id at the partner (OAI identifier, MARC 001, row key)
    # oai_dc | marcxml | unimarc | rusmarc | datacite | tabular (docs/connectors.md, "Payload formats").
    # MARC of any flavour travels as one MARCXML <record> (UTF-8); marc21 is accepted as a synonym of marcxml.
    format: str
    payload: bytes  # the record as received (one record; XML formats as one element, UTF-8)
    datestamp: str | None = None  # the partner's last-modified stamp, as given
    deleted: bool = False
    sets: list[str] = field(default_factory=list)


@dataclass
class Quarantine:
    """Input that could not be read; kept with its reason, and the harvest goes on."""

    reason: str
    local_id: str | None = None
    payload: bytes = b""
    location: str | None = None  # e.g. "page 3", "row 17", "file x.mrc offset 1200"
    code: str | None = None  # stable code (record.*, partner.*; fedsearch/errors.py); None: record.malformed


@dataclass
class Checkpoint:
    """Where to resume. `state` is connector-specific and JSON-serializable."""

    state: dict[str, Any]


HarvestItem = RawRecord | Quarantine | Checkpoint


class HarvestStopped(FedsearchError):
    """A stop was requested (admin UI "stop", Ctrl-C); stored records are kept and the run can resume."""

    error_code = "harvest.stopped"


class HarvestFailed(FedsearchError):
    """The harvest had to stop; records stored before it are kept."""

    error_code = "harvest.failed"

    def __init__(self, source: str, message: str, *, detail: str | None = None):
        self.source = source
        self.message = message
        self.detail = detail
        super().__init__(f"{source}: {message}")


class HarvestIncomplete(HarvestFailed):
    """The partner's answers were damaged (cut off, not XML, counts disagreeing) even after retries.

    Records from the good pages are kept; the run ends 'incomplete' and nothing is swept.
    """


# A connector's checkpoint state may hold this key: reasons its listing cannot back a deletion sweep
# (e.g. a page read record by record), even though the listing reached its end.
UNTRUSTED = "untrusted"


class Connector(ABC):
    name: ClassVar[str]
    Options: ClassVar[type[ConnectorOptions]]
    description: ClassVar[str] = ""
    # Set by the harvest runner: the admin UI's "stop". Connectors pass it to PoliteClient so waits end early.
    stop: threading.Event | None = None
    # Set by the harvest runner: the final checkpoint state of the last successful run (e.g. the
    # OAI-PMH responseDate and newest datestamp seen, for the next incremental window), or None.
    previous_state: dict[str, Any] | None = None

    @property
    def incremental(self) -> bool:
        """True when `harvest(since=...)` returns only what changed since then.

        When False, every run is a full listing. After any successful full
        listing the runner marks records the partner no longer lists as deleted.
        """
        return True

    def __init__(self, source: SourceConfig, options: ConnectorOptions, policy: HarvestPolicy):
        self.source = source
        self.options = options
        self.policy = policy

    @abstractmethod
    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        """Yield raw records, quarantines and checkpoints.

        `since`: the start of the last successful run (None for a full harvest).
        `checkpoint`: the state of the last checkpoint of an interrupted run.
        """

    def sample(self, limit: int = 5) -> Iterator[HarvestItem]:
        """A handful of records for a mapping preview; stops early."""
        count = 0
        items = self.harvest(since=None, checkpoint=None)
        try:
            for item in items:
                if isinstance(item, Checkpoint):
                    continue
                yield item
                count += 1
                if count >= limit:
                    return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # ends the connector's HTTP client or open file now, not at garbage collection
