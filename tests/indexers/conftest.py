"""Helpers for the indexers tests: raw records cut out of the captured partner responses."""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree

from connectors.base import RawRecord
from fedsearch.config import SourceConfig

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def oai_raw_records(path: Path, fmt: str) -> list[RawRecord]:
    """The non-deleted <record>s of a captured OAI-PMH response, as an OAI connector yields them."""
    root = etree.parse(str(path)).getroot()
    out = []
    for rec in root.iter(f"{OAI}record"):
        header = rec.find(f"{OAI}header")
        if header.get("status") == "deleted":
            continue
        out.append(
            RawRecord(
                local_id=header.findtext(f"{OAI}identifier"),
                format=fmt,
                payload=etree.tostring(rec),
                datestamp=header.findtext(f"{OAI}datestamp"),
            )
        )
    return out


@pytest.fixture
def source() -> SourceConfig:
    return SourceConfig(id="repo", connector="oai-pmh", institution="Test University")


@pytest.fixture
def oai(real_fixtures: Path):
    def load(name: str, fmt: str = "oai_dc") -> list[RawRecord]:
        return oai_raw_records(real_fixtures / name, fmt)

    return load


@pytest.fixture
def raw_file(real_fixtures: Path):
    def load(name: str, fmt: str, local_id: str = "rec-1") -> RawRecord:
        return RawRecord(local_id=local_id, format=fmt, payload=(real_fixtures / name).read_bytes())

    return load
