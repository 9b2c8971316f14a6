"""OAI-PMH: institutional repositories and journals (DSpace, EPrints, OJS, Zenodo, Dataverse, ...).

`OaiClient` speaks the protocol (Identify, ListMetadataFormats, ListSets,
ListRecords one page at a time) and turns OAI errors into named exceptions.
`OaiPmhConnector` walks the pages: sets one after another, a checkpoint after
every page, and the quirks of real servers (errors served with HTTP 422, bare
or self-closing last tokens, empty pages that still carry a token, expired
tokens, pages that are not well-formed).

It never takes a damaged answer for the end of the list: a page that does not
parse, is cut off, or whose count disagrees with `completeListSize` is fetched
again with backoff, and if it stays damaged the run ends 'incomplete'
(HarvestIncomplete). Endless listings stop (pages bringing no new identifier,
more records than announced, a page cap). Incremental harvests ask `from` the
earlier of the last run's responseDate and newest datestamp, minus an overlap,
so records stamped late are still found.
"""

from __future__ import annotations

import hashlib
import html
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, Literal

from lxml import etree
from pydantic import Field

from connectors import xmlsafe
from connectors.base import (
    UNTRUSTED,
    Checkpoint,
    Connector,
    ConnectorOptions,
    HarvestFailed,
    HarvestIncomplete,
    HarvestItem,
    Quarantine,
    RawRecord,
)
from connectors.http import PartnerError, PartnerHTTPError, PoliteClient
from connectors.prefetch import PagePrefetch
from fedsearch.errors import FedsearchError

log = logging.getLogger("fedsearch.harvest.oai")

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"

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


# -- protocol errors (one class per OAI-PMH error code) ------------------------------


class OaiError(FedsearchError):
    """An OAI-PMH error the repository answered with."""

    code: ClassVar[str] = "unknown"
    hint: ClassVar[str] = ""

    def __init__(self, message: str = "", *, url: str | None = None, code: str | None = None):
        self.message = message.strip()
        self.url = url
        if code:
            self.code = code
        self.error_code = f"partner.oai.{self.code}"  # type: ignore[misc] - the repository's own code
        super().__init__(self.describe())

    def describe(self) -> str:
        text = f"the repository answered with OAI-PMH error {self.code}"
        if self.message:
            text += f" ({self.message})"
        if self.hint:
            text += f"; {self.hint}"
        if self.url:
            text += f" (URL: {self.url})"
        return text


class BadArgument(OaiError):
    code = "badArgument"
    hint = "check metadata_prefix and sets against the repository's ListMetadataFormats and ListSets"


class BadResumptionToken(OaiError):
    code = "badResumptionToken"
    hint = "the resumption token is invalid or expired"


class BadVerb(OaiError):
    code = "badVerb"
    hint = "the URL may not be an OAI-PMH endpoint; check the base URL"


class CannotDisseminateFormat(OaiError):
    code = "cannotDisseminateFormat"
    hint = "the repository does not offer this metadata_prefix; its ListMetadataFormats says which it does"


class IdDoesNotExist(OaiError):
    code = "idDoesNotExist"


class NoMetadataFormats(OaiError):
    code = "noMetadataFormats"


class NoRecordsMatch(OaiError):
    code = "noRecordsMatch"


class NoSetHierarchy(OaiError):
    code = "noSetHierarchy"
    hint = "the repository has no sets; remove `sets` from the source"


OAI_ERRORS: dict[str, type[OaiError]] = {
    cls.code: cls
    for cls in (
        BadArgument,
        BadResumptionToken,
        BadVerb,
        CannotDisseminateFormat,
        IdDoesNotExist,
        NoMetadataFormats,
        NoRecordsMatch,
        NoSetHierarchy,
    )
}


class OaiResponseError(FedsearchError):
    """An answer we cannot read as OAI-PMH (not XML, unsafe XML, another kind of document)."""

    error_code = "partner.oai.unreadable"

    def __init__(self, message: str, *, url: str | None = None):
        self.message = message + (f" (URL: {url})" if url else "")
        self.url = url
        super().__init__(self.message)


