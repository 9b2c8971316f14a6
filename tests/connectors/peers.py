"""Real partner servers for the connector tests, all on 127.0.0.1.

- `LocalHTTPServer`: http.server in a thread; a function decides each answer.
- `HangingServer`: a socket server that sends headers and half a body, then says nothing.
- `OaiPeer`: pyoai's OAI-PMH data provider (oaipmh.server) over records we can add, change, delete.
- `ZebraPeer`: Index Data's Zebra (zebraidx + zebrasrv) serving MARCXML over SRU.
"""

from __future__ import annotations

import os
import random
import re
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lxml import etree

from tests.net import AcceptLoop, free_port


@dataclass
class Request:
    path: str
    params: dict[str, str]
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Reply:
    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "text/xml; charset=utf-8"})
    delay: float = 0.0  # seconds to wait before answering


App = Callable[[Request], Reply]


class LocalHTTPServer:
    """Serves `app(request) -> Reply` on a free 127.0.0.1 port, in a daemon thread."""

    def __init__(self, app: App):
        self.app = app
        self.requests: list[Request] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parsed = urllib.parse.urlsplit(self.path)
                req = Request(
                    parsed.path,
                    {k: v[0] for k, v in urllib.parse.parse_qs(parsed.query).items()},
                    dict(self.headers.items()),
                )
                outer.requests.append(req)
                reply = outer.app(req)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def __enter__(self) -> LocalHTTPServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class HangingServer(AcceptLoop):
    """A socket server for a partner that hangs mid-response.

    The first requests get the complete answers in `answers`; every later one gets the
    headers and half of the promised body, then nothing while the socket stays open.
    With `trickle`, it instead sends one byte every `trickle` seconds, forever.
    """

    def __init__(
        self,
        answers: Iterable[bytes] = (),
        *,
        trickle: float | None = None,
        half: bytes = b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords>',
    ):
        super().__init__()
        self.answers = list(answers)
        self.trickle = trickle
        self.half = half
        self.requests = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/oai"

    def on_connect(self, conn: socket.socket) -> None:
        self.requests += 1
        answer = self.answers.pop(0) if self.answers else None
        threading.Thread(target=self._answer, args=(conn, answer), daemon=True).start()

    def _answer(self, conn: socket.socket, answer: bytes | None) -> None:
        with conn:
            conn.recv(65536)
            if answer is not None:
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n"
                    + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                    + answer
                )
                return
            promised = len(self.half) * 2 if self.trickle is None else 10**9
            conn.sendall(
                b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\n"
                + f"Content-Length: {promised}\r\n\r\n".encode()
                + self.half
            )
            if self.trickle is None:
                self.done.wait(60)
                return
            try:
                while not self.done.wait(self.trickle):
                    conn.sendall(b" ")
            except OSError:
                pass

    def __enter__(self) -> HangingServer:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


# -- OAI-PMH: pyoai's data provider ---------------------------------------------------------


class _OaiBackend:
    """pyoai's IBatchingOAI over an in-memory, ordered set of records."""

    def __init__(self, peer: OaiPeer):
        self.peer = peer

    def identify(self):
        from oaipmh import common

        return common.Identify(
            repositoryName="fedsearch test repository",
            baseURL=self.peer.url,
            protocolVersion="2.0",
            adminEmails=["admin@example.kg"],
            earliestDatestamp=datetime(2000, 1, 1),
            deletedRecord="persistent",
            granularity="YYYY-MM-DDThh:mm:ssZ",
            compression=["identity"],
        )

    def listMetadataFormats(self, identifier=None):
        return [
            ("oai_dc", "http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/")
        ]

    def listSets(self, cursor=0, batch_size=10):
        return [("theses", "Theses", None), ("articles", "Articles", None)][cursor : cursor + batch_size]

    def _selected(self, set=None, from_=None, until=None):
        with self.peer.lock:
            rows = list(self.peer.records.values())
        out = []
        for header, metadata in rows:
            if from_ is not None and header.datestamp() < from_:
                continue
            if until is not None and header.datestamp() > until:
                continue
            if set is not None and set not in header.setSpec():
                continue
            out.append((header, metadata, None))
        return out

    def listRecords(self, metadataPrefix=None, set=None, from_=None, until=None, cursor=0, batch_size=10):
        return self._selected(set, from_, until)[cursor : cursor + batch_size]

    def listIdentifiers(self, metadataPrefix=None, set=None, from_=None, until=None, cursor=0, batch_size=10):
        return [h for h, _, _ in self._selected(set, from_, until)][cursor : cursor + batch_size]

    def getRecord(self, metadataPrefix, identifier):
        from oaipmh import error

        with self.peer.lock:
            if identifier not in self.peer.records:
                raise error.IdDoesNotExistError(identifier)
            header, metadata = self.peer.records[identifier]
        return header, metadata, None


