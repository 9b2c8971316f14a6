"""`fedsearch backup` / `restore`: an online copy that restores to the same search results (issue 12)."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from fedsearch.config import load_config
from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.engines.query import SearchQuery
from fedsearch_app.admin.db import AdminDB
from fedsearch_app.admin.users import UserStore
from fedsearch_app.app import create_app
from fedsearch_app.backup import BackupError, backup, restore
from tests.conftest import ROOT
from tests.corpus import CORPUS, rec

QUERIES = ["", "манас", "диссертация", "тема 7", "year:2019"]


def fedsearch(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def write_config(path: Path, data_dir: Path) -> Path:
    path.write_text(
        yaml.safe_dump(
            {
                "engine": "embedded",
                "data_dir": str(data_dir),
                "sources": [
                    {
                        "id": "vak",
                        "connector": "tabular",
                        "path": "theses.csv",
                        "id_column": "id",
                        "type": "dissertation",
                        "mapping": {"title": "title", "year": "year", "authors": "author"},
                    }
                ],
            },
            allow_unicode=True,
        )
    )
    return path


def results(data_dir: Path, config: Path) -> dict[str, list[str]]:
    settings = load_config(config)
    with TestClient(create_app(settings)) as c:
        out = {}
        for q in QUERIES:
            r = c.get("/api/v1/search", params={"q": q, "per_page": 100})
            assert r.status_code == 200, r.text
            out[q] = [h["id"] for h in r.json()["hits"]]
        return out


def test_backup_then_restore_into_a_fresh_data_dir_gives_the_same_results(tmp_path):
    data = tmp_path / "data"
    (data / "imports").mkdir(parents=True)
    rows = "".join(f"{i},Тема {i}: Манас эпосу диссертация,{2015 + i % 6},Автор {i}\n" for i in range(1, 41))
    (data / "imports" / "theses.csv").write_text("id,title,year,author\n" + rows, encoding="utf-8")
    config = write_config(tmp_path / "fedsearch.yaml", data)
    run = fedsearch(config, "harvest")
    assert run.returncode == 0, run.stdout + run.stderr
    UserStore(AdminDB.for_data_dir(data)).create("boss", "correct horse battery", "admin")
    before = results(data, config)
    assert len(before[""]) == 40 and before["манас"]

    # Online: a server reader holds the index open while the backup runs.
    reader = EmbeddedEngine(data / "index")
    assert reader.search(SearchQuery(q="манас")).total == 40
    done = fedsearch(config, "backup", str(tmp_path / "backup"))
    reader.close()
    assert done.returncode == 0, done.stderr
    assert {p.name for p in (tmp_path / "backup").iterdir()} >= {"raw.sqlite3", "admin.sqlite3", "index", "backup.json"}

    fresh = tmp_path / "fresh"
    fresh_config = write_config(tmp_path / "fresh.yaml", fresh)
    done = fedsearch(fresh_config, "restore", str(tmp_path / "backup"))
    assert done.returncode == 0, done.stderr
    assert results(fresh, fresh_config) == before
    assert UserStore(AdminDB.for_data_dir(fresh)).verify("boss", "correct horse battery") is not None
    # The raw store came along too: a reindex from it gives the same results again.
    assert fedsearch(fresh_config, "reindex").returncode == 0
    assert results(fresh, fresh_config) == before

    # Restoring over data refuses and changes nothing.
    again = fedsearch(fresh_config, "restore", str(tmp_path / "backup"))
    assert again.returncode == 1 and "already holds" in again.stderr


def test_a_backup_during_commits_copies_one_whole_commit(tmp_path):
    data = tmp_path / "data"
    writer = EmbeddedEngine(data / "index", writer=True)
    writer.ensure_index()
    writer.upsert(CORPUS)
    writer.refresh()
    committed = {len(CORPUS)}
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            writer.upsert([rec("knu", f"oai:knu:extra{n + i}", f"Кошумча {n + i}") for i in range(5)])
            writer.refresh()
            n += 5
            committed.add(len(CORPUS) + n)

    settings = load_config(write_config(tmp_path / "c.yaml", data))
    thread = threading.Thread(target=write)
    thread.start()
    try:
        for k in range(3):
            backup(settings, tmp_path / f"b{k}")
    finally:
        stop.set()
        thread.join()
        writer.close()
    for k in range(3):
        target = load_config(write_config(tmp_path / f"r{k}.yaml", tmp_path / f"r{k}"))
        restore(target, tmp_path / f"b{k}")
        copy = EmbeddedEngine(tmp_path / f"r{k}" / "index")
        assert copy.health().documents in committed
        assert copy.search(SearchQuery(q="", per_page=1)).total == copy.health().documents
        copy.close()
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "b0")
