"""The sample library catalogue: Index Data's Zebra (`zebrasrv`) serving the corpus's MARCXML over SRU.

Zebra is the real thing many small catalogues run (Koha ships it). This
module writes a Zebra configuration (DOM filter: MARCXML in, MARCXML out),
indexes catalogue/records.marcxml with `zebraidx` when the file changed, and
runs `zebrasrv` on a port of 127.0.0.1 as a child process that dies with us.

CQL the server understands (pqf.properties): cql.allRecords=1, free words,
dc.title, dc.creator, dc.subject, dc.date, rec.id, and
rec.lastModificationDate>="YYYY-MM-DD" (from MARC 005), which the demo's
configuration gives the SRU connector as its `incremental_query`.
"""

from __future__ import annotations

import ctypes
import hashlib
import json
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from fedsearch.errors import FedsearchError

DATABASE = "catalogue"
INSTALL_HINT = "apt-get install idzebra-2.0"

ZEBRA_CFG = """\
# Written by fedsearch demo; rewritten at every start.
profilePath: .:/usr/share/idzebra-2.0/tab:/usr/local/share/idzebra-2.0/tab
modulePath: /usr/lib/x86_64-linux-gnu/idzebra-2.0/modules:/usr/lib/idzebra-2.0/modules:/usr/local/lib/idzebra-2.0/modules
recordtype: dom.dom.xml
attset: bib1.att
attset: explain.att
encoding: utf-8
index: catalogue.idx
register: register:2G
lockDir: .
keyTmpDir: .
"""

DOM_XML = """\
<dom xmlns="http://indexdata.com/zebra-2.0">
  <input syntax="xml"><xmlreader level="1"/></input>
  <extract name="index"><xslt stylesheet="index.xsl"/></extract>
  <retrieve name="marcxml"><xslt stylesheet="identity.xsl"/></retrieve>
</dom>
"""

IDENTITY_XSL = """\
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform">
  <xsl:output method="xml" encoding="UTF-8" indent="no"/>
  <xsl:template match="node()|@*"><xsl:copy><xsl:apply-templates select="@*|node()"/></xsl:copy></xsl:template>
</xsl:stylesheet>
"""

INDEX_XSL = """\
<?xml version="1.0" encoding="UTF-8"?>
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
    xmlns:m="http://www.loc.gov/MARC21/slim" xmlns:z="http://indexdata.com/zebra-2.0">
  <xsl:output indent="no" method="xml" encoding="UTF-8"/>
  <xsl:template match="text()"/>
  <xsl:template match="/m:record">
    <xsl:variable name="stamp" select="m:controlfield[@tag='005']"/>
    <z:record z:id="{normalize-space(m:controlfield[@tag='001'])}" z:type="update">
      <z:index name="control:0"><xsl:value-of select="normalize-space(m:controlfield[@tag='001'])"/></z:index>
      <z:index name="lastmod:0"><xsl:value-of
          select="concat(substring($stamp,1,4),'-',substring($stamp,5,2),'-',substring($stamp,7,2))"/></z:index>
      <z:index name="date:0"><xsl:value-of select="substring(m:controlfield[@tag='008'],8,4)"/></z:index>
      <xsl:for-each select="m:datafield[@tag='245' or @tag='246']/m:subfield[@code='a' or @code='b']">
        <z:index name="title:w"><xsl:value-of select="."/></z:index>
        <z:index name="any:w"><xsl:value-of select="."/></z:index>
      </xsl:for-each>
      <xsl:for-each select="m:datafield[@tag='100' or @tag='700']/m:subfield[@code='a']">
        <z:index name="creator:w"><xsl:value-of select="."/></z:index>
        <z:index name="any:w"><xsl:value-of select="."/></z:index>
      </xsl:for-each>
      <xsl:for-each select="m:datafield[@tag='650' or @tag='653']/m:subfield[@code='a']">
        <z:index name="subject:w"><xsl:value-of select="."/></z:index>
        <z:index name="any:w"><xsl:value-of select="."/></z:index>
      </xsl:for-each>
      <xsl:for-each select="m:datafield[@tag='020' or @tag='024']/m:subfield[@code='a']">
        <z:index name="identifier:0"><xsl:value-of select="translate(., '-', '')"/></z:index>
      </xsl:for-each>
    </z:record>
  </xsl:template>
</xsl:stylesheet>
"""

# ICU for words (case folding for Cyrillic too), exact strings for codes and dates.
CATALOGUE_IDX = """\
index w
completeness 0
position 1
alwaysmatches 1
firstinfield 1
icuchain words-icu.xml

index p
completeness 1
icuchain phrases-icu.xml

index 0
completeness 0
position 1
charmap @

sort s
completeness 1
charmap string.chr
"""

