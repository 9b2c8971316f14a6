"""The sample repository: pyoai's OAI-PMH server over the corpus's oai/records.xml.

The protocol (verbs, arguments, errors, resumption tokens, the envelope) is
pyoai's own server code (`oaipmh.server.BatchingServer`); this module only
gives it the records. records.xml holds one OAI <record> per line; at start
the lines' headers are indexed by datestamp, so a page of ListRecords is a
bisect and a few reads, and a 100k-record repository starts in a second.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
import types
import warnings
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from urllib.parse import parse_qs, parse_qsl, urlsplit

from lxml import etree

from fedsearch_app.demo.served import LocalHTTPServer

with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # pyoai imports cgi and pkg_resources, both deprecated
    from oaipmh import common, error, metadata
    from oaipmh import server as _pyoai_server
    from oaipmh.server import BatchingServer

# pyoai 2.5.0 (the last release) decodes resumption tokens with cgi.parse_qs, which
# Python 3.8 removed; the fix (infrae/pyoai#46) is merged but unreleased. Same call, new home.
if not hasattr(_pyoai_server.cgi, "parse_qs"):
    _pyoai_server.cgi = types.SimpleNamespace(parse_qs=parse_qs)

log = logging.getLogger("fedsearch_app.demo.oai")

PAGE_SIZE = 100
_HEADER_RE = re.compile(
    rb"<identifier>([^<]+)</identifier><datestamp>([^<]+)</datestamp>((?:<setSpec>[^<]+</setSpec>)*)"
)
_SET_RE = re.compile(rb"<setSpec>([^<]+)</setSpec>")
_DC = "{http://www.openarchives.org/OAI/2.0/oai_dc/}dc"


def _stamp(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class _Entry:
    datestamp: datetime
    identifier: str
    sets: tuple[str, ...]
    offset: int
    length: int


class RecordFile:
    """The repository's records: an index of records.xml by datestamp, read on demand."""

    def __init__(self, path: Path):
        self.path = Path(path)
        entries: list[_Entry] = []
        offset = 0
        with open(self.path, "rb") as f:
            for line in f:
                if line.startswith(b"<record "):
                    m = _HEADER_RE.search(line)
                    if m is None:
                        raise ValueError(f"{self.path}: a record line without an OAI header at byte {offset}")
                    sets = tuple(s.decode() for s in _SET_RE.findall(m.group(3)))
                    entries.append(_Entry(_stamp(m.group(2).decode()), m.group(1).decode(), sets, offset, len(line)))
                offset += len(line)
        entries.sort(key=lambda e: (e.datestamp, e.identifier))
        self.entries = entries
        self.stamps = [e.datestamp for e in entries]
        self.by_id = {e.identifier: e for e in entries}
        self.sets = sorted({s for e in entries for s in e.sets})
        self._lock = threading.Lock()
        self._file = open(self.path, "rb")

    def __len__(self) -> int:
        return len(self.entries)

    def read(self, entry: _Entry) -> bytes:
        with self._lock:
            self._file.seek(entry.offset)
            return self._file.read(entry.length)

    def select(self, from_: datetime | None, until: datetime | None, set_spec: str | None) -> list[_Entry]:
        lo = bisect.bisect_left(self.stamps, from_) if from_ else 0
        hi = bisect.bisect_right(self.stamps, until) if until else len(self.stamps)
        chosen = self.entries[lo:hi]
        if set_spec:
            chosen = [e for e in chosen if set_spec in e.sets or any(s.startswith(set_spec + ":") for s in e.sets)]
        return chosen

    def close(self) -> None:
        self._file.close()


