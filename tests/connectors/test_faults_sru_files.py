"""Damage in SRU answers and in files: a proxy in front of Zebra, cut files on disk.

A damaged listing never ends 'ok' and never sweeps: records read before are kept, none is deleted.
"""

from __future__ import annotations

import json

import pytest
from pymarc import Field, Record, Subfield

from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import FaultProxy, LocalHTTPServer, Reply, marcxml_record


def books(n: int) -> dict[str, bytes]:
    return {f"kg{i:05d}": marcxml_record(f"kg{i:05d}", f"Манас эпосу, том {i}") for i in range(1, n + 1)}


def catalogue(url: str, **options) -> dict:
    return {"id": "catalog", "connector": "sru", "url": url, "page_size": 5, **options}


def test_sru_answers_damaged_in_transfer_are_asked_again_and_a_full_listing_deletes_nothing(zebra, tmp_path, store):
    zebra.put(books(40))
    zebra.start()
    assert harvest_source(make_settings(tmp_path, catalogue(zebra.url)), "catalog", store).ok

    with FaultProxy(zebra.url, FaultProxy.random(0.25, seed=3, faults=("truncate", "garbage")), verb=None) as proxy:
        noisy = harvest_source(make_settings(tmp_path, catalogue(proxy.url)), "catalog", store)
    assert len(proxy.injected) >= 2
    assert noisy.status == "ok", noisy.error
    assert (noisy.records, noisy.deleted) == (40, 0)

    starts_at_21 = lambda n, req: "truncate" if req.params.get("startRecord") == "21" else None  # noqa: E731
    with FaultProxy(zebra.url, starts_at_21, verb=None) as proxy:
        cut = harvest_source(make_settings(tmp_path, catalogue(proxy.url)), "catalog", store)
    assert cut.status == "incomplete"
    assert "page 5 (records from 21)" in cut.error and "retries" in cut.error
    assert cut.deleted == 0 and store.counts("catalog").live == 40  # 0 wrongly deleted


def sru_page(total: int, ids: list[str]) -> bytes:
    records = "".join(
        f"<zs:record><zs:recordSchema>marcxml</zs:recordSchema><zs:recordData>{marcxml_record(i, 'T').decode()}"
        f"</zs:recordData></zs:record>"
        for i in ids
    )
    return (
        f'<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/"><zs:version>1.2</zs:version>'
        f"<zs:numberOfRecords>{total}</zs:numberOfRecords><zs:records>{records}</zs:records>"
        f"</zs:searchRetrieveResponse>"
    ).encode()


def test_sru_records_disagreeing_with_number_of_records_make_the_run_incomplete(tmp_path, store):
    def app(req):  # says 12, sends 5 + 5 + 0: the last page comes back empty
        start = int(req.params["startRecord"])
        ids = [f"r{i}" for i in range(start, min(start + 5, 11))]
        return Reply(body=sru_page(12, ids))

    with LocalHTTPServer(app) as server:
        run = harvest_source(make_settings(tmp_path, catalogue(server.url + "/db")), "catalog", store)
    assert run.status == "incomplete" and "12 records but sent none from position 11" in run.error
    assert store.counts("catalog").live == 10


def vak(path, **extra) -> dict:
    return {
        "id": "vak",
        "connector": "tabular",
        "path": str(path),
        "id_column": "id",
        "mapping": {"title": "title"},
        **extra,
    }


CSV = "id,title,year\n" + "".join(f"{i},Диссертация {i},20{i % 25:02d}\n" for i in range(1, 41))


def test_a_cut_off_csv_is_incomplete_and_deletes_nothing(tmp_path, store):
    path = tmp_path / "vak.csv"
    path.write_text(CSV, encoding="utf-8")
    settings = make_settings(tmp_path, vak(path))
    assert harvest_source(settings, "vak", store).ok

    path.write_text(CSV[: CSV.index("21,Диссертация 21,") + len("21,Диссер")], encoding="utf-8")
    run = harvest_source(settings, "vak", store)
    assert run.status == "incomplete" and "last row (22)" in run.error and "cut off" in run.error
    assert run.deleted == 0 and store.counts("vak").live == 40


@pytest.mark.parametrize(
    "body,words",
    [
        (
            json.dumps({"total": 40, "items": [{"id": i, "title": f"T {i}"} for i in range(1, 31)]}),
            "total: 40 but holds 30",
        ),
        (json.dumps([{"id": i, "title": f"T {i}"} for i in range(1, 41)])[:700], "stops before it is complete"),
    ],
)
def test_json_cut_off_or_disagreeing_with_its_count_is_incomplete(tmp_path, store, body, words):
    path = tmp_path / "vak.json"
    path.write_text(json.dumps([{"id": i, "title": f"T {i}"} for i in range(1, 41)]), encoding="utf-8")
    settings = make_settings(tmp_path, vak(path))
    assert harvest_source(settings, "vak", store).ok
    path.write_text(body, encoding="utf-8")
    run = harvest_source(settings, "vak", store)
    assert run.status == "incomplete" and words in run.error
    assert store.counts("vak").live == 40 and store.counts("vak").deleted == 0


def test_jsonl_whose_last_line_is_cut_is_incomplete(tmp_path, store):
    path = tmp_path / "vak.jsonl"
    lines = "".join(json.dumps({"id": i, "title": f"T {i}"}) + "\n" for i in range(1, 41))
    path.write_text(lines, encoding="utf-8")
    settings = make_settings(tmp_path, vak(path))
    assert harvest_source(settings, "vak", store).ok
    path.write_text(lines[: lines.index('{"id": 25') + 9], encoding="utf-8")
    run = harvest_source(settings, "vak", store)
    assert run.status == "incomplete" and "last line (25)" in run.error
    assert store.counts("vak").live == 40 and store.counts("vak").deleted == 0


def marc21(local_id: str, title: str) -> bytes:
    rec = Record(force_utf8=True)
    rec.add_field(Field(tag="001", data=local_id))
    rec.add_field(Field(tag="245", indicators=["1", "0"], subfields=[Subfield("a", title)]))
    return rec.as_marc()


@pytest.mark.parametrize("syntax", ["iso2709", "marcxml"])
def test_a_cut_off_marc_file_is_incomplete_and_deletes_nothing(tmp_path, store, syntax):
    if syntax == "iso2709":
        whole = b"".join(marc21(f"m{i}", f"Китеп {i}") for i in range(1, 31))
    else:
        whole = (
            b'<collection xmlns="http://www.loc.gov/MARC21/slim">'
            + b"".join(marcxml_record(f"m{i}", f"Китеп {i}") for i in range(1, 31))
            + b"</collection>"
        )
    path = tmp_path / ("cat.mrc" if syntax == "iso2709" else "cat.xml")
    path.write_bytes(whole)
    settings = make_settings(tmp_path, {"id": "lib", "connector": "marc-file", "path": str(path)})
    assert harvest_source(settings, "lib", store).ok
    path.write_bytes(whole[: len(whole) * 2 // 3])
    run = harvest_source(settings, "lib", store)
    assert run.status == "incomplete" and ("cut off" in run.error)
    assert run.deleted == 0 and store.counts("lib").live == 30 and store.counts("lib").deleted == 0
