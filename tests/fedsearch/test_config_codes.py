"""Configuration problems carry stable codes, and their messages name the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsearch.config import ConfigError, load_config
from fedsearch_app.settings import load_settings


@pytest.mark.parametrize(
    "yaml_text, key, code",
    [
        ("engine: solr\n", "engine", "config.invalid_value"),
        ("engne: embedded\n", "engne", "config.unknown_key"),
        (
            "sources:\n  - id: a\n    connector: oai-pmh\n    url: http://x/oai\n    metadata_prefx: oai_dc\n",
            "sources[0].metadata_prefx",
            "config.unknown_key",
        ),
        ("sources:\n  - id: a\n    connector: oai-pmh\n", "sources[0].url", "config.missing_key"),
        ("sources:\n  - id: a\n    connector: gopher\n", "sources[0].connector", "config.unknown_connector"),
        ("engine: [unclosed\n", "", "config.unreadable"),
        ("- just\n- a list\n", "", "config.unreadable"),
    ],
)
def test_each_problem_has_a_code_and_names_file_and_key(tmp_path: Path, yaml_text: str, key: str, code: str):
    path = tmp_path / "broken.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path)  # the programs' loader: the file, then each source's connector options
    err = info.value
    assert len(err.codes) == len(err.problems)
    assert (key, code) in [(k, c) for (k, _msg), c in zip(err.problems, err.codes)], (err.problems, err.codes)
    assert err.error_code == code  # one problem: its code is the error's
    assert str(path) in str(err) and (key or "(top level)") in str(err)


def test_a_missing_file_and_mixed_problems(tmp_path: Path):
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nowhere.yaml")
    assert info.value.error_code == "config.not_found"
    path = tmp_path / "two.yaml"
    path.write_text("engne: embedded\nengine: solr\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert sorted(info.value.codes) == ["config.invalid_value", "config.unknown_key"]
    assert info.value.error_code == "config.invalid"  # codes that disagree: the general one
