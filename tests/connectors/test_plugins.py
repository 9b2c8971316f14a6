"""Connectors are plugins: found through the `fedsearch.connectors` entry points, each with its options model."""

from __future__ import annotations

import sys
import textwrap

import pytest

from connectors.base import ConnectorOptions
from connectors.registry import installed, source_problems
from fedsearch.config import ConfigError, validate_settings
from rawstore.harvest import harvest_source
from tests.connectors.conftest import make_settings


def test_the_four_connectors_are_installed_with_options_models_an_admin_form_can_use():
    found = installed()
    assert {name: f"{cls.__module__}.{cls.__name__}" for name, cls in found.items()} == {
        "marc-file": "connectors.marcfile.MarcFileConnector",
        "oai-pmh": "connectors.oaipmh.OaiPmhConnector",
        "sru": "connectors.sru.SruConnector",
        "tabular": "connectors.tabular.TabularConnector",
    }
    for name, cls in found.items():
        assert cls.name == name and cls.description
        assert issubclass(cls.Options, ConnectorOptions)
        schema = cls.Options.model_json_schema()
        undocumented = [k for k, v in schema["properties"].items() if not v.get("description")]
        assert undocumented == [], f"{name}: options without a description: {undocumented}"


def test_a_bad_option_is_reported_with_its_key():
    data = {"sources": [{"id": "repo", "connector": "oai-pmh", "metadata_prefx": "oai_dc"}]}
    assert validate_settings(data, "f.yaml").sources[0].connector == "oai-pmh"  # the core knows no connector
    with pytest.raises(ConfigError) as caught:
        validate_settings(data, "f.yaml", check_sources=source_problems)  # the registry does
    keys = dict(caught.value.problems)
    assert "sources[0].url" in keys and "sources[0].metadata_prefx" in keys


def test_another_package_adds_a_connector_through_an_entry_point(tmp_path, store, monkeypatch):
    (tmp_path / "kg_example_connector.py").write_text(
        textwrap.dedent("""
        from typing import Annotated
        from pydantic import Field
        from connectors.base import Checkpoint, Connector, ConnectorOptions, RawRecord

        class CountOptions(ConnectorOptions):
            count: Annotated[int, Field(ge=1, description="How many records to make")] = 3

        class CountConnector(Connector):
            name = "count"
            Options = CountOptions
            description = "Makes numbered records"

            def harvest(self, *, since, checkpoint):
                for i in range(self.options.count):
                    yield RawRecord(local_id=str(i), format="tabular", payload=b'{"n": %d}' % i)
                yield Checkpoint({"done": True})
    """)
    )
    dist = tmp_path / "kg_example_connector-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: kg-example-connector\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[fedsearch.connectors]\ncount = kg_example_connector:CountConnector\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    installed.cache_clear()
    try:
        assert "count" in installed()
        settings = make_settings(tmp_path, {"id": "made", "connector": "count", "count": 4})
        run = harvest_source(settings, "made", store)
        assert run.ok and run.new == 4
    finally:
        sys.modules.pop("kg_example_connector", None)
        installed.cache_clear()
