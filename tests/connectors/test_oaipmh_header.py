"""Reading an OAI-PMH record header (connectors/oaipmh/pages.py, read_record): the fields a find per
name would give, read in one pass over the header's children."""

from __future__ import annotations

from connectors import xmlsafe
from connectors.base import Quarantine
from connectors.oaipmh.models import OaiRecord
from connectors.oaipmh.pages import read_record

OAI = "http://www.openarchives.org/OAI/2.0/"


def _record(header: str) -> OaiRecord | Quarantine:
    root = xmlsafe.parse(f'<record xmlns="{OAI}">{header}<metadata><x/></metadata></record>'.encode())
    return read_record(root, "page 1, record 1")


def test_the_first_identifier_and_datestamp_every_set_and_the_deleted_status() -> None:
    rec = _record(
        '<header status="deleted"><!-- a comment --><identifier> oai:a:1 </identifier>'
        "<identifier>oai:a:2</identifier><datestamp>2024-01-02</datestamp><datestamp>1999-01-01</datestamp>"
        "<setSpec> s1 </setSpec><setSpec>  </setSpec><setSpec>s2</setSpec></header>"
    )
    assert isinstance(rec, OaiRecord)
    assert (rec.identifier, rec.datestamp, rec.deleted, rec.sets) == ("oai:a:1", "2024-01-02", True, ["s1", "s2"])


def test_header_children_in_no_namespace_are_read_as_find_with_a_wildcard_does() -> None:
    rec = _record('<header><identifier xmlns="">oai:b:1</identifier><datestamp xmlns="">2020</datestamp></header>')
    assert isinstance(rec, OaiRecord)
    assert (rec.identifier, rec.datestamp, rec.deleted, rec.sets) == ("oai:b:1", "2020", False, [])


def test_a_first_identifier_that_is_empty_quarantines_the_record_even_if_another_follows() -> None:
    rec = _record("<header><identifier> </identifier><identifier>oai:c:2</identifier></header>")
    assert isinstance(rec, Quarantine) and rec.reason == "the record has no header identifier"
    assert b"oai:c:2" in rec.payload  # the record is kept for inspection


def test_no_header_or_no_identifier_quarantines_and_a_missing_datestamp_is_none() -> None:
    assert isinstance(_record(""), Quarantine)
    assert isinstance(_record("<header><datestamp>2020</datestamp></header>"), Quarantine)
    rec = _record("<header><identifier>oai:d:1</identifier></header>")
    assert isinstance(rec, OaiRecord) and rec.datestamp is None
