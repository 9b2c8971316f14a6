"""MARC files: ISO 2709 in UTF-8, MARC-8 and cp1251 (IRBIS RUSMARC), MARCXML, globs, URLs, bad records."""

from __future__ import annotations

import shutil
import threading
import unicodedata

from lxml import etree
from pymarc import Field, Record, Subfield

from connectors import files
from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import LocalHTTPServer, Reply

MARC = "{http://www.loc.gov/MARC21/slim}"


def marc21(local_id: str, title: str) -> bytes:
    rec = Record(force_utf8=True)
    rec.add_field(Field(tag="001", data=local_id))
    rec.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", title)]))
    return rec.as_marc()


def iso2709(fields: list[tuple[str, str]], encoding: str, leader: str = "nam0 22        450 ") -> bytes:
    """An ISO 2709 record in any encoding (pymarc writes only UTF-8): fields are (tag, data), data fields with
    indicators and \\x1f subfield marks."""
    directory, body = b"", b""
    for tag, data in fields:
        chunk = data.encode(encoding) + b"\x1e"
        directory += f"{tag}{len(chunk):04d}{len(body):05d}".encode()
        body += chunk
    base = 24 + len(directory) + 1
    total = base + len(body) + 1
    head = f"{total:05d}{leader[:7]}{base:05d}{leader[12:]}".encode()
    return head + directory + b"\x1e" + body + b"\x1d"


def source(path: str, **options) -> dict:
    return {"id": "lib", "connector": "marc-file", "path": path, **options}


def payload_title(rec, tag: str = "245") -> str:
    root = etree.fromstring(rec.payload)
    return root.findtext(f"{MARC}datafield[@tag='{tag}']/{MARC}subfield[@code='a']")


def test_iso2709_utf8_with_bad_records_quarantined_by_offset(tmp_path, store):
    good1, good2 = marc21("kg1", "Кыргызстандын тарыхы"), marc21("kg2", "Ала-Тоо")
    garbage = b"this is not a MARC record\x1d"
    bad_utf8 = marc21("kg3", "PLACEHOLDER").replace(b"PLACEHOLDER", b"Bad \xff bytes\x20")
    no_id = Record(force_utf8=True)
    no_id.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", "No id")]))
    data = good1 + garbage + bad_utf8 + no_id.as_marc() + good2
    (tmp_path / "export.mrc").write_bytes(data)

    run = harvest_source(make_settings(tmp_path, source(str(tmp_path / "export.mrc"))), "lib", store)
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (2, 3)
    assert payload_title(store.get("lib", "kg1")) == "Кыргызстандын тарыхы"
    assert store.get("lib", "kg2").format == "marcxml"
    problems = {q.location.rsplit(" ", 1)[-1]: q.reason for q in store.quarantined("lib")}
    assert set(problems) == {
        str(len(good1)),
        str(len(good1) + len(garbage)),
        str(len(good1) + len(garbage) + len(bad_utf8)),
    }
    assert "MARC leader" in problems[str(len(good1))]
    assert "not valid utf-8" in problems[str(len(good1) + len(garbage))]
    assert "no 001" in problems[str(len(good1) + len(garbage) + len(bad_utf8))]


def test_irbis_rusmarc_in_cp1251(tmp_path, store):
    fields = [("001", "RU\\IRBIS\\0042"), ("200", "1 \x1faМанас\x1feкыргыз элинин эпосу"), ("700", " 1\x1faОрозбаков")]
    (tmp_path / "irbis.iso").write_bytes(
        iso2709(fields, "cp1251") + iso2709([("001", "43"), ("200", "1 \x1faСеметей")], "cp1251")
    )
    settings = make_settings(tmp_path, source(str(tmp_path / "irbis.iso"), flavour="rusmarc", encoding="cp1251"))
    run = harvest_source(settings, "lib", store)
    assert run.status == "ok", run.error
    assert run.new == 2
    rec = store.get("lib", "RU\\IRBIS\\0042")
    assert rec.format == "rusmarc" and payload_title(rec, "200") == "Манас"


