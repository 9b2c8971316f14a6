"""`fedsearch harvest` end to end: partner exports -> raw store -> normalize -> dedup -> engine.

Two sources hold one work in common (same ISBN); it must come out as one
result listing both. Changes and deletions at a partner reach the engine on
the next incremental harvest, and an unchanged partner costs no indexing.
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from fedsearch.config import load_config
from fedsearch.engines import SearchQuery, open_engine
from indexers.pipeline import forget_source, harvest, reindex
from tests.conftest import ROOT, delete_es_indices

THESES = [
    {
        "Рег. номер": "D-1",
        "Тема диссертации": "Экономика сельского хозяйства Чуйской долины",
        "ФИО": "Токтогулов Бакыт",
        "Год защиты": "2015",
        "Шифр": "08.00.05",
    },
    {
        "Рег. номер": "D-2",
        "Тема диссертации": "Водные ресурсы Иссык-Кульской области",
        "ФИО": "Осмонова Айгүл",
        "Год защиты": "2018",
        "Шифр": "25.00.27",
    },
    {"Рег. номер": "D-3", "Тема диссертации": "", "ФИО": "Без Темы", "Год защиты": "2019", "Шифр": "08.00.05"},
]
BOOKS = [
    {
        "id": "B-1",
        "title": "История Кыргызстана",
        "author": "Абдрахманов, Т.",
        "year": 2005,
        "isbn": "978-9967-00000-1",
    },
    {"id": "B-2", "title": "Манас эпосу", "author": "Жирмунский, В.", "year": 1995, "isbn": ""},
]
LIBRARY = [  # the same book as B-1, catalogued by another library
    {"id": "L-77", "title": "История Кыргызстана.", "author": "Абдрахманов Т.", "year": 2005, "isbn": "9789967000001"},
]


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(THESES[0]))
        writer.writeheader()
        writer.writerows(rows)


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def partner_deployment(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    theses: list[dict],
    books: list[dict],
    library: list[dict],
    **settings: object,
) -> Iterator[tuple[Path, Path]]:
    """The three tabular partners (dissertations, a publisher, a library) written to exports/ and a
    configuration over them on the fixture's engine (`settings`: more top-level keys, e.g. server).
    Yields (config path, exports folder); drops the Elasticsearch indices afterwards."""
    exports = tmp_path / "exports"
    exports.mkdir()
    write_csv(exports / "vak.csv", theses)
    write_jsonl(exports / "books.jsonl", books)
    write_jsonl(exports / "library.jsonl", library)
    book_mapping = {"title": "title", "authors": "author", "year": "year", "identifiers.isbn": "isbn"}
    config = {
        "engine": request.param,
        "data_dir": str(tmp_path / "data"),
        "reach": {"import_dirs": [str(exports)]},  # the partner exports are read where they are
        # Sources of two or three rows: any withdrawal is over the 10% safety brake, which
        # tests/rawstore/test_sweep_brake.py tests; here withdrawals apply at once.
        "harvest": {"sweep_max_share": 1.0},
        "sources": [
            {
                "id": "vak",
                "connector": "tabular",
                "path": str(exports / "vak.csv"),
                "id_column": "Рег. номер",
                "type": "dissertation",
                "required": ["title"],
                "mapping": {
                    "title": "Тема диссертации",
                    "authors": "ФИО",
                    "year": "Год защиты",
                    "classifications.vak": "Шифр",
                },
            },
            {
                "id": "press",
                "connector": "tabular",
                "path": str(exports / "books.jsonl"),
                "id_column": "id",
                "type": "book",
                "mapping": book_mapping,
            },
            {
                "id": "library",
                "connector": "tabular",
                "path": str(exports / "library.jsonl"),
                "id_column": "id",
                "type": "book",
                "mapping": book_mapping,
            },
        ],
        **settings,
    }
    if request.param == "elasticsearch":
        es_url = request.getfixturevalue("es_url")
        config["elasticsearch"] = {"hosts": [es_url], "index_prefix": f"pipe{uuid.uuid4().hex[:8]}"}
    path = tmp_path / "fedsearch.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    yield path, exports
    if request.param == "elasticsearch":
        delete_es_indices(config["elasticsearch"]["hosts"][0], config["elasticsearch"]["index_prefix"])


@pytest.fixture(params=["embedded", "elasticsearch"])
def deployment(request: pytest.FixtureRequest, tmp_path: Path):
    yield from partner_deployment(request, tmp_path, THESES, BOOKS, LIBRARY)


def search(config_path: Path, q: str = "", **kw):
    settings = load_config(config_path)
    engine = open_engine(settings)
    try:
        return engine.search(SearchQuery(q=q, per_page=100, **kw))
    finally:
        engine.close()


def test_harvest_indexes_merges_and_follows_changes(deployment):
    config_path, exports = deployment
    done = subprocess.run(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config_path), "harvest"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "vak: ok: 2 records" in done.stdout and "1 quarantined" in done.stdout  # the row without a title
    # No noise (issue 14): each progress line once, and "1 page", not "1 pages".
    progress = [ln for ln in done.stderr.splitlines() if ln.startswith("  ") and ": page " in ln]
    assert progress and len(progress) == len(set(progress)), progress
    assert "in 1 page " in done.stderr and "in 1 pages" not in done.stderr

    everything = search(config_path)
    assert everything.total == 4  # 2 theses (1 quarantined) + 2 books, B-1 and L-77 merged
    book = search(config_path, "978-9967-00000-1").hits
    assert len(book) == 1
    assert sorted(h.source for h in book[0].record.holdings) == ["library", "press"]
    match = book[0].record.match  # the merge says why: the same ISBN
    assert match is not None and match.rule == "isbn" and match.evidence == "9789967000001"
    assert len(match.members) == 2
    assert search(config_path, "Issyk Osmonova").hits[0].record.source_record_id == "D-2"
    assert search(config_path, "08.00.05").total == 1

    # The partner changes one thesis and withdraws the other; the library drops its copy.
    changed = [dict(THESES[0], **{"Тема диссертации": "Экономика горного земледелия"}), THESES[2]]
    write_csv(exports / "vak.csv", changed)
    # (An empty export deletes nothing, by design: it is more often a broken export.)
    write_jsonl(
        exports / "library.jsonl",
        [{"id": "L-78", "title": "Орография Тянь-Шаня", "author": "Ким, А.", "year": 1987, "isbn": ""}],
    )
    settings = load_config(config_path)
    assert harvest(settings, progress=False) == 0

    assert search(config_path, "земледелия").total == 1
    assert search(config_path, "Чуйской").total == 0
    assert search(config_path, "Issyk Osmonova").total == 0
    book = search(config_path, "978-9967-00000-1").hits
    assert [h.source for h in book[0].record.holdings] == ["press"]

    # Nothing changed: the raw store sees no change and the indexer writes nothing.
    again = subprocess.run(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config_path), "harvest"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr
    assert "indexed: 0 changed records" in again.stdout


def test_reindex_rebuilds_the_same_index(deployment):
    config_path, _ = deployment
    settings = load_config(config_path)
    assert harvest(settings, progress=False) == 0
    before = search(config_path, facets=["source", "type"])
    assert reindex(settings) == 0
    after = search(config_path, facets=["source", "type"])
    assert {h.id for h in after.hits} == {h.id for h in before.hits}
    assert after.facets == before.facets
    (book,) = search(config_path, "978-9967-00000-1").hits  # a rebuild explains the merge again
    assert book.record.match is not None and book.record.match.rule == "isbn"


def test_forget_source_unmerges_and_removes(deployment):
    config_path, _ = deployment
    settings = load_config(config_path)
    assert harvest(settings, progress=False) == 0
    assert forget_source(settings, "press") == 2
    book = search(config_path, "978-9967-00000-1").hits
    assert [h.source for h in book[0].record.holdings] == ["library"]
    assert search(config_path, "Манас").total == 0