def _utc_naive_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def pyoai_token_fix(monkeypatch) -> None:
    """pyoai 2.5 decodes resumption tokens with cgi.parse_qs, which Python 3.8 removed (urllib.parse has it)."""
    import types

    from oaipmh import server

    monkeypatch.setattr(server, "cgi", types.SimpleNamespace(parse_qs=urllib.parse.parse_qs))


class OaiPeer:
    """A pyoai OAI-PMH data provider over HTTP. Records are oai_dc; ids are oai:test:N."""

    def __init__(self, count: int = 0, batch_size: int = 10, page_delay: float = 0.0):
        from oaipmh import metadata, server

        self.lock = threading.Lock()
        self.records: dict[str, tuple] = {}
        self.page_delay = page_delay
        registry = metadata.MetadataRegistry()
        registry.registerWriter("oai_dc", server.oai_dc_writer)
        self.server = server.BatchingServer(
            _OaiBackend(self), metadata_registry=registry, resumption_batch_size=batch_size
        )
        self.http = LocalHTTPServer(self._answer)
        for i in range(1, count + 1):
            self.put(i, datestamp=datetime(2020, 1, 1) + (datetime(2020, 1, 2) - datetime(2020, 1, 1)) * (i % 300))

    @property
    def url(self) -> str:
        return self.http.url + "/oai"

    def _answer(self, req: Request) -> Reply:
        body = self.server.handleRequest(dict(req.params))
        return Reply(body=body, delay=self.page_delay if req.params.get("verb") == "ListRecords" else 0.0)

    def put(
        self, n: int, title: str | None = None, *, datestamp: datetime | None = None, sets: Iterable[str] = ("theses",)
    ) -> str:
        """Add or change record n (datestamp now, unless given)."""
        from oaipmh import common

        ident = f"oai:test:{n}"
        header = common.Header(None, ident, datestamp or _utc_naive_now(), list(sets), False)
        md = common.Metadata(
            None,
            {
                "title": [title or f"Кыргыз тили жана адабияты {n}"],
                "creator": [f"Автор {n}", "Aitmatov, Chingiz"],
                "date": ["2019"],
                "identifier": [f"https://repository.example.kg/handle/123/{n}"],
                "language": ["ky"],
            },
        )
        with self.lock:
            self.records[ident] = (header, md)
        return ident

    def delete(self, n: int) -> str:
        from oaipmh import common

        ident = f"oai:test:{n}"
        with self.lock:
            old, md = self.records[ident]
            self.records[ident] = (common.Header(None, ident, _utc_naive_now(), old.setSpec(), True), md)
        return ident

    def live_ids(self) -> set[str]:
        with self.lock:
            return {k for k, (h, _) in self.records.items() if not h.isDeleted()}

    def __enter__(self) -> OaiPeer:
        self.http.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.http.__exit__(*exc)


# -- SRU: Index Data's Zebra ---------------------------------------------------------------------

MARC_NS = "http://www.loc.gov/MARC21/slim"

_ZEBRA_CFG = """\
profilePath: .:/usr/share/idzebra-2.0/tab
modulePath: {modules}
attset: bib1.att
attset: explain.att
recordType: dom.dom-config.xml
register: ./reg:50M
shadow: ./shadow:50M
lockDir: ./lock
keyTmpDir: ./tmp
"""

_DOM_CONFIG = """\
<dom xmlns="http://indexdata.com/zebra-2.0">
  <input syntax="xml"><xmlreader level="1"/></input>
  <extract name="index"><xslt stylesheet="index.xsl"/></extract>
  <retrieve name="marcxml"><xslt stylesheet="identity.xsl"/></retrieve>
  <retrieve name="dc"><xslt stylesheet="dc.xsl"/></retrieve>
</dom>
"""

# Index title and any words; the record id is MARC 001, so an update replaces the record.
_INDEX_XSL = """\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:m="http://www.loc.gov/MARC21/slim" xmlns:z="http://indexdata.com/zebra-2.0">
  <xsl:output indent="yes" method="xml" encoding="UTF-8"/>
  <xsl:template match="text()"/>
  <xsl:template match="/m:record">
    <z:record z:id="{m:controlfield[@tag='001']}" z:type="update">
      <z:index name="title:w"><xsl:value-of select="m:datafield[@tag='245']/m:subfield[@code='a']"/></z:index>
      <z:index name="any:w"><xsl:value-of select="."/></z:index>
    </z:record>
  </xsl:template>
</xsl:stylesheet>
"""