class DamagedPage(OaiResponseError):
    """A ListRecords answer too damaged to read at all (garbage, or cut before its first record)."""

    error_code = "partner.oai.damaged_page"


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


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _token(el: etree._Element | None) -> ResumptionToken | None:
    if el is None:
        return None
    return ResumptionToken(
        value=xmlsafe.text_of(el),
        cursor=_int(el.get("cursor")),
        complete_list_size=_int(el.get("completeListSize")),
        expiration_date=el.get("expirationDate"),
    )


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _read_record(el: etree._Element, location: str) -> OaiRecord | Quarantine:
    header = el.find("{*}header")
    ident = xmlsafe.text_of(header.find("{*}identifier")) if header is not None else None
    if header is None or not ident:
        return Quarantine(
            reason="the record has no header identifier", payload=xmlsafe.serialize(el), location=location
        )
    return OaiRecord(
        identifier=ident,
        datestamp=xmlsafe.text_of(header.find("{*}datestamp")),
        deleted=header.get("status") == "deleted",
        sets=[s.text.strip() for s in header.findall("{*}setSpec") if s.text and s.text.strip()],
        element=el,
    )


# -- reading a page that is not well-formed, record by record -------------------------

_NAME = rb"(?:[A-Za-z_][\w.-]*:)?"
_RECORD_START = re.compile(rb"<" + _NAME + rb"record\s*>\s*(?:<!--.*?-->\s*)*<" + _NAME + rb"header[\s>/]", re.S)
_TOKEN_RE = re.compile(
    rb"<" + _NAME + rb"resumptionToken\b([^>]*?)(?:/>|>([^<]*)</" + _NAME + rb"resumptionToken\s*>)", re.S
)
_LIST_END = re.compile(rb"</" + _NAME + rb"ListRecords\s*>")
_IDENT_RE = re.compile(rb"<" + _NAME + rb"identifier\s*>\s*([^<]{1,1000}?)\s*</", re.S)
_ATTR_RE = re.compile(rb"([\w:-]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_XML_DECL = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\?>")
_RESPONSE_DATE_RE = re.compile(rb"<" + _NAME + rb"responseDate\s*>\s*([0-9T:Z.+-]{10,40})\s*<")
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.:-]*)((?:\s+[\w.:-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*>")


def _root_start(body: bytes) -> tuple[bytes, bytes] | None:
    """The root element's start tag and qualified name."""
    pos = 0
    while True:
        pos = body.find(b"<", pos)
        if pos < 0:
            return None
        if body.startswith(b"<?", pos) or body.startswith(b"<!--", pos):
            end = body.find(b"?>" if body[pos + 1] == ord("?") else b"-->", pos)
            if end < 0:
                return None
            pos = end + 2
        elif body.startswith(b"<!", pos):
            return None
        else:
            m = _ROOT_TAG.match(body, pos)
            return (m.group(0), m.group(1)) if m else None


def _salvage(body: bytes, number: int, url: str, max_record_bytes: int, error: str) -> OaiPage:
    root = _root_start(body)
    starts = [m.start() for m in _RECORD_START.finditer(body)]
    tail = starts[-1] if starts else 0
    token_match = None
    for token_match in _TOKEN_RE.finditer(body, tail):
        pass
    if root is None or (not starts and token_match is None):
        raise DamagedPage(f"page {number} of the answer is not readable: {error}", url=url)
    end_of_list = token_match.start() if token_match else None
    list_end = None
    for list_end in _LIST_END.finditer(body, tail):
        pass
    if end_of_list is None:
        end_of_list = list_end.start() if list_end else len(body)
    decl_match = _XML_DECL.match(body)
    decl = decl_match.group(0) if decl_match else b""
    open_tag, qname = root
    page = OaiPage(
        number=number,
        url=url,
        salvaged=True,
        cut=list_end is None,
        error=error,
        digest=hashlib.sha256(body).hexdigest(),
    )
    date_match = _RESPONSE_DATE_RE.search(body, 0, 4096)
    page.response_date = date_match.group(1).decode("ascii", "replace") if date_match else None
    for i, start in enumerate(starts):
        chunk = body[start : starts[i + 1] if i + 1 < len(starts) else end_of_list].rstrip()
        location = f"page {number}, record {i + 1}"
        ident_match = _IDENT_RE.search(chunk, 0, 4096)
        ident = ident_match.group(1).decode("utf-8", "replace").strip() if ident_match else None
        if len(chunk) > max_record_bytes:
            page.problems.append(
                Quarantine(
                    reason=f"the record is {len(chunk)} bytes, over the limit of {max_record_bytes} (max_record_bytes)",
                    local_id=ident,
                    payload=chunk,
                    location=location,
                )
            )
            continue
        try:
            wrapper = xmlsafe.parse(decl + open_tag + chunk + b"</" + qname + b">", f"record {i + 1} of page {number}")
        except xmlsafe.BadXML as err:
            page.problems.append(Quarantine(reason=str(err), local_id=ident, payload=chunk, location=location))
            continue
        el = wrapper.find("{*}record")
        item = (
            _read_record(el, location)
            if el is not None
            else Quarantine(reason="the record could not be read", local_id=ident, payload=chunk, location=location)
        )
        (page.problems if isinstance(item, Quarantine) else page.records).append(item)
    if token_match is not None:
        attrs = {k.decode(): (a or b).decode("utf-8", "replace") for k, a, b in _ATTR_RE.findall(token_match.group(1))}
        value = html.unescape(token_match.group(2).decode("utf-8", "replace")).strip() if token_match.group(2) else None
        page.token = ResumptionToken(
            value=value or None,
            cursor=_int(attrs.get("cursor")),
            complete_list_size=_int(attrs.get("completeListSize")),
            expiration_date=attrs.get("expirationDate"),
        )
    return page


# -- the client --------------------------------------------------------------------------


class OaiClient:
    """OAI-PMH requests to one repository, over a PoliteClient."""

    def __init__(self, base_url: str, http: PoliteClient, *, max_record_bytes: int | None = None):
        self.base_url = base_url
        self.http = http
        self.max_record_bytes = max_record_bytes or http.policy.max_record_bytes

    def _fetch(self, params: dict[str, str], what: str) -> tuple[bytes, str]:
        try:
            resp = self.http.get(self.base_url, params, what=what)
            return resp.content, resp.url
        except PartnerHTTPError as err:
            # Zenodo and others send OAI errors (noRecordsMatch, badResumptionToken) with HTTP 4xx.
            if 400 <= err.status < 500 and b"OAI-PMH" in err.body[:4096]:
                try:
                    root = xmlsafe.parse(err.body, f"the answer to {what}")
                except xmlsafe.BadXML:
                    raise err from None
                self._raise_errors(root, err.url)
            raise

    def _raise_errors(self, root: etree._Element, url: str) -> None:
        errors = root.findall("{*}error")
        if errors:
            code = errors[0].get("code") or "unknown"
            cls = OAI_ERRORS.get(code, OaiError)
            raise cls(xmlsafe.text_of(errors[0]) or "", url=url, code=None if cls is not OaiError else code)

    def _parse(self, body: bytes, url: str, what: str) -> etree._Element:
        try:
            root = xmlsafe.parse(body, f"the answer to {what}")
        except xmlsafe.BadXML as err:
            raise OaiResponseError(str(err), url=url) from None
        self._check_root(root, url, what)
        return root

    def _check_root(self, root: etree._Element, url: str, what: str) -> None:
        if _local(root.tag) != "OAI-PMH":
            raise OaiResponseError(
                f"the answer to {what} is not an OAI-PMH response (its root element is <{_local(root.tag)}>); "
                "check the base URL",
                url=url,
            )
        self._raise_errors(root, url)

    def call(self, verb: str, what: str | None = None, **params: str | None) -> etree._Element:
        """One request; the OAI-PMH root element. Raises the named OaiError the repository answered with."""
        what = what or verb
        query = {"verb": verb, **{k: v for k, v in params.items() if v is not None}}
        body, url = self._fetch(query, what)
        return self._parse(body, url, what)

    def identify(self) -> Identify:
        el = self.call("Identify").find("{*}Identify")
        if el is None:
            raise OaiResponseError("the Identify answer has no <Identify> element", url=self.base_url)

        def get(name: str) -> str | None:
            return xmlsafe.text_of(el.find("{*}" + name))

        return Identify(
            repository_name=get("repositoryName"),
            base_url=get("baseURL"),
            protocol_version=get("protocolVersion"),
            granularity=get("granularity"),
            deleted_record=get("deletedRecord"),
            earliest_datestamp=get("earliestDatestamp"),
        )

    def list_metadata_formats(self, identifier: str | None = None) -> list[MetadataFormat]:
        root = self.call("ListMetadataFormats", identifier=identifier)
        return [
            MetadataFormat(
                prefix=xmlsafe.text_of(f.find("{*}metadataPrefix")) or "",
                schema=xmlsafe.text_of(f.find("{*}schema")),
                namespace=xmlsafe.text_of(f.find("{*}metadataNamespace")),
            )
            for f in root.iterfind("{*}ListMetadataFormats/{*}metadataFormat")
        ]

    def list_sets(self) -> Iterator[OaiSet]:
        """Every set, following resumption tokens; nothing if the repository has no sets."""
        token: str | None = None
        seen: set[str] = set()
        page = 0
        while True:
            page += 1
            try:
                root = self.call("ListSets", f"ListSets page {page}", resumptionToken=token)
            except NoSetHierarchy:
                return
            container = root.find("{*}ListSets")
            if container is None:
                return
            for s in container.iterfind("{*}set"):
                spec = xmlsafe.text_of(s.find("{*}setSpec"))
                if spec:
                    yield OaiSet(spec=spec, name=xmlsafe.text_of(s.find("{*}setName")))
            tok = _token(container.find("{*}resumptionToken"))
            token = tok.value if tok else None
            if not token or token in seen:
                return
            seen.add(token)

    def list_records(
        self,
        *,
        metadata_prefix: str | None = None,
        set_spec: str | None = None,
        from_: str | None = None,
        until: str | None = None,
        resumption_token: str | None = None,
        page: int = 1,
    ) -> OaiPage:
        """One page of ListRecords. A page that is not well-formed is read record by record."""
        what = f"ListRecords page {page}"
        if resumption_token:
            params = {"verb": "ListRecords", "resumptionToken": resumption_token}
        else:
            params = {"verb": "ListRecords", "metadataPrefix": metadata_prefix or "oai_dc"}
            for key, value in (("set", set_spec), ("from", from_), ("until", until)):
                if value:
                    params[key] = value
        body, url = self._fetch(params, what)
        try:
            root = xmlsafe.parse(body, f"the answer to {what}")
        except xmlsafe.UnsafeXML as err:
            raise OaiResponseError(str(err), url=url) from None
        except xmlsafe.BadXML as err:
            log.warning("%s; reading its records one by one", err, extra={"url": url, "page": page})
            return _salvage(body, page, url, self.max_record_bytes, str(err))
        self._check_root(root, url, what)
        result = OaiPage(number=page, url=url, response_date=xmlsafe.text_of(root.find("{*}responseDate")))
        container = root.find("{*}ListRecords")
        if container is None:
            return result  # some servers answer an empty list this way instead of noRecordsMatch
        for i, el in enumerate(container.iterfind("{*}record"), 1):
            item = _read_record(el, f"page {page}, record {i}")
            (result.problems if isinstance(item, Quarantine) else result.records).append(item)
        result.token = _token(container.find("{*}resumptionToken"))
        return result


# -- the connector -------------------------------------------------------------------------


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


class OaiPmhConnector(Connector):
    name = "oai-pmh"
    Options = OaiPmhOptions
    description = (
        "OAI-PMH repositories (DSpace, EPrints, OJS, Zenodo, Dataverse): ListRecords, incremental by datestamp"
    )
    options: OaiPmhOptions

    @property
    def payload_format(self) -> str:
        return self.options.format or FORMATS.get(self.options.metadata_prefix.lower(), self.options.metadata_prefix)

    _prefetch: PagePrefetch[OaiPage] | None = None
    prefetched = 0  # pages of the last harvest that were ready when asked for

    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        with PoliteClient(self.source.id, self.policy, stop=self.stop) as http:
            # A partner that sets no delay between requests gets the next one while we store a page.
            self._prefetch = PagePrefetch() if self.policy.delay_seconds == 0 else None
            ended_well = False
            try:
                yield from self._harvest(OaiClient(self.options.url, http), since, checkpoint)
                ended_well = True
            finally:
                if self._prefetch is not None:
                    self._prefetch.close(wait=ended_well)  # a stop must not wait for a hanging partner
                    self.prefetched = self._prefetch.hits
                    self._prefetch = None

    def _harvest(
        self, client: OaiClient, since: datetime | None, checkpoint: dict[str, Any] | None
    ) -> Iterator[HarvestItem]:
        if checkpoint and "set_index" in checkpoint:
            state = dict(checkpoint)
        else:
            state = {"set_index": 0, "token": None, "from": self._from(client, since), "page": 0, "restarted": False}
        # The next incremental window: the server's clock at our first page, the newest datestamp seen.
        state.setdefault("response_date", None)
        # A checkpoint from before counts were kept: the count for this list is unknown.
        state.setdefault("listed", None if state.get("token") else 0)
        state.setdefault("newest", (self.previous_state or {}).get("newest"))
        sets: list[str | None] = list(self.options.sets) or [None]
        while state["set_index"] < len(sets):
            yield from self._harvest_set(client, sets[state["set_index"]], state)
            state.update(
                set_index=state["set_index"] + 1, token=None, prev_token=None, restarted=False, listed=0, size=None
            )
            yield Checkpoint(dict(state))

    def _fail(self, message: str) -> HarvestFailed:
        return HarvestFailed(self.source.id, message)

    def _from(self, client: OaiClient, since: datetime | None) -> str | None:
        """The `from` argument: the earliest of `since`, the last run's responseDate and its newest
        datestamp, minus the overlap (at least one unit of the repository's granularity)."""
        if since is None:
            return None
        granularity = self.options.granularity
        if granularity == "auto":
            try:
                info = client.identify()
                granularity = "seconds" if info.granularity == SECONDS else "day"
                log.info(
                    "repository %r: granularity %s, deleted records %s",
                    info.repository_name,
                    info.granularity,
                    info.deleted_record,
                    extra={"source": self.source.id},
                )
            except (OaiError, OaiResponseError, PartnerError) as err:  # ListRecords will say if it is worse
                log.warning("Identify failed (%s); using day granularity", err, extra={"source": self.source.id})
                granularity = "day"
        start = since.astimezone(UTC)
        previous = self.previous_state or {}
        for key in ("response_date", "newest"):
            stamp = parse_datestamp(previous.get(key))
            if stamp is not None and stamp < start:
                start = stamp
        unit = timedelta(seconds=1) if granularity == "seconds" else timedelta(days=1)
        start -= max(unit, timedelta(seconds=self.policy.incremental_overlap_seconds))
        if granularity == "seconds":
            return start.strftime("%Y-%m-%dT%H:%M:%SZ")
        return start.strftime("%Y-%m-%d")

    def _request(
        self, client: OaiClient, set_spec: str | None, state: dict[str, Any], token: str | None, number: int
    ) -> OaiPage:
        if token:
            args: dict[str, str | None] = {"resumption_token": token}
        else:
            args = {"metadata_prefix": self.options.metadata_prefix, "set_spec": set_spec, "from_": state["from"]}
        if self._prefetch is None:
            return self._page(client, args, number)
        return self._prefetch.get((tuple(args.items()), number), lambda: self._page(client, args, number))

    def _page(self, client: OaiClient, args: dict[str, str | None], number: int) -> OaiPage:
        """One page, fetched and read, its payloads cut out (in the prefetch thread when there is one)."""
        page = client.list_records(**args, page=number)
        page.items = [self._raw(rec, number) for rec in page.records]
        return page

    def _prefetch_next(self, client: OaiClient, page: OaiPage, number: int, seen_tokens: set[str]) -> None:
        token = page.next_token
        if self._prefetch is None or token is None or token in seen_tokens:
            return
        args: dict[str, str | None] = {"resumption_token": token}
        self._prefetch.ahead((tuple(args.items()), number + 1), lambda: self._page(client, args, number + 1))

    def _damage(self, page: OaiPage, state: dict[str, Any]) -> str | None:
        """Why this page cannot be trusted as it is, or None."""
        if page.cut:
            return f"the answer was cut off ({page.error})"
        size = page.token.complete_list_size if page.token else None
        size = size if size is not None else state.get("size")
        if state.get("listed") is None:
            return None
        listed = state["listed"] + len(page.records) + len(page.problems)
        if page.next_token is None and size is not None and listed != size and not page.salvaged:
            return (
                f"the list ended after {listed} records but the server announced completeListSize {size} "
                "(a resumption token missing or cut, or records left out)"
            )
        return None

    def _fetch(
        self,
        client: OaiClient,
        set_spec: str | None,
        state: dict[str, Any],
        number: int,
        where: str,
        seen_tokens: set[str],
    ) -> OaiPage:
        """One page, fetched again with backoff while it is damaged. HarvestIncomplete if it stays damaged.

        A page that is not well-formed but whole, and comes back byte for byte the same, is a
        broken record at the partner, not a damaged transfer: its records are read one by one.
        """
        retries = self.policy.damage_retries
        previous_digest = None
        for attempt in range(retries + 1):
            try:
                page = self._request(client, set_spec, state, state["token"], number)
                damage = self._damage(page, state)
            except DamagedPage as err:
                page, damage = None, err.message
            if damage is None and page is not None and page.next_token in seen_tokens and attempt < retries:
                # A token cut short in transfer can equal one seen before; a real loop repeats when asked again.
                damage = f"its resumption token {page.next_token!r} was already used in this list"
            if damage is None and page is not None and page.salvaged and not page.cut:
                if page.digest == previous_digest:
                    return page
                damage = f"the page is not well-formed ({page.error})"
                previous_digest = page.digest
            elif damage is None:
                return page
            if attempt < retries:
                pause = client.http._backoff(attempt)
                log.warning(
                    "page %s%s is damaged (%s); fetching it again in %.1f s (%s of %s)",
                    number,
                    where,
                    damage,
                    pause,
                    attempt + 1,
                    retries,
                    extra={"source": self.source.id, "page": number},
                )
                client.http._sleep(pause)
        raise HarvestIncomplete(
            self.source.id, (f"page {number}{where} stayed damaged after {retries} retries: {damage}")
        )

    def _end_confirmed(
        self, client: OaiClient, set_spec: str | None, state: dict[str, Any], page: OaiPage, number: int
    ) -> OaiPage:
        """A list that ends without a completeListSize to check: ask for the last page once more.

        A token lost in transfer looks exactly like the end of the list; a second answer with the
        same records and a token shows it was not.
        """
        if self.policy.damage_retries == 0 or page.salvaged:
            return page
        try:
            again = self._request(client, set_spec, state, state["token"], number)
        except (OaiResponseError, OaiError, PartnerError):
            return page  # the first answer was whole; a failing second one proves nothing
        if (
            again.next_token
            and not again.salvaged
            and [r.identifier for r in again.records] == [r.identifier for r in page.records]
        ):
            log.warning(
                "page %s first came without a resumption token, then with one; going on",
                number,
                extra={"source": self.source.id, "page": number},
            )
            return again
        return page

    def _harvest_set(self, client: OaiClient, set_spec: str | None, state: dict[str, Any]) -> Iterator[HarvestItem]:
        where = f" in set {set_spec!r}" if set_spec else ""
        seen_tokens: set[str] = {state["token"]} if state["token"] else set()
        seen_ids: set[int] = set()  # hashes of identifiers listed in this run (since a resume)
        empty_pages = stale_pages = 0
        state.setdefault("size", None)
        while True:
            number = state["page"] + 1
            if number > self.policy.max_pages:
                raise self._fail(
                    f"the listing{where} reached max_pages ({self.policy.max_pages}) without ending; "
                    "stopping (raise harvest.max_pages if the repository is really this large)"
                )
            try:
                page = self._fetch(client, set_spec, state, number, where, seen_tokens)
                if (
                    page.next_token is None
                    and state.get("size") is None
                    and (page.token is None or page.token.complete_list_size is None)
                ):
                    page = self._end_confirmed(client, set_spec, state, page, number)
            except NoRecordsMatch:
                return
            except BadResumptionToken as err:
                fresh = self._fresh_token(client, set_spec, state, number - 1)
                if fresh is not None and fresh != state["token"]:
                    log.warning(
                        "resumption token %r rejected (%s); page %s gave %r when asked again",
                        state["token"],
                        err.message,
                        number - 1,
                        fresh,
                        extra={"source": self.source.id},
                    )
                    state["token"] = fresh
                    seen_tokens.add(fresh)
                    continue
                if state["restarted"]:  # a token expired or cut, asked again and again: the list is broken
                    raise HarvestIncomplete(
                        self.source.id,
                        (
                            f"page {number}{where}: the repository rejected its own resumption token again after a "
                            f"restart: {err.describe()}"
                        ),
                    ) from None
                log.warning(
                    "resumption token rejected (%s); restarting the list%s from %s once",
                    err.message,
                    where,
                    state["from"] or "the beginning",
                    extra={"source": self.source.id},
                )
                state.update(token=None, prev_token=None, restarted=True, listed=0, size=None)
                seen_tokens.clear()
                seen_ids.clear()
                empty_pages = stale_pages = 0
                continue
            except OaiError as err:
                raise self._fail(err.describe()) from None
            except OaiResponseError as err:
                raise self._fail(err.message) from None
            state["page"] = number
            if page.response_date and not state.get("response_date"):
                state["response_date"] = page.response_date
            new_ids = 0
            for rec in page.records:
                key = hash(rec.identifier)
                if key not in seen_ids:
                    seen_ids.add(key)
                    new_ids += 1
                if rec.datestamp and (state.get("newest") is None or rec.datestamp > state["newest"]):
                    state["newest"] = rec.datestamp
            if new_ids:  # a page that cannot end the run early (empty, stale) has the next one fetched now
                self._prefetch_next(client, page, number, seen_tokens)
            yield from page.items if page.items is not None else (self._raw(rec, number) for rec in page.records)
            yield from page.problems
            if page.salvaged and any(not q.local_id for q in page.problems):
                state[UNTRUSTED] = [
                    *state.get(UNTRUSTED, [])[:9],
                    f"page {number}{where} had records without a readable identifier",
                ]
            if state["listed"] is not None:
                state["listed"] += len(page.records) + len(page.problems)
            if page.token and page.token.complete_list_size is not None:
                state["size"] = page.token.complete_list_size
            self._check_overrun(state, number, where)
            token = page.next_token
            if token is None:
                return
            if not page.records and not page.problems:
                empty_pages += 1
                log.info(
                    "page %s has no records but a resumption token (%s in a row)",
                    number,
                    empty_pages,
                    extra={"source": self.source.id, "page": number},
                )
                if empty_pages >= self.options.max_empty_pages:
                    raise self._fail(
                        f"the repository sent {empty_pages} pages in a row with no records but a resumption "
                        f"token{where}; stopping (last token {token!r}, page {number})"
                    )
            else:
                empty_pages = 0
            stale_pages = 0 if new_ids else stale_pages + 1
            if stale_pages >= self.policy.max_pages_without_new:
                raise self._fail(
                    f"the repository sent {stale_pages} pages in a row{where} with no record not already listed "
                    f"in this run (up to page {number}); its resumption tokens go round in a circle, so the "
                    "harvest stops here"
                )
            if token in seen_tokens:
                raise self._fail(
                    f"the repository sent the resumption token {token!r} a second time{where} (page {number}); "
                    "the list would never end, so the harvest stops here"
                )
            seen_tokens.add(token)
            state["prev_token"] = state["token"]
            state["token"] = token
            yield Checkpoint(dict(state))

    def _check_overrun(self, state: dict[str, Any], number: int, where: str) -> None:
        size = state.get("size")
        if size is None or state.get("listed") is None:
            return
        allowed = size + max(10, int(size * self.policy.list_size_margin))
        if state["listed"] > allowed:
            raise self._fail(
                f"the repository sent {state['listed']} records{where} by page {number}, more than its "
                f"completeListSize of {size} allows (list_size_margin {self.policy.list_size_margin:g}); "
                "the list would not end, so the harvest stops here"
            )

    def _fresh_token(self, client: OaiClient, set_spec: str | None, state: dict[str, Any], number: int) -> str | None:
        """Ask again for the page that gave a rejected token: a token cut in transfer comes back whole."""
        for attempt in range(self.policy.damage_retries if number >= 1 else 0):
            try:
                page = self._request(client, set_spec, state, state.get("prev_token"), number)
            except (OaiResponseError, OaiError, PartnerError):
                page = None
            if page is not None and not page.salvaged and page.next_token and page.next_token != state["token"]:
                return page.next_token
            client.http._sleep(client.http._backoff(attempt))
        return None

    def _raw(self, rec: OaiRecord, page: int) -> RawRecord | Quarantine:
        fmt = self.payload_format
        if rec.deleted:
            return RawRecord(
                local_id=rec.identifier,
                format=fmt,
                payload=xmlsafe.serialize(rec.header),
                datestamp=rec.datestamp,
                deleted=True,
                sets=rec.sets,
            )
        if self.options.payload == "record":
            payload = xmlsafe.serialize(rec.element)
        else:
            meta = rec.metadata
            if meta is None:
                return Quarantine(
                    reason="the record has no metadata (and is not marked deleted)",
                    local_id=rec.identifier,
                    payload=xmlsafe.serialize(rec.element),
                    location=f"page {page}",
                )
            if fmt == "marcxml" and _local(meta.tag) == "collection":
                inner = [c for c in meta if _local(c.tag) == "record"]
                if len(inner) == 1:
                    meta = inner[0]
            payload = xmlsafe.serialize(meta)
        return RawRecord(local_id=rec.identifier, format=fmt, payload=payload, datestamp=rec.datestamp, sets=rec.sets)
