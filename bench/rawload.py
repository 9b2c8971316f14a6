"""Fill a raw store straight from a corpus's files, for building big search indexes quickly.

The catalogue's MARCXML and the two registers are read by the project's own
file connectors (marc-file, tabular on a local path), so their raw records are
what a harvest stores. The repository's records.xml has no file connector (it
is OAI-PMH's job): its lines become RawRecords the way connectors/oaipmh/connector.py
makes them (payload = the oai_dc:dc element). Used by `bench.run search` to
build 300k and 1M indexes without serving them over the network first; the
ingest benchmark harvests through the real partners instead.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from lxml import etree

from connectors.base import RawRecord
from connectors.registry import get_connector
from fedsearch.config import Settings, SourceConfig
from fedsearch_app.corpus import FILES, SOURCE_IDS
from fedsearch_app.corpus.works import CSV, OAI, PATENTS, SRU
from fedsearch_app.demo.partners import source_options
from rawstore.store import RawStore

_HEADER = re.compile(rb"<identifier>([^<]+)</identifier><datestamp>([^<]+)</datestamp>")
_SET = re.compile(rb"<setSpec>([^<]+)</setSpec>")
_DC_START = b"<oai_dc:dc "
BATCH = 2000


def file_sources(corpus: Path) -> list[dict]:
    """Configuration entries reading the corpus's files in place (no partner servers)."""
    out = [{"id": SOURCE_IDS[OAI], **source_options(OAI, "http://127.0.0.1:9/oai")}]
    out.append(
        {
            "id": SOURCE_IDS[SRU],
            "connector": "marc-file",
            "path": str(corpus / FILES[SRU]),
            "flavour": "marc21",
            "syntax": "marcxml",
            "institution": source_options(SRU, "http://x/")["institution"],
        }
    )
    for key in (CSV, PATENTS):
        out.append({"id": SOURCE_IDS[key], **source_options(key, "http://x/"), "path": str(corpus / FILES[key])})
    return out


def oai_raw_records(path: Path) -> Iterator[RawRecord]:
    with open(path, "rb") as f:
        for line in f:
            if not line.startswith(b"<record "):
                continue
            m = _HEADER.search(line)
            start = line.index(_DC_START)
            end = line.index(b"</oai_dc:dc>") + len(b"</oai_dc:dc>")
            dc = etree.tostring(etree.fromstring(line[start:end]), encoding="utf-8")
            yield RawRecord(
                local_id=m.group(1).decode(),
                format="oai_dc",
                payload=dc,
                datestamp=m.group(2).decode(),
                sets=[s.decode() for s in _SET.findall(line)],
            )


def connector_raw_records(settings: Settings, source: SourceConfig) -> Iterator[RawRecord]:
    cls = get_connector(source.connector)
    connector = cls(source, cls.Options.model_validate(source.options), settings.policy_for(source))
    for item in connector.harvest(since=None, checkpoint=None):
        if isinstance(item, RawRecord):
            yield item


def fill(settings: Settings, corpus: Path, say: Callable[[str], None] = print) -> dict[str, int]:
    """Store every corpus record in the settings' raw store; returns counts per source."""
    counts: dict[str, int] = {}
    with RawStore.for_settings(settings) as store:
        for source in settings.sources:
            started = time.perf_counter()
            items = (
                oai_raw_records(corpus / FILES[OAI])
                if source.connector == "oai-pmh"
                else connector_raw_records(settings, source)
            )
            n, batch = 0, []
            for raw in items:
                batch.append(raw)
                if len(batch) >= BATCH:
                    store.put_records(source.id, batch)
                    n += len(batch)
                    batch = []
                    if n % (BATCH * 25) == 0:
                        say(f"  raw store: {source.id} {n:,} ({n / (time.perf_counter() - started):,.0f}/s)")
            if batch:
                store.put_records(source.id, batch)
                n += len(batch)
            counts[source.id] = n
            say(f"  raw store: {source.id} {n:,} records in {time.perf_counter() - started:.1f}s")
    return counts
