"""One in-memory MARC record for MARC 21, UNIMARC and RUSMARC, from XML or ISO 2709.

MARCXML arrives under several namespaces (MARC21 slim, marcxchange, none) and
prefixes, so elements are matched by local name. ISO 2709 is read here too:
UTF-8 when the bytes decode as UTF-8, MARC-8 for MARC 21 records that say so
(leader/09 blank), and Windows-1251 otherwise (what IRBIS writes for Cyrillic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pymarc.marc8 import marc8_to_unicode

from indexers.normalize.errors import NormalizationError
from indexers.normalize.xml import children, local, parse_xml, text_of

_MARC_PARTS = {"leader", "controlfield", "datafield"}
FIELD_END, SUBFIELD, RECORD_END = b"\x1e", b"\x1f", b"\x1d"


@dataclass
class DataField:
    tag: str
    ind1: str = " "
    ind2: str = " "
    subfields: list[tuple[str, str]] = field(default_factory=list)

    def get(self, code: str) -> str | None:
        return next((v for c, v in self.subfields if c == code), None)

    def get_all(self, *codes: str) -> list[str]:
        return [v for c, v in self.subfields if c in codes]


@dataclass
class MarcRecord:
    leader: str = ""
    control: dict[str, list[str]] = field(default_factory=dict)
    fields: list[DataField] = field(default_factory=list)

    def control_value(self, tag: str) -> str | None:
        values = self.control.get(tag)
        return values[0] if values else None

    def get_fields(self, *tags: str) -> list[DataField]:
        return [f for f in self.fields if f.tag in tags]

    def first(self, tag: str, code: str) -> str | None:
        for f in self.get_fields(tag):
            value = f.get(code)
            if value and value.strip():
                return value
        return None

    def has(self, tag: str) -> bool:
        return any(f.tag == tag for f in self.fields) or tag in self.control

    def looks_unimarc(self) -> bool:
        """UNIMARC/RUSMARC put the title in 200 and end the leader with '450 ' (MARC 21: 245, '4500')."""
        return self.has("200") and not self.has("245") and self.leader[20:23] == "450"


def read_marc(payload: bytes) -> MarcRecord:
    """A MarcRecord from MARCXML (any namespace, bare or inside OAI/SRU) or ISO 2709 bytes."""
    if payload.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return _from_xml(payload)
    return _from_iso2709(payload)


def _from_xml(payload: bytes) -> MarcRecord:
    root = parse_xml(payload)
    # The MARC <record> is the one holding leader/controlfield/datafield children
    # (an OAI or SRU <record> around it holds a header and metadata instead).
    el = next(
        (r for r in root.iter() if local(r) == "record" and any(local(c) in _MARC_PARTS for c in children(r))),
        None,
    )
    if el is None:
        raise NormalizationError("no MARC record element in the payload")
    rec = MarcRecord()
    for node in children(el):
        name = local(node)
        if name == "leader":
            rec.leader = text_of(node)
        elif name == "controlfield":
            rec.control.setdefault(node.get("tag", ""), []).append(text_of(node))
        elif name == "datafield":
            f = DataField(tag=node.get("tag", ""), ind1=node.get("ind1", " ") or " ", ind2=node.get("ind2", " ") or " ")
            for sf in children(node, "subfield"):
                f.subfields.append((sf.get("code", ""), text_of(sf)))
            rec.fields.append(f)
    if not rec.leader and not rec.fields:
        raise NormalizationError("the MARC record is empty")
    return rec


def _decode(data: bytes, marc21_marc8: bool) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if marc21_marc8:
        return marc8_to_unicode(data)
    return data.decode("cp1251", errors="replace")


def _from_iso2709(payload: bytes) -> MarcRecord:
    data = payload.strip(b"\r\n ")
    if len(data) < 24 or not data[:5].isdigit():
        raise NormalizationError("not an ISO 2709 record (the leader is missing)")
    leader = data[:24].decode("ascii", errors="replace")
    try:
        base = int(leader[12:17])
    except ValueError:
        raise NormalizationError("ISO 2709 leader has no base address of data") from None
    directory = data[24 : base - 1] if base > 24 else data[24:].split(FIELD_END, 1)[0]
    # MARC 21 with leader/09 blank is MARC-8; UNIMARC puts something else there, so the check is loose.
    marc8 = leader[9] == " " and leader[20:24] == "4500"
    rec = MarcRecord(leader=leader)
    for i in range(0, len(directory) - 11, 12):
        entry = directory[i : i + 12]
        try:
            tag, length, start = entry[:3].decode("ascii"), int(entry[3:7]), int(entry[7:12])
        except (ValueError, UnicodeDecodeError):
            raise NormalizationError(f"ISO 2709 directory entry {i // 12} is damaged") from None
        raw = data[base + start : base + start + length].rstrip(FIELD_END + RECORD_END)
        if tag < "010" and tag.isdigit():
            rec.control.setdefault(tag, []).append(_decode(raw, marc8))
            continue
        f = DataField(tag=tag)
        parts = raw.split(SUBFIELD)
        indicators = _decode(parts[0], marc8)
        f.ind1 = indicators[0] if len(indicators) > 0 else " "
        f.ind2 = indicators[1] if len(indicators) > 1 else " "
        for part in parts[1:]:
            if part:
                text = _decode(part, marc8)
                f.subfields.append((text[0], text[1:]))
        rec.fields.append(f)
    return rec
