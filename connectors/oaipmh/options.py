"""The options of an OAI-PMH source (sources.yaml), and metadataPrefix -> payload format."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from connectors.base import ConnectorOptions

# metadataPrefix -> payload format name (docs/connectors.md, "Payload formats").
FORMATS = {
    "oai_dc": "oai_dc",
    "marcxml": "marcxml",
    "marc21": "marcxml",
    "marc": "marcxml",
    "usmarc": "marcxml",
    "datacite": "datacite",
    "datacite4": "datacite",
    "oai_datacite": "oai_datacite",
}


class OaiPmhOptions(ConnectorOptions):
    url: Annotated[
        str,
        Field(
            pattern=r"^https?://",
            description=(
                "Base URL of the repository's OAI-PMH endpoint, e.g. https://repository.example.kg/oai/request"
            ),
        ),
    ]
    metadata_prefix: Annotated[
        str,
        Field(
            min_length=1,
            description=(
                "Metadata format to harvest: oai_dc, marcxml, marc21, datacite... (see the repository's ListMetadataFormats)"
            ),
        ),
    ] = "oai_dc"
    sets: Annotated[
        list[str], Field(description=("Set specs to harvest, one after another; empty harvests the whole repository"))
    ] = []
    payload: Annotated[
        Literal["metadata", "record"],
        Field(
            description=(
                "What to store: the metadata element only (metadata), or the whole OAI <record> with its header (record)"
            )
        ),
    ] = "metadata"
    format: Annotated[
        str | None,
        Field(
            description=(
                "Payload format name for the normalizer; default derived from metadata_prefix (marc21 -> marcxml)"
            )
        ),
    ] = None
    granularity: Annotated[
        Literal["auto", "day", "seconds"],
        Field(description=("Datestamp granularity for incremental harvests; auto asks the repository (Identify)")),
    ] = "auto"
    max_empty_pages: Annotated[
        int,
        Field(
            ge=1,
            le=1000,
            description=("Stop after this many pages in a row that have no records but still a resumption token"),
        ),
    ] = 5