PQF_PROPERTIES = """\
set.cql = info:srw/cql-context-set/1/cql-v1.2
set.rec = info:srw/cql-context-set/2/rec-1.1
set.dc = info:srw/cql-context-set/1/dc-v1.1
set = info:srw/cql-context-set/1/dc-v1.1
index.cql.serverChoice = 1=any
index.cql.anywhere = 1=any
index.cql.allRecords = 1=_ALLRECORDS 2=103
index.dc.title = 1=title
index.dc.creator = 1=creator
index.dc.subject = 1=subject
index.dc.identifier = 1=identifier 4=3
index.dc.date = 1=date 4=3
index.rec.id = 1=control 4=3
index.rec.lastModificationDate = 1=lastmod 4=3
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
position.first = 3=1 6=1
position.any = 3=3 6=1
position.last = 3=4 6=1
position.firstAndLast = 3=3 6=3
structure.exact = 4=108
structure.all = 4=2
structure.any = 4=2
structure.* = 4=2
truncation.right = 5=1
truncation.left = 5=2
truncation.both = 5=3
truncation.none = 5=100
always = 6=1
"""

YAZGFS_XML = """\
<yazgfs>
  <listen id="sru">tcp:127.0.0.1:{port}</listen>
  <server id="catalogue" listenref="sru">
    <config>zebra.cfg</config>
    <cql2rpn>pqf.properties</cql2rpn>
    <retrievalinfo>
      <retrieval syntax="xml" name="marcxml" identifier="info:srw/schema/1/marcxml-v1.1"/>
    </retrievalinfo>
  </server>
</yazgfs>
"""


class ZebraNotInstalled(FedsearchError, RuntimeError):
    error_code = "demo.zebra_not_installed"

    def __init__(self) -> None:
        super().__init__(f"Zebra (zebrasrv, zebraidx) is not installed; install it with `{INSTALL_HINT}`")


def zebra_installed() -> bool:
    return bool(shutil.which("zebrasrv") and shutil.which("zebraidx"))


def _die_with_parent() -> None:
    """In the child: receive SIGTERM when the demo process dies, however it dies (Linux)."""
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def _digest(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class ZebraCatalogue:
    """zebraidx + zebrasrv over one MARCXML file, in `workdir`."""

    def __init__(self, records_path: Path, workdir: Path, port: int = 0):
        if not zebra_installed():
            raise ZebraNotInstalled()
        self.records_path = Path(records_path).resolve()
        self.dir = Path(workdir)
        self.port = port
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{DATABASE}"

    def _write_config(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        files = {
            "zebra.cfg": ZEBRA_CFG,
            "dom.xml": DOM_XML,
            "index.xsl": INDEX_XSL,
            "identity.xsl": IDENTITY_XSL,
            "catalogue.idx": CATALOGUE_IDX,
            "pqf.properties": PQF_PROPERTIES,
        }
        for name, text in files.items():
            (self.dir / name).write_text(text, encoding="utf-8")

    def index(self) -> bool:
        """Index the records unless this exact file was indexed already; True if it ran."""
        self._write_config()
        stamp_path = self.dir / "indexed.json"
        digest = _digest(self.records_path)
        wanted = {
            "records": str(self.records_path),
            "sha1": digest,
            "config": hashlib.sha1((INDEX_XSL + CATALOGUE_IDX + ZEBRA_CFG).encode()).hexdigest(),
        }
        if stamp_path.exists() and json.loads(stamp_path.read_text()) == wanted and (self.dir / "register").is_dir():
            return False
        shutil.rmtree(self.dir / "register", ignore_errors=True)
        (self.dir / "register").mkdir()
        log = self.dir / "zebraidx.log"
        for args in (["init"], ["-d", DATABASE, "update", str(self.records_path)]):
            done = subprocess.run(
                ["zebraidx", "-c", "zebra.cfg", "-l", str(log), *args],
                cwd=self.dir,
                capture_output=True,
                text=True,
                timeout=3600,
            )
            if done.returncode != 0:
                raise RuntimeError(f"zebraidx {' '.join(args)} failed ({done.returncode}); see {log}")
        stamp_path.write_text(json.dumps(wanted))
        return True

    def start(self, timeout: float = 20.0) -> ZebraCatalogue:
        if self.port == 0:
            self.port = free_port()
        (self.dir / "yazgfs.xml").write_text(YAZGFS_XML.format(port=self.port), encoding="utf-8")
        # -T: one threaded process, so stopping it stops every session.
        self.process = subprocess.Popen(
            ["zebrasrv", "-T", "-f", "yazgfs.xml", "-l", "zebrasrv.log"],
            cwd=self.dir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"zebrasrv exited with {self.process.returncode}; see {self.dir / 'zebrasrv.log'}")
            if port_open(self.port):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(
            f"zebrasrv did not open port {self.port} within {timeout:.0f}s; see {self.dir / 'zebrasrv.log'}"
        )

    def stop(self) -> None:
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


__all__ = ["ZebraCatalogue", "ZebraNotInstalled", "zebra_installed", "free_port", "port_open", "INSTALL_HINT"]
