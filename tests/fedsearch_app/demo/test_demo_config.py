"""The demo's own pieces: reusing its corpus, its configuration, its size setting."""

from __future__ import annotations

import pytest

from fedsearch_app.corpus import FILES
from fedsearch_app.corpus.works import CSV, OAI, PATENTS, SRU
from fedsearch_app.demo import SIZE_ENV, demo_size, ensure_corpus, previous_ports, write_config
from fedsearch_app.demo.partners import source_options


def test_the_corpus_is_reused_for_the_same_size_and_written_again_for_another(tmp_path):
    first, fresh = ensure_corpus(tmp_path, 120)
    assert fresh and first["records"] == 120
    stamp = (tmp_path / FILES[OAI]).stat().st_mtime_ns
    again, fresh = ensure_corpus(tmp_path, 120)
    assert not fresh and again == first
    assert (tmp_path / FILES[OAI]).stat().st_mtime_ns == stamp
    other, fresh = ensure_corpus(tmp_path, 150)
    assert fresh and other["records"] == 150


def test_an_interrupted_corpus_is_not_taken_for_a_complete_one(tmp_path, monkeypatch):
    ensure_corpus(tmp_path, 120)
    from fedsearch_app import corpus

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(corpus.CorpusWriter, "add", boom)
    with pytest.raises(KeyboardInterrupt):
        ensure_corpus(tmp_path, 200)
    monkeypatch.undo()
    manifest, fresh = ensure_corpus(tmp_path, 120)
    assert fresh and manifest["records"] == 120  # written again, not the half-written files


def test_the_written_configuration_validates_with_every_connector(tmp_path):
    sources = [
        {"id": "demo-repository", **source_options(OAI, "http://127.0.0.1:1234/oai")},
        {"id": "demo-library", **source_options(SRU, "http://127.0.0.1:1235/catalogue")},
        {"id": "demo-dissertations", **source_options(CSV, "http://127.0.0.1:1236/dissertations/register.csv")},
        {"id": "demo-patents", **source_options(PATENTS, "http://127.0.0.1:1236/patents/patents.jsonl")},
    ]
    settings = write_config(tmp_path, sources, "embedded", 8001)
    assert [s.connector for s in settings.sources] == ["oai-pmh", "sru", "tabular", "tabular"]
    assert settings.harvest.delay_seconds == 0 and settings.data_dir == tmp_path
    assert settings.source("demo-library").options["incremental_query"] == 'rec.lastModificationDate>="{since}"'
    assert settings.source("demo-dissertations").options["mapping"]["title"] == "Тема диссертации"
    assert previous_ports(tmp_path / "fedsearch.yaml") == {OAI: 1234, SRU: 1235, CSV: 1236, PATENTS: 1236}


def test_the_size_comes_from_the_environment_and_bad_values_are_explained(monkeypatch):
    monkeypatch.delenv(SIZE_ENV, raising=False)
    assert demo_size() == 3000
    monkeypatch.setenv(SIZE_ENV, "300")
    assert demo_size() == 300
    for bad in ("lots", "5"):
        monkeypatch.setenv(SIZE_ENV, bad)
        with pytest.raises(SystemExit, match=SIZE_ENV):
            demo_size()
