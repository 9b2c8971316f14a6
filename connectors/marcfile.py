"""MARC files: ISO 2709 (.mrc, .iso) and MARCXML, MARC 21, UNIMARC or RUSMARC.

Typical inputs are catalogue exports: IRBIS (RUSMARC in cp1251), Koha or
MARC-8 dumps. Every record becomes one MARCXML <record> in UTF-8, so the
normalizer reads one shape whatever the file was. A record that can't be read
is quarantined with its byte offset (ISO 2709) or its number (MARCXML), and
the rest of the file is still read. Each run reads the whole file(s): records
no longer in them become deletions.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, BinaryIO, Literal

from lxml import etree
from pydantic import Field
from pymarc import Leader, Record
from pymarc.marcxml import record_to_xml_node

from connectors import xmlsafe
from connectors.base import (
    Connector,
    ConnectorOptions,
    HarvestFailed,
    HarvestIncomplete,
    HarvestItem,
    Quarantine,
    RawRecord,
)
from connectors.files import InputFile, harvest_files

log = logging.getLogger("fedsearch.harvest.marc")

RECORD_TERMINATOR = b"\x1d"
FORMATS = {"marc21": "marcxml", "unimarc": "unimarc", "rusmarc": "rusmarc"}
MARC_NS = "http://www.loc.gov/MARC21/slim"


class MarcFileOptions(ConnectorOptions):
    path: Annotated[
        str, Field(min_length=1, description=("The file: a path, a glob like exports/*.mrc, or an http(s) URL"))
    ]
    flavour: Annotated[
        Literal["marc21", "unimarc", "rusmarc"],
        Field(description=("MARC flavour of the records; IRBIS exports are rusmarc")),
    ] = "marc21"
    encoding: Annotated[
        Literal["utf-8", "marc-8", "cp1251"],
        Field(
            description=(
                "Character encoding of ISO 2709 files (MARCXML declares its own); old IRBIS exports are cp1251"
            )
        ),
    ] = "utf-8"
    syntax: Annotated[
        Literal["auto", "iso2709", "marcxml"], Field(description=("File syntax; auto looks at the first bytes"))
    ] = "auto"
    id_tag: Annotated[
        str,
        Field(
            pattern=r"^\d{3}$",
            description=("Tag holding the record's id: a control field (001), or a data field whose $a is used"),
        ),
    ] = "001"


def _id_of(record: Record, tag: str) -> str | None:
    for f in record.get_fields(tag):
        value = f.data if f.control_field else (f.get("a") if hasattr(f, "get") else None)
        if value and value.strip():
            return value.strip()
    return None


def _xml_id(record: etree._Element, tag: str) -> str | None:
    for el in record:
        if el.get("tag") != tag:
            continue
        if _local(el.tag) == "controlfield":
            return xmlsafe.text_of(el)
        for sf in el.iterfind("{*}subfield"):
            if sf.get("code") == "a":
                return xmlsafe.text_of(sf)
    return None


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


_to_xml_node: Callable[..., Any] = record_to_xml_node  # pymarc leaves it unannotated


def record_to_marcxml(record: Record) -> bytes:
    """One pymarc record as a MARCXML <record> in UTF-8 (characters XML forbids are dropped)."""
    node = _to_xml_node(record, quiet=True, namespace=True)
    for el in node.iter():
        if el.text:
            el.text = xmlsafe.clean_text(el.text)
    return ET.tostring(node, encoding="unicode").encode("utf-8")


def iso2709_chunks(stream: BinaryIO, block: int = 1 << 20) -> Iterator[tuple[int, bytes]]:
    """(byte offset, record bytes including the terminator), split on the record terminator.

    Splitting on 0x1D instead of trusting the leader's length survives exports whose
    lengths are wrong; the length is still checked when the record is decoded.
    """
    offset = 0
    carry = b""
    while True:
        data = stream.read(block)
        if not data:
            break
        carry += data
        start = 0
        while True:
            end = carry.find(RECORD_TERMINATOR, start)
            if end < 0:
                break
            chunk = carry[start : end + 1]
            yield offset + start, chunk
            start = end + 1
        offset += start
        carry = carry[start:]
    if carry.strip(b" \r\n\x1a\x00"):
        yield offset, carry


class MarcFileConnector(Connector):
    name = "marc-file"
    Options = MarcFileOptions
    description = "MARC files (ISO 2709 or MARCXML; MARC 21, UNIMARC, RUSMARC) from a path, a glob or a URL"
    options: MarcFileOptions

    @property
    def incremental(self) -> bool:
        return False

    @property
    def payload_format(self) -> str:
        return FORMATS[self.options.flavour]

    def harvest(self, *, since: datetime | None, checkpoint: dict[str, Any] | None) -> Iterator[HarvestItem]:
        return harvest_files(self, self.options.path, checkpoint, self._read)

    def _syntax(self, file: InputFile) -> str:
        if self.options.syntax != "auto":
            return self.options.syntax
        with open(file.path, "rb") as f:
            head = f.read(512).lstrip(b"\xef\xbb\xbf \t\r\n")
        return "marcxml" if head.startswith(b"<") else "iso2709"

    def _read(self, file: InputFile) -> Iterator[RawRecord | Quarantine]:
        if self._syntax(file) == "marcxml":
            yield from self._read_xml(file)
        else:
            yield from self._read_iso2709(file)

    def _read_iso2709(self, file: InputFile) -> Iterator[RawRecord | Quarantine]:
        enc = self.options.encoding
        with open(file.path, "rb") as stream:
            for offset, chunk in iso2709_chunks(stream):
                data = chunk.lstrip(b" \r\n\x1a\x00")
                location = f"file {file.name} offset {offset + len(chunk) - len(data)}"
                if not chunk.endswith(RECORD_TERMINATOR):  # only the end of the file: cut off mid-record
                    raise HarvestIncomplete(
                        self.source.id,
                        (
                            f"{file.name} ends in the middle of a record ({location}, {len(data)} bytes without the "
                            "record terminator): the file looks cut off"
                        ),
                    )
                try:
                    if len(data) < 24 or not data[:5].isdigit():
                        raise ValueError("it does not start with a MARC leader")
                    if enc == "cp1251":
                        data = data[:9] + b" " + data[10:]  # the option wins over leader/09
                        record = Record(data=data, to_unicode=True, force_utf8=False, file_encoding="cp1251")
                    elif enc == "utf-8":
                        record = Record(data=data, to_unicode=True, force_utf8=True, utf8_handling="strict")
                    else:
                        record = Record(data=data, to_unicode=True, force_utf8=False, hide_utf8_warnings=True)
                    local_id = _id_of(record, self.options.id_tag)
                    if self.options.flavour == "marc21":
                        record.leader = Leader(record.leader[:9] + "a" + record.leader[10:])  # the payload is Unicode
                    payload = record_to_marcxml(record)
                except UnicodeDecodeError as err:
                    yield Quarantine(
                        code="record.bad_encoding",
                        reason=f"the record is not valid {enc} text ({err.reason} at byte {err.start}); "
                        "check the encoding option",
                        payload=chunk,
                        location=location,
                    )
                    continue
                except Exception as err:  # noqa: BLE001 - pymarc raises many kinds for broken records
                    yield Quarantine(
                        code="record.not_marc",
                        reason=f"not a readable ISO 2709 record: {type(err).__name__}: {err}".rstrip(": "),
                        payload=chunk,
                        location=location,
                    )
                    continue
                if not local_id:
                    yield Quarantine(
                        code="record.no_identifier",
                        reason=f"the record has no {self.options.id_tag} (its id)",
                        payload=payload,
                        location=location,
                    )
                    continue
                yield RawRecord(local_id=local_id, format=self.payload_format, payload=payload)

    def _read_xml(self, file: InputFile) -> Iterator[RawRecord | Quarantine]:
        with open(file.path, "rb") as f:
            head = f.read(64 * 1024)
        if xmlsafe.has_doctype(head):
            raise HarvestFailed(self.source.id, f"{file.name} has a DOCTYPE declaration, which we refuse to read")
        number = 0
        try:
            for _, el in xmlsafe.iterparse(str(file.path), "{*}record"):
                number += 1
                location = f"file {file.name} record {number}"
                if el.getroottree().docinfo.doctype:
                    raise HarvestFailed(
                        self.source.id, f"{file.name} has a DOCTYPE declaration, which we refuse to read"
                    )
                ns = etree.QName(el).namespace
                if ns not in (None, MARC_NS) and not ns.endswith("marcxchange-v1"):
                    continue
                local_id = _xml_id(el, self.options.id_tag)
                payload = xmlsafe.serialize(el)
                if el.find("{*}leader") is None and not len(el):
                    yield Quarantine(
                        code="record.empty",
                        reason="the record is empty",
                        local_id=local_id,
                        payload=payload,
                        location=location,
                    )
                elif not local_id:
                    yield Quarantine(
                        code="record.no_identifier",
                        reason=f"the record has no {self.options.id_tag} (its id)",
                        payload=payload,
                        location=location,
                    )
                else:
                    yield RawRecord(local_id=local_id, format=self.payload_format, payload=payload)
                el.clear(keep_tail=False)
                while el.getprevious() is not None and el.getparent() is not None:
                    del el.getparent()[0]
        except etree.XMLSyntaxError as err:
            raise HarvestIncomplete(
                self.source.id,
                (
                    f"{file.name} is not well-formed XML after record {number} ({err}): cut off or damaged; "
                    "the rest of the file was not read"
                ),
            ) from None