def test_marc8_is_decoded(tmp_path, store):
    data = iso2709([("001", "m8"), ("245", "10\x1faCaf\xe2e")], "latin-1", leader="nam  22        450 ")
    (tmp_path / "m8.mrc").write_bytes(data)
    run = harvest_source(make_settings(tmp_path, source(str(tmp_path / "m8.mrc"), encoding="marc-8")), "lib", store)
    assert run.status == "ok", run.error
    assert unicodedata.normalize("NFC", payload_title(store.get("lib", "m8"))) == "Café"


def test_marcxml_files_by_glob_from_real_catalogue_exports(real_fixtures, tmp_path, store):
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in (
        "marcxml-rsl-rumorgb-002988236-cyrillic-collection.xml",
        "marcxml-rsl-rumorgb-003345174-mixed-prefix-collection.xml",
        "marcxml-rsl-rumorgb-006643617-cyrillic-record-no-xmldecl.xml",
    ):
        shutil.copy(real_fixtures / name, exports / name)
    run = harvest_source(make_settings(tmp_path, source(str(exports / "*.xml"))), "lib", store)
    assert run.status == "ok", run.error
    assert {r.local_id for r in store.iter_all("lib")} == {"002988236", "003345174", "006643617"}
    assert all(etree.fromstring(r.payload).tag == f"{MARC}record" for r in store.iter_all("lib"))


def test_rusmarc_marcxml_keeps_its_cyrillic_text(real_fixtures, tmp_path, store):
    path = tmp_path / "rusmarc-marcxml-rnb-NLR005177748-cyrillic.xml"  # in the import folder
    path.write_bytes((real_fixtures / path.name).read_bytes())
    run = harvest_source(make_settings(tmp_path, source(str(path), flavour="rusmarc")), "lib", store)
    assert run.ok and run.new == 1
    rec = store.get("lib", "v19\\rc\\2104622")
    assert rec.format == "rusmarc" and payload_title(rec, "200").startswith("История XVIII столетия")


def test_marcxml_with_doctype_is_refused(tmp_path, store):
    (tmp_path / "x.xml").write_text(
        '<?xml version="1.0"?><!DOCTYPE c [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
        '<collection xmlns="http://www.loc.gov/MARC21/slim"><record>'
        '<controlfield tag="001">&e;</controlfield></record></collection>'
    )
    run = harvest_source(make_settings(tmp_path, source(str(tmp_path / "x.xml"))), "lib", store)
    assert run.status == "failed" and "DOCTYPE" in run.error
    assert store.counts("lib").live == 0


def test_file_from_a_url_and_records_gone_from_the_file_become_deletions(tmp_path, store):
    files = iter([marc21("a", "A") + marc21("b", "B") + marc21("c", "C"), marc21("a", "A") + marc21("c", "C2")])
    with LocalHTTPServer(lambda req: Reply(body=next(files), headers={"Content-Type": "application/marc"})) as server:
        settings = make_settings(tmp_path, source(server.url + "/exports/catalog.mrc"), sweep_max_share=0.5)
        first = harvest_source(settings, "lib", store)
        second = harvest_source(settings, "lib", store)
    assert first.ok and first.new == 3
    assert second.status == "ok", second.error
    assert (second.mode, second.unchanged, second.changed, second.deleted) == ("full", 1, 1, 1)
    assert store.get("lib", "b").deleted and not store.get("lib", "c").deleted


def test_a_missing_file_fails_clearly(tmp_path, store):
    run = harvest_source(make_settings(tmp_path, source(str(tmp_path / "nope.mrc"))), "lib", store)
    assert run.status == "failed" and "does not exist" in run.error


def test_stopped_file_harvest_resumes_after_the_last_checkpoint(tmp_path, store, monkeypatch):
    monkeypatch.setattr(files, "CHECKPOINT_EVERY", 3)
    (tmp_path / "big.mrc").write_bytes(b"".join(marc21(f"r{i}", f"Title {i}") for i in range(10)))
    settings = make_settings(tmp_path, source(str(tmp_path / "big.mrc")))
    stop = threading.Event()
    first = harvest_source(settings, "lib", store, progress=lambda run: stop.set(), stop=stop)
    assert first.status == "stopped" and first.records == 3
    second = harvest_source(settings, "lib", store)
    assert second.status == "ok" and second.resumed_from == first.id
    assert (second.records, second.new, second.deleted) == (7, 7, 0)  # the sweep knows the first 3 were listed
    assert store.counts("lib").live == 10
