"""Tables: a dissertation register (CSV and .xlsx), a patent register (JSON), donors' projects (JSON Lines)."""

from __future__ import annotations

import csv
import json
from datetime import datetime

import openpyxl
import pytest

from connectors.tabular import TabularOptions
from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings
from tests.connectors.peers import LocalHTTPServer, Reply

DISSERTATIONS = {  # the mapping documented in docs/connectors.md
    "id_column": "Рег. номер",
    "mapping": {
        "title": "Тема диссертации",
        "authors": "ФИО",
        "year": "Год защиты",
        "type": "Ученая степень",
        "classifications.vak": "Шифр специальности",
        "institution": "Организация",
        "contributors.supervisor": "Научный руководитель",
    },
    "required": ["title", "authors"],
}
HEADER = [
    "Рег. номер",
    "ФИО",
    "Тема диссертации",
    "Шифр специальности",
    "Ученая степень",
    "Год защиты",
    "Организация",
    "Научный руководитель",
]
ROWS = [
    [
        "Д-2019-001",
        "Асанова Айгүл Бакытовна",
        "Кыргыз тилиндеги <б>терминдер</б>",
        "10.02.01",
        "кандидат",
        "2019",
        "КНУ им. Ж. Баласагына",
        "Турдубаев К.",
    ],
    ["Д-2019-002", "", "Тема без автора", "08.00.05", "доктор", "2019", "КРСУ", ""],
    ["", "Бекова Н.", "Строка без номера", "05.13.01", "кандидат", "2020", "КГТУ", ""],
    ["Д-2020-014", "Бекова Нуржан", "Математикалык моделдөө", "05.13.18", "кандидат", "2020", "КГТУ", "Иманалиев М."],
    ["Д-2019-001", "Повтор", "Тот же номер ещё раз", "10.02.01", "кандидат", "2021", "КНУ", ""],
]


def source(path: str, **options) -> dict:
    return {"id": "vak", "connector": "tabular", "path": path, **DISSERTATIONS, **options}


def payload(store, local_id: str) -> dict:
    return json.loads(store.get("vak", local_id).payload)