_IDENTITY_XSL = """\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:template match="node()|@*"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>
</xsl:stylesheet>
"""

_DC_XSL = """\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:m="http://www.loc.gov/MARC21/slim" xmlns:srw_dc="info:srw/schema/1/dc-schema"
    xmlns:dc="http://purl.org/dc/elements/1.1/">
  <xsl:output method="xml" encoding="UTF-8"/>
  <xsl:template match="/m:record">
    <srw_dc:dc>
      <dc:title><xsl:value-of select="m:datafield[@tag='245']/m:subfield[@code='a']"/></dc:title>
      <dc:creator><xsl:value-of select="m:datafield[@tag='100']/m:subfield[@code='a']"/></dc:creator>
      <dc:identifier><xsl:value-of select="m:controlfield[@tag='001']"/></dc:identifier>
    </srw_dc:dc>
  </xsl:template>
</xsl:stylesheet>
"""

# CQL -> Z39.50 attributes for the CQL the tests use (after YAZ's etc/pqf.properties).
_CQL2PQF = """\
set.cql = info:srw/cql-context-set/1/cql-v1.2
set.dc = info:srw/cql-context-set/1/dc-v1.1
set = info:srw/cql-context-set/1/dc-v1.1
index.cql.serverChoice = 1=1016
index.cql.allRecords = 1=_ALLRECORDS 2=103
index.dc.title = 1=4
index.dc.creator = 1=1003
relation.< = 2=1
relation.le = 2=2
relation.eq = 2=3
relation.exact = 2=3
relation.ge = 2=4
relation.> = 2=5
relation.<> = 2=6
relation.all = 4=6
relation.any = 4=105
relation.scr = 2=3
position.any = 3=3 6=1
structure.exact = 4=108
structure.all = 4=2
structure.any = 4=2
structure.* = 4=1
truncation.right = 5=1
truncation.none = 5=100
always = 6=1
"""

_YAZGFS = """\
<yazgfs>
  <listen id="public">tcp:127.0.0.1:{port}</listen>
  <server id="zebra" listenref="public">
    <config>zebra.cfg</config>
    <cql2rpn>pqf.properties</cql2rpn>
  </server>
</yazgfs>
"""


def marcxml_record(local_id: str, title: str, author: str = "Айтматов, Чыңгыз") -> bytes:
    rec = etree.Element(f"{{{MARC_NS}}}record", nsmap={None: MARC_NS})
    etree.SubElement(rec, f"{{{MARC_NS}}}leader").text = "00000nam a2200000 a 4500"
    etree.SubElement(rec, f"{{{MARC_NS}}}controlfield", tag="001").text = local_id
    for tag, ind, value in (("100", "1 ", author), ("245", "10", title)):
        df = etree.SubElement(rec, f"{{{MARC_NS}}}datafield", tag=tag, ind1=ind[0], ind2=ind[1])
        etree.SubElement(df, f"{{{MARC_NS}}}subfield", code="a").text = value
    return etree.tostring(rec, encoding="utf-8")


def zebra_modules_dir() -> str:
    for candidate in (
        "/usr/lib/x86_64-linux-gnu/idzebra-2.0/modules",
        "/usr/lib/aarch64-linux-gnu/idzebra-2.0/modules",
        "/usr/lib/idzebra-2.0/modules",
        "/usr/local/lib/idzebra-2.0/modules",
    ):
        if os.path.isfile(os.path.join(candidate, "mod-dom.so")):
            return candidate
    raise RuntimeError("Zebra's dom filter (mod-dom.so) is not installed: apt-get install idzebra-2.0")


