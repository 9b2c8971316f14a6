"""SRU: library catalogues (Koha, Evergreen, Alma, Index Data's Zebra, IRBIS gateways).

searchRetrieve with the source's CQL query, paged by startRecord and
maximumRecords until numberOfRecords. Versions 1.1 and 1.2 (namespace
http://www.loc.gov/zing/srw/, prefixed zs:, srw: or not at all) and 2.0
(http://docs.oasis-open.org/ns/search-ws/sruResponse) are read the same way,
by local names. Diagnostics become errors naming the diagnostic. An answer that
does not parse is asked again with backoff; if it stays damaged, or the records
that arrived disagree with numberOfRecords, the run ends 'incomplete'.

SRU has no standard "changed since": each run lists everything the query
finds (and records no longer found become deletions), unless the source
gives an `incremental_query`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

from lxml import etree
from pydantic import Field

from connectors import xmlsafe
from connectors.base import (
    Checkpoint,
    Connector,
    ConnectorOptions,
    HarvestFailed,
    HarvestIncomplete,
    HarvestItem,
    Quarantine,
    RawRecord,
)
from connectors.http import PartnerHTTPError, PoliteClient
from fedsearch.errors import FedsearchError

log = logging.getLogger("fedsearch.harvest.sru")

# Common diagnostics (info:srw/diagnostic/1/N), in words.
DIAGNOSTICS = {
    "1": "general system error",
    "4": "unsupported operation",
    "5": "unsupported version",
    "6": "unsupported parameter value",
    "7": "mandatory parameter not supplied",
    "10": "query syntax error",
    "16": "unsupported index",
    "19": "unsupported relation",
    "61": "first record position out of range",
    "64": "record temporarily unavailable",
    "66": "unknown schema for retrieval",
    "71": "unsupported record packing",
}


class SruDiagnostic(FedsearchError):
    error_code = "partner.sru.diagnostic"

    def __init__(self, uri: str | None, message: str | None, details: str | None, url: str):
        self.uri, self.message_text, self.details, self.url = uri, message, details, url
        number = (uri or "").rsplit("/", 1)[-1]
        meaning = DIAGNOSTICS.get(number)
        parts = [p for p in (message, details) if p]
        text = f"the SRU server answered with diagnostic {uri or '(no uri)'}"
        if meaning and (not message or meaning.lower() not in message.lower()):
            text += f" ({meaning})"
        if parts:
            text += ": " + "; ".join(parts)
        self.message = text + (f" (URL: {url})" if url else "")
        super().__init__(self.message)


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _diagnostics(el: etree._Element | None, url: str) -> list[SruDiagnostic]:
    if el is None:
        return []
    out = []
    for d in el.iter("{*}diagnostic"):
        out.append(
            SruDiagnostic(
                xmlsafe.text_of(d.find("{*}uri")),
                xmlsafe.text_of(d.find("{*}message")),
                xmlsafe.text_of(d.find("{*}details")),
                url,
            )
        )
    return out


def marc_control_field(record: etree._Element, tag: str = "001") -> str | None:
    for cf in record.iter("{*}controlfield"):
        if cf.get("tag") == tag:
            return xmlsafe.text_of(cf)
    return None


class SruOptions(ConnectorOptions):
    url: Annotated[
        str,
        Field(
            pattern=r"^https?://",
            description=(
                "Base URL of the SRU endpoint, database included, e.g. http://catalog.example.kg:9999/biblios"
            ),
        ),
    ]
    query: Annotated[
        str,
        Field(
            min_length=1,
            description=("CQL query selecting the records to harvest; cql.allRecords=1 asks for everything"),
        ),
    ] = "cql.allRecords=1"
    version: Annotated[Literal["1.1", "1.2", "2.0"], Field(description="SRU version the server speaks")] = "1.2"
    record_schema: Annotated[
        str,
        Field(
            min_length=1,
            description=("recordSchema to ask for: marcxml or dc (or the server's own name or URI for them)"),
        ),
    ] = "marcxml"
    page_size: Annotated[
        int, Field(ge=1, le=1000, description=("maximumRecords per request; the server may send fewer"))
    ] = 50
    format: Annotated[
        str | None,
        Field(
            description=(
                "Payload format name for the normalizer; default derived from record_schema (marcxml, dc -> oai_dc)"
            )
        ),
    ] = None
    id_element: Annotated[
        str | None,
        Field(
            pattern=r"^[A-Za-z_][\w.-]*$",
            description=(
                "Local name of the element holding a record's id when it is neither MARC 001 nor recordIdentifier "
                "(e.g. identifier for Dublin Core); without it such records are keyed by their position"
            ),
        ),
    ] = None
    incremental_query: Annotated[
        str | None,
        Field(
            description=(
                "Optional CQL added to the query for incremental runs, with {since} as YYYY-MM-DD, "
                'e.g. rec.lastModificationDate>="{since}"; without it every run lists everything'
            )
        ),
    ] = None


class SruConnector(Connector):
    name = "sru"
    Options = SruOptions
    description = "SRU library catalogues (1.1, 1.2, 2.0): searchRetrieve with a CQL query, MARCXML or Dublin Core"
    options: SruOptions

    @property
    def incremental(self) -> bool:
        return bool(self.options.incremental_query)

    @property
    def payload_format(self) -> str:
        if self.options.format:
            return self.options.format
        schema = self.options.record_schema.lower()
        if "marc" in schema:
            return "marcxml"
        if schema in ("dc", "srw_dc", "oai_dc") or "dc-schema" in schema or "/dc-v" in schema:
            return "oai_dc"
        return self.options.record_schema

    def _query(self, since: datetime | None) -> str:
        if since is None or not self.options.incremental_query:
            return self.options.query
        day = (since.astimezone(UTC) - timedelta(days=1)).strftime("%Y-%m-%d")
        return f"({self.options.query}) and ({self.options.incremental_query.replace('{since}', day)})"

    def _params(self, query: str, start: int) -> dict[str, str]:
        params = {
            "operation": "searchRetrieve",
            "version": self.options.version,
            "query": query,
            "startRecord": str(start),
            "maximumRecords": str(self.options.page_size),
            "recordSchema": self.options.record_schema,
        }
        if self.options.version == "2.0":
            params["recordXMLEscaping"] = "xml"
        else:
            params["recordPacking"] = "xml"
        return params

    def _answer(self, http: PoliteClient, query: str, start: int, what: str) -> tuple[etree._Element, str]:
        """One searchRetrieve answer, asked again with backoff while it does not parse (cut off, garbled)."""
        retries = self.policy.damage_retries
        for attempt in range(retries + 1):
            try:
                resp = http.get(self.options.url, self._params(query, start), what=what)
                body, url = resp.content, resp.url
            except PartnerHTTPError as err:
                if not err.body or b"diagnostic" not in err.body:
                    raise
                body, url = err.body, err.url  # some servers send diagnostics with HTTP 400
            try:
                return xmlsafe.parse(body, f"the answer to {what}"), url
            except xmlsafe.UnsafeXML as err:
                raise HarvestFailed(self.source.id, f"{err} (URL: {url})") from None
            except xmlsafe.BadXML as err:
                damage = f"{err} (URL: {url})"
            if attempt < retries:
                pause = http._backoff(attempt)
                log.warning(
                    "%s is damaged (%s); asking again in %.1f s", what, damage, pause, extra={"source": self.source.id}
                )
                http._sleep(pause)
        raise HarvestIncomplete(self.source.id, f"{what} stayed damaged after {retries} retries: {damage}")

    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        query = (checkpoint or {}).get("query") or self._query(since)
        start = int((checkpoint or {}).get("start", 1))
        page = int((checkpoint or {}).get("page", 0))
        # Records (and record-level diagnostics) received so far, to check against numberOfRecords.
        received = (checkpoint or {}).get("received", 0 if start == 1 else None)
        with PoliteClient(self.source.id, self.policy, stop=self.stop) as http:
            while True:
                page += 1
                what = f"searchRetrieve page {page} (records from {start})"
                if page > self.policy.max_pages:
                    raise HarvestFailed(
                        self.source.id,
                        (
                            f"the listing reached max_pages ({self.policy.max_pages}) without ending; stopping "
                            "(raise harvest.max_pages if the catalogue is really this large)"
                        ),
                    )
                root, url = self._answer(http, query, start, what)
                if _local(root.tag) != "searchRetrieveResponse":
                    raise HarvestFailed(
                        self.source.id,
                        (
                            f"the answer to {what} is not an SRU searchRetrieve response (its root element is "
                            f"<{_local(root.tag)}>); check the URL and the version (URL: {url})"
                        ),
                    )
                total_el = root.find("{*}numberOfRecords")
                total = (
                    int(total_el.text.strip())
                    if total_el is not None and (total_el.text or "").strip().isdigit()
                    else None
                )
                diagnostics = _diagnostics(root.find("{*}diagnostics"), url)
                records_el = root.find("{*}records")
                records = list(records_el.iterfind("{*}record")) if records_el is not None else []
                if diagnostics and not records:
                    if (
                        total is not None
                        and start > total
                        and diagnostics[0].uri
                        and diagnostics[0].uri.endswith("/61")
                    ):
                        self._check_count(received, total, page, url)
                        return  # asked past the end: the list is complete
                    raise HarvestFailed(self.source.id, diagnostics[0].message)
                for i, rec in enumerate(records):
                    yield self._item(rec, start + i, page)
                if received is not None:
                    received += len(records)
                if total is None:
                    raise HarvestFailed(self.source.id, f"the answer to {what} has no numberOfRecords (URL: {url})")
                next_el = root.find("{*}nextRecordPosition")
                next_start = (
                    int(next_el.text.strip())
                    if next_el is not None and (next_el.text or "").strip().isdigit()
                    else start + len(records)
                )
                if next_start > total or (next_el is None and not records):
                    if not records and start <= total:
                        raise HarvestIncomplete(
                            self.source.id,
                            (
                                f"the server says it has {total} records but sent none from position {start} "
                                f"(page {page}); stopping (URL: {url})"
                            ),
                        )
                    self._check_count(received, total, page, url)
                    return
                if next_start <= start:
                    raise HarvestFailed(
                        self.source.id,
                        (
                            f"the server's next record position ({next_start}) does not move past {start}; "
                            f"stopping so the harvest does not loop (URL: {url})"
                        ),
                    )
                start = next_start
                yield Checkpoint({"start": start, "page": page, "query": query, "received": received})

    def _check_count(self, received: int | None, total: int, page: int, url: str) -> None:
        if received is not None and received != total:
            raise HarvestIncomplete(
                self.source.id,
                (
                    f"the list ended at page {page} with {received} records, but the server announced "
                    f"numberOfRecords {total} (records left out, or answers cut short) (URL: {url})"
                ),
            )

    def _item(self, rec: etree._Element, position: int, page: int) -> RawRecord | Quarantine:
        location = f"page {page}, position {position}"
        schema = xmlsafe.text_of(rec.find("{*}recordSchema")) or ""
        data = rec.find("{*}recordData")
        ident = xmlsafe.text_of(rec.find("{*}recordIdentifier"))
        pos_el = rec.find("{*}recordPosition")
        if pos_el is not None and (pos_el.text or "").strip().isdigit():
            position = int(pos_el.text.strip())
            location = f"page {page}, position {position}"
        if "diagnostic" in schema:
            diag = next(iter(_diagnostics(data, "")), None) if data is not None else None
            reason = diag.message if diag else "the server sent a diagnostic instead of the record"
            return Quarantine(
                reason=f"record not delivered: {reason}",
                code="partner.sru.diagnostic",
                local_id=ident,
                location=location,
                payload=xmlsafe.serialize(rec),
            )
        if data is None:
            return Quarantine(
                reason="the record has no recordData",
                code="record.no_metadata",
                local_id=ident,
                location=location,
                payload=xmlsafe.serialize(rec),
            )
        element = next((c for c in data if isinstance(c.tag, str)), None)
        if element is None and (data.text or "").strip():
            try:  # string packing: the record is escaped XML text
                element = xmlsafe.parse(data.text.strip().encode("utf-8"), f"the record at position {position}")
            except xmlsafe.BadXML as err:
                return Quarantine(
                    reason=str(err),
                    code="record.not_xml",
                    local_id=ident,
                    location=location,
                    payload=data.text.encode("utf-8"),
                )
        if element is None:
            return Quarantine(
                reason="the record's recordData is empty", code="record.no_metadata", local_id=ident, location=location
            )
        local_id = marc_control_field(element) or ident
        if self.options.id_element:
            local_id = xmlsafe.text_of(next(element.iter("{*}" + self.options.id_element), None)) or local_id
        if not local_id:
            local_id = f"position:{position}"  # unstable if the result changes; see id_element
        return RawRecord(local_id=local_id, format=self.payload_format, payload=xmlsafe.serialize(element))