def check_dissertations(run, store, row_word: str = "row") -> None:
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (2, 3)
    doc = payload(store, "Д-2019-001")  # the row, column -> value; the normalizer applies the mapping
    assert doc["Тема диссертации"] == "Кыргыз тилиндеги <б>терминдер</б>"  # markup kept as sent
    assert doc["Шифр специальности"] == "10.02.01" and doc["Организация"] == "КНУ им. Ж. Баласагына"
    assert list(doc) == sorted(doc)
    assert store.get("vak", "Д-2019-001").format == "tabular"
    reasons = sorted(q.reason for q in store.quarantined("vak"))
    assert reasons == [
        f"{row_word} 3: required field 'authors' empty",
        f"{row_word} 4: the id column 'Рег. номер' is empty",
        f"{row_word} 6: id 'Д-2019-001' was already used by {row_word} 2",
    ]
    assert {q.local_id for q in store.quarantined("vak")} == {"Д-2019-002", None}


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp1251"])
def test_csv_dissertation_register(tmp_path, store, encoding):
    path = tmp_path / "register.csv"
    # cp1251 has no ң, ө, ү: old exports lose them, as this one does.
    with open(path, "w", encoding=encoding, errors="replace", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(HEADER)
        w.writerows(ROWS)
    settings = make_settings(tmp_path, source(str(path), delimiter=";", encoding=encoding))
    check_dissertations(harvest_source(settings, "vak", store), store)


def test_csv_in_the_wrong_encoding_says_which_option_to_set(tmp_path, store):
    path = tmp_path / "register.csv"
    path.write_bytes(("\n".join(";".join(r) for r in [HEADER] + ROWS)).encode("cp1251", errors="replace"))
    run = harvest_source(make_settings(tmp_path, source(str(path), delimiter=";")), "vak", store)
    assert run.status == "failed"
    assert "is not utf-8-sig text" in run.error and "cp1251" in run.error


def test_xlsx_dissertation_register_with_numbers_and_dates(tmp_path, store):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Реестр"
    sheet.append(HEADER + ["Дата защиты"])
    for row in ROWS:
        sheet.append(row[:5] + [int(row[5]) if row[5] else None] + row[6:] + [datetime(2019, 5, 17)])
    path = tmp_path / "register.xlsx"
    book.save(path)
    run = harvest_source(make_settings(tmp_path, source(str(path), sheet="Реестр")), "vak", store)
    check_dissertations(run, store)
    doc = payload(store, "Д-2019-001")
    assert doc["Год защиты"] == 2019 and doc["Дата защиты"] == "2019-05-17"


def test_a_mapped_column_missing_from_the_file_fails_listing_the_columns(tmp_path, store):
    path = tmp_path / "register.csv"
    path.write_text("Рег. номер;ФИО\nД-1;Асанова\n", encoding="utf-8")
    run = harvest_source(make_settings(tmp_path, source(str(path), delimiter=";")), "vak", store)
    assert run.status == "failed"
    assert "has no column 'Тема диссертации'" in run.error and "its columns are: 'Рег. номер', 'ФИО'" in run.error


PATENTS = {
    "id_column": "application_number",
    "mapping": {
        "title": "title",
        "authors": "inventors",
        "identifiers.patent": "patent_number",
        "classifications.ipc": "ipc",
        "date": "grant_date",
        "publisher": "holder",
    },
    "required": ["title", "identifiers.patent"],
}


def test_json_patent_register_over_http(tmp_path, store):
    rows = [
        {
            "application_number": 20190012,
            "patent_number": "KG 2145",
            "title": "Способ получения сплава",
            "inventors": "Осмонов А.; Токтогулов Б.",
            "ipc": "C22C 1/02",
            "grant_date": "2020-03-31",
            "holder": "КГТУ",
        },
        {"application_number": 20190013, "patent_number": None, "title": "Без номера патента"},
        "not an object",
    ]
    with LocalHTTPServer(
        lambda req: Reply(body=json.dumps({"items": rows}).encode(), headers={"Content-Type": "application/json"})
    ) as server:
        settings = make_settings(
            tmp_path,
            {
                "id": "patents",
                "connector": "tabular",
                "path": server.url + "/patents.json",
                "type": "patent",
                **PATENTS,
            },
        )
        run = harvest_source(settings, "patents", store)
    assert run.status == "ok", run.error
    assert (run.new, run.quarantined) == (1, 2)
    doc = json.loads(store.get("patents", "20190012").payload)
    assert doc["inventors"] == "Осмонов А.; Токтогулов Б." and doc["application_number"] == 20190012
    assert sorted(q.location.rsplit(" ", 2)[-2:][1] for q in store.quarantined("patents")) == ["2", "3"]


PROJECTS = {
    "id_column": "project_id",
    "mapping": {
        "title": "name",
        "abstract": "summary",
        "institution": "implementing_agency",
        "year": "start_year",
        "subjects": "sector",
        "publisher": "donor",
    },
    "required": ["title"],
}


def test_jsonl_donor_projects_and_rows_removed_later_become_deletions(tmp_path, store):
    path = tmp_path / "projects.jsonl"
    lines = [
        {"project_id": "P-1", "name": "Water for Naryn", "donor": "ADB", "start_year": 2018},
        {"project_id": "P-2", "name": "Школы Оша", "donor": "World Bank", "start_year": 2019},
    ]
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{broken json\n", encoding="utf-8")
    settings = make_settings(
        tmp_path, {"id": "projects", "connector": "tabular", "path": str(path), **PROJECTS}, sweep_max_share=0.5
    )
    first = harvest_source(settings, "projects", store)
    assert first.status == "ok", first.error
    assert (first.new, first.quarantined) == (2, 1)
    assert store.quarantined("projects")[0].location.endswith("line 3")

    path.write_text(json.dumps(lines[1], ensure_ascii=False) + "\n", encoding="utf-8")
    second = harvest_source(settings, "projects", store)
    assert second.ok and (second.unchanged, second.deleted) == (1, 1)
    assert store.get("projects", "P-1").deleted


def test_options_are_checked_when_the_configuration_loads():
    with pytest.raises(ValueError, match="mapping.title names no column"):
        TabularOptions(path="x.csv", id_column="id", mapping={"title": " "})
    with pytest.raises(ValueError, match="type"):
        TabularOptions(path="x.csv", id_column="id", type="thesis-ish")
    assert TabularOptions(path="x.csv", id_column="id", type="dissertation").type == "dissertation"


def test_an_empty_table_does_not_delete_everything(tmp_path, store):
    path = tmp_path / "projects.jsonl"
    path.write_text('{"project_id": "P-1", "name": "Water for Naryn"}\n', encoding="utf-8")
    settings = make_settings(tmp_path, {"id": "projects", "connector": "tabular", "path": str(path), **PROJECTS})
    assert harvest_source(settings, "projects", store).new == 1
    path.write_text("", encoding="utf-8")  # an export that went wrong
    run = harvest_source(settings, "projects", store)
    assert run.ok and run.deleted == 0
    assert store.counts("projects").live == 1