class ZebraPeer:
    """A Zebra database of MARCXML records, served over SRU by zebrasrv on a free local port."""

    def __init__(self, workdir: Path):
        for tool in ("zebraidx", "zebrasrv"):
            if shutil.which(tool) is None:
                raise RuntimeError(f"{tool} is not installed: apt-get install idzebra-2.0 yaz")
        self.dir = workdir
        for sub in ("reg", "shadow", "lock", "tmp", "load"):
            (workdir / sub).mkdir(parents=True, exist_ok=True)
        (workdir / "zebra.cfg").write_text(_ZEBRA_CFG.format(modules=zebra_modules_dir()))
        (workdir / "dom-config.xml").write_text(_DOM_CONFIG)
        (workdir / "index.xsl").write_text(_INDEX_XSL)
        (workdir / "identity.xsl").write_text(_IDENTITY_XSL)
        (workdir / "dc.xsl").write_text(_DC_XSL)
        (workdir / "pqf.properties").write_text(_CQL2PQF)
        self.port = free_port()
        (workdir / "yazgfs.xml").write_text(_YAZGFS.format(port=self.port))
        self.proc: subprocess.Popen | None = None
        self._batch = 0
        self._zebraidx("init")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/Default"

    def _zebraidx(self, *args: str) -> None:
        done = subprocess.run(
            ["zebraidx", "-c", "zebra.cfg", *args], cwd=self.dir, capture_output=True, text=True, timeout=120
        )
        if done.returncode != 0:
            raise RuntimeError(f"zebraidx {' '.join(args)} failed: {done.stderr[-2000:]}")

    def _load(self, action: str, records: dict[str, bytes]) -> None:
        self._batch += 1
        folder = self.dir / "load" / f"{self._batch:04d}"
        folder.mkdir()
        (folder / "records.xml").write_bytes(
            b'<collection xmlns="http://www.loc.gov/MARC21/slim">\n'
            + b"\n".join(records.values())
            + b"\n</collection>\n"
        )
        self._zebraidx(action, str(folder))
        self._zebraidx("commit")

    def put(self, records: dict[str, bytes]) -> None:
        """Add or replace records (local id -> MARCXML <record>)."""
        self._load("update", records)

    def delete(self, records: dict[str, bytes]) -> None:
        self._load("delete", records)

    def start(self) -> ZebraPeer:
        log = open(self.dir / "zebrasrv.log", "wb")
        self.proc = subprocess.Popen(
            ["zebrasrv", "-f", "yazgfs.xml"], cwd=self.dir, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"zebrasrv exited: {(self.dir / 'zebrasrv.log').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("zebrasrv did not start listening within 15 s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- faults: a proxy that damages answers, and an OAI-PMH server of our own ------------------------

FAULTS = ("truncate", "garbage", "cut_token", "drop_token")
_TOKEN_EL = re.compile(rb"(<(?:\w+:)?resumptionToken\b[^>]*>)([^<]+)(</(?:\w+:)?resumptionToken>)")


def damage(body: bytes, fault: str, rng: random.Random) -> bytes:
    """`body` with one fault: cut mid-page, garbage bytes inside, its resumption token cut short or gone."""
    if fault == "truncate":
        return body[: rng.randint(len(body) // 4, 3 * len(body) // 4)]
    if fault == "garbage":
        at = rng.randint(len(body) // 4, 3 * len(body) // 4)
        return body[:at] + bytes(rng.choice(b"<&\x00\x01>") for _ in range(rng.randint(3, 12))) + body[at:]
    if fault == "cut_token":
        return _TOKEN_EL.sub(lambda m: m.group(1) + m.group(2)[: max(1, len(m.group(2)) // 2)] + m.group(3), body)
    if fault == "drop_token":
        return _TOKEN_EL.sub(b"", body)
    raise ValueError(f"unknown fault {fault!r}")


class FaultProxy:
    """A real HTTP proxy on 127.0.0.1 in front of `upstream`, damaging some answers (ListRecords by default).

    `plan(n, request) -> fault | None` decides for the n-th ListRecords request (1-based), e.g.
    `FaultProxy.random(0.2, seed=7)` or `FaultProxy.always("truncate", token="...")`.
    """

    def __init__(
        self, upstream: str, plan: Callable[[int, Request], str | None], seed: int = 1, verb: str | None = "ListRecords"
    ):
        self.upstream = upstream.rstrip("/")
        self.verb = verb  # only these requests are damaged (None: every one, e.g. SRU)
        self.plan = plan
        self.rng = random.Random(seed)
        self.listed = 0
        self.injected: list[tuple[int, str]] = []
        self.http = LocalHTTPServer(self._answer)

    @staticmethod
    def random(rate: float, seed: int = 7, faults: Iterable[str] = ("truncate", "garbage", "cut_token")):
        rng = random.Random(seed)
        kinds = list(faults)
        return lambda n, req: rng.choice(kinds) if rng.random() < rate else None

    @property
    def url(self) -> str:
        return self.http.url + "/oai"

    def _answer(self, req: Request) -> Reply:
        query = urllib.parse.urlencode(req.params)
        with urllib.request.urlopen(f"{self.upstream}?{query}", timeout=30) as resp:
            body = resp.read()
        if self.verb is not None and req.params.get("verb") != self.verb:
            return Reply(body=body)
        self.listed += 1
        fault = self.plan(self.listed, req)
        if fault:
            self.injected.append((self.listed, fault))
            body = damage(body, fault, self.rng)
        return Reply(body=body)

    def __enter__(self) -> FaultProxy:
        self.http.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.http.__exit__(*exc)


@dataclass
class ScriptedRecord:
    datestamp: datetime
    title: str
    deleted: bool = False


def oai_stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ScriptedOai:
    """A small OAI-PMH server of the tests' own: ListRecords with completeListSize, Identify, and misbehaviours.

    - `endless`: every page carries a new token, but the records go round the first `cycle` ones;
    - `announce`: the completeListSize it claims (default: the truth);
    - `clock`: its responseDate (default: now), to play a repository whose index lags.
    Records are ids oai:s:N; `from`/`until` select by datestamp (seconds granularity).
    """

    def __init__(self, page_size: int = 10, *, endless: bool = False, cycle: int = 5, announce: int | None = None):
        self.records: dict[str, ScriptedRecord] = {}
        self.page_size = page_size
        self.endless = endless
        self.cycle = cycle
        self.announce = announce
        self.clock: datetime | None = None
        self.lock = threading.Lock()
        self.http = LocalHTTPServer(self._answer)

    @property
    def url(self) -> str:
        return self.http.url + "/oai"

    def put(self, n: int, when: datetime, title: str | None = None, deleted: bool = False) -> None:
        with self.lock:
            self.records[f"oai:s:{n}"] = ScriptedRecord(when, title or f"Scripted record {n}", deleted)

    def _envelope(self, inner: str) -> bytes:
        now = oai_stamp(self.clock or datetime.now(UTC))
        return (
            f'<?xml version="1.0" encoding="UTF-8"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            f"<responseDate>{now}</responseDate><request>{self.url}</request>{inner}</OAI-PMH>"
        ).encode()

    def _record(self, ident: str, rec: ScriptedRecord) -> str:
        status = ' status="deleted"' if rec.deleted else ""
        head = (
            f"<header{status}><identifier>{ident}</identifier>"
            f"<datestamp>{oai_stamp(rec.datestamp)}</datestamp></header>"
        )
        if rec.deleted:
            return f"<record>{head}</record>"
        return (
            f'<record>{head}<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
            f'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>{rec.title}</dc:title></oai_dc:dc>'
            f"</metadata></record>"
        )

    def _answer(self, req: Request) -> Reply:
        verb = req.params.get("verb")
        if verb == "Identify":
            return Reply(
                body=self._envelope(
                    f"<Identify><repositoryName>scripted</repositoryName><baseURL>{self.url}</baseURL>"
                    "<protocolVersion>2.0</protocolVersion><earliestDatestamp>2000-01-01T00:00:00Z</earliestDatestamp>"
                    "<deletedRecord>persistent</deletedRecord><granularity>YYYY-MM-DDThh:mm:ssZ</granularity></Identify>"
                )
            )
        token = req.params.get("resumptionToken")
        if token:
            start, from_ = token.split("|", 1)
            start = int(start)
        else:
            start, from_ = 0, req.params.get("from", "")
        with self.lock:
            rows = sorted(
                (r.datestamp, i, r) for i, r in self.records.items() if not from_ or oai_stamp(r.datestamp) >= from_
            )
        if not rows:
            return Reply(body=self._envelope('<error code="noRecordsMatch">no records match</error>'))
        if self.endless:
            chosen = [rows[(start + k) % min(self.cycle, len(rows))] for k in range(self.page_size)]
            nxt: int | None = start + self.page_size
        else:
            chosen = rows[start : start + self.page_size]
            nxt = start + self.page_size if start + self.page_size < len(rows) else None
        size = self.announce if self.announce is not None else len(rows)
        value = f"{nxt}|{from_}" if nxt is not None else ""
        tok = f'<resumptionToken completeListSize="{size}" cursor="{start}">{value}</resumptionToken>'
        if not token and nxt is None:
            tok = "" if self.announce is None else f'<resumptionToken completeListSize="{size}" cursor="0"/>'
        body = "".join(self._record(i, r) for _, i, r in chosen)
        return Reply(body=self._envelope(f"<ListRecords>{body}{tok}</ListRecords>"))

    def __enter__(self) -> ScriptedOai:
        self.http.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.http.__exit__(*exc)
