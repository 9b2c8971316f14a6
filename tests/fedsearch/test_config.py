"""The configuration file: validated at start, errors name the file and the key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from fedsearch.config import ConfigError
from fedsearch_app.settings import load_settings as load_config  # the file, checked down to connector options
from tests.conftest import ROOT

EXAMPLE = ROOT / "config" / "fedsearch.example.yaml"


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fedsearch_app.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT
    )


def test_example_configuration_is_valid():
    settings = load_config(EXAMPLE)
    assert settings.engine == "embedded"
    assert [s.id for s in settings.sources] == [
        "knu-repository",
        "national-library",
        "irbis-export",
        "vak-dissertations",
    ]
    assert settings.source("national-library").enabled is False


def test_check_config_accepts_the_example():
    done = run_cli("--config", str(EXAMPLE), "check-config")
    assert done.returncode == 0, done.stderr
    assert "OK" in done.stdout


@pytest.mark.parametrize(
    "yaml_text, key, words",
    [
        ("engine: solr\n", "engine", "embedded"),
        ("engine: embedded\nserver:\n  port: 99999\n", "server.port", "less than or equal to 65535"),
        (
            "sources:\n  - id: a\n    connector: oai-pmh\n    url: http://x/oai\n    metadata_prefx: oai_dc\n",
            "sources[0].metadata_prefx",
            "unknown key",
        ),
        ("sources:\n  - id: a\n    connector: gopher\n", "sources[0].connector", "oai-pmh"),
        ("sources:\n  - id: Bad Id\n    connector: oai-pmh\n", "sources[0].id", "pattern"),
        ("sources:\n  - id: a\n    connector: oai-pmh\n", "sources[0].url", "required"),
        ("elasticsearch:\n  hosts: [localhost:9200]\n", "elasticsearch.hosts[0]", "http"),
        ("elasticsearch:\n  refresh_interval: 1 s\n", "elasticsearch.refresh_interval", "pattern"),
        (
            "elasticsearch:\n  number_of_replicas: -1\n",
            "elasticsearch.number_of_replicas",
            "greater than or equal to 0",
        ),
        ("engine: [unclosed\n", "", "not valid YAML"),
        ("- just\n- a list\n", "", "mapping"),
    ],
)
def test_broken_configuration_names_file_and_key(tmp_path: Path, yaml_text: str, key: str, words: str):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.path == str(path)
    assert any(k == key and words in msg for k, msg in info.value.problems), info.value.problems

    done = run_cli("--config", str(path), "check-config")
    assert done.returncode == 2
    assert str(path) in done.stderr and (key or "top level") in done.stderr


def test_config_from_environment(tmp_path: Path):
    path = tmp_path / "env.yaml"
    path.write_text("engine: elasticsearch\n", encoding="utf-8")
    import os

    env = dict(os.environ, FEDSEARCH_CONFIG=str(path))
    done = run_cli("check-config", env=env)
    assert done.returncode == 0 and "engine elasticsearch" in done.stdout


def test_missing_file_is_a_config_error(tmp_path: Path):
    done = run_cli("--config", str(tmp_path / "nope.yaml"), "check-config")
    assert done.returncode == 2 and "file not found" in done.stderr


def test_duplicate_source_ids_are_refused(tmp_path: Path):
    path = tmp_path / "dup.yaml"
    path.write_text(
        "sources:\n"
        "  - {id: a, connector: oai-pmh, url: 'http://x/oai'}\n"
        "  - {id: a, connector: oai-pmh, url: 'http://y/oai'}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match="used twice"):
        load_config(path)


def test_elasticsearch_takes_its_own_names_for_shards_and_replicas(tmp_path: Path):
    path = tmp_path / "cluster.yaml"
    path.write_text("engine: elasticsearch\nelasticsearch:\n  number_of_shards: 3\n  replicas: 1\n", encoding="utf-8")
    es = load_config(path).elasticsearch
    assert (es.shards, es.replicas, es.refresh_interval, es.bulk_refresh_interval) == (3, 1, "1s", "-1")


def test_unknown_engine_is_named_with_the_installed_ones(tmp_path):
    from fedsearch.config import engine_names

    path = tmp_path / "fedsearch.yaml"
    path.write_text("engine: solr\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert "fedsearch.yaml" in text and "engine" in text and "'solr'" in text
    assert {"embedded", "elasticsearch"} <= set(engine_names())
    assert "installed engines: elasticsearch, embedded" in text


def test_engines_are_found_through_entry_points(tmp_path):
    from fedsearch.engines import open_engine
    from fedsearch.engines.embedded import EmbeddedEngine
    from fedsearch.engines.registry import installed

    assert {"embedded", "elasticsearch"} <= set(installed())
    from fedsearch.config import Settings

    engine = open_engine(Settings(data_dir=tmp_path))
    try:
        assert isinstance(engine, EmbeddedEngine)
    finally:
        engine.close()