class Repository:
    """pyoai's IBatchingOAI interface over a RecordFile."""

    def __init__(self, records: RecordFile, base_url: str, name: str):
        self.records = records
        self._identify = common.Identify(
            repositoryName=name,
            baseURL=base_url,
            protocolVersion="2.0",
            adminEmails=["repository@demo.kg"],
            earliestDatestamp=records.stamps[0] if records.stamps else datetime(2000, 1, 1),
            deletedRecord="no",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )
        self._selection_cache: tuple[tuple, list[_Entry]] | None = None

    def identify(self) -> common.Identify:
        return self._identify

    def listMetadataFormats(self, identifier: str | None = None):
        if identifier is not None and identifier not in self.records.by_id:
            raise error.IdDoesNotExistError(f"no record {identifier}")
        return [
            ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/")
        ]

    def listSets(self, cursor: int = 0, batch_size: int = 10):
        return [(s, s.removeprefix("col_").capitalize(), None) for s in self.records.sets][cursor : cursor + batch_size]

    def _check_prefix(self, metadataPrefix: str) -> None:
        if metadataPrefix != "oai_dc":
            raise error.CannotDisseminateFormatError(f"this repository serves oai_dc, not {metadataPrefix}")

    def _selection(self, from_, until, set) -> list[_Entry]:
        key = (from_, until, set)
        if self._selection_cache and self._selection_cache[0] == key:
            return self._selection_cache[1]
        chosen = self.records.select(from_, until, set)
        self._selection_cache = (key, chosen)
        return chosen

    def _header(self, entry: _Entry) -> common.Header:
        return common.Header(None, entry.identifier, entry.datestamp, list(entry.sets), False)

    def listIdentifiers(self, metadataPrefix, set=None, from_=None, until=None, cursor=0, batch_size=10):
        self._check_prefix(metadataPrefix)
        return [self._header(e) for e in self._selection(from_, until, set)[cursor : cursor + batch_size]]

    def listRecords(self, metadataPrefix, set=None, from_=None, until=None, cursor=0, batch_size=10):
        self._check_prefix(metadataPrefix)
        page = self._selection(from_, until, set)[cursor : cursor + batch_size]
        return [(self._header(e), self.records.read(e), None) for e in page]

    def getRecord(self, metadataPrefix, identifier):
        self._check_prefix(metadataPrefix)
        entry = self.records.by_id.get(identifier)
        if entry is None:
            raise error.IdDoesNotExistError(f"no record {identifier}")
        return self._header(entry), self.records.read(entry), None


def _write_oai_dc(element: etree._Element, line: bytes) -> None:
    """pyoai metadata writer: the stored oai_dc:dc element, as the corpus wrote it."""
    record = etree.fromstring(line)
    element.append(next(record.iter(_DC)))


class OaiPmhPartner:
    """An OAI-PMH endpoint at http://127.0.0.1:PORT/oai, served from a thread."""

    def __init__(
        self, records_path: Path, port: int = 0, name: str = "Demo repository (fedsearch)", page_size: int = PAGE_SIZE
    ):
        self.records = RecordFile(records_path)
        self.http = LocalHTTPServer(_handler(self), port, name="demo-oai")
        self.port = self.http.port
        self.url = f"http://127.0.0.1:{self.port}/oai"
        registry = metadata.MetadataRegistry()
        registry.registerWriter("oai_dc", _write_oai_dc)
        self.server = BatchingServer(
            Repository(self.records, self.url, name),
            metadata_registry=registry,
            nsmap={"oai_dc": "http://www.openarchives.org/OAI/2.0/oai_dc/", "dc": "http://purl.org/dc/elements/1.1/"},
            resumption_batch_size=page_size,
        )

    def start(self) -> OaiPmhPartner:
        self.http.start()
        return self

    def stop(self) -> None:
        self.http.stop()
        self.records.close()


def _handler(partner: OaiPmhPartner) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self, query: str) -> None:
            if urlsplit(self.path).path.rstrip("/") != "/oai":
                self.send_error(404, "the OAI-PMH endpoint is /oai")
                return
            args: dict[str, str] = {}
            repeated = False
            for key, value in parse_qsl(query, keep_blank_values=True):
                repeated = repeated or key in args
                args[key] = value
            server = partner.server
            if repeated:
                body = server.handleException(
                    args, (error.BadArgumentError, error.BadArgumentError("an argument is repeated"), None)
                )
            else:
                body = server.handleRequest(args)
            self.send_response(200)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            self._answer(urlsplit(self.path).query)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(length).decode("utf-8", "replace"))

        def log_message(self, format: str, *args) -> None:  # quiet: the demo's console shows progress
            log.debug("%s " + format, self.address_string(), *args)  # noqa: G003 - http.server's own format

    return Handler
