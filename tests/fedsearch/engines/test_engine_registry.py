"""A third-party engine, installed the way a package installs one (a distribution with a
`fedsearch.engines` entry point on sys.path), is found by name, picked by the
configuration, and passes the conformance suite through the reusable mixin."""

from __future__ import annotations

import sys
import tempfile
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from fedsearch.config import ConfigError, Settings, engine_names, validate_settings
from fedsearch.engines import SearchEngine, open_engine, registry
from fedsearch.testing.conformance import EngineConformance

_SITE = Path(tempfile.mkdtemp(prefix="fedsearch-plugin-"))


def _install_plugin(site: Path) -> None:
    """What `pip install fedsearch-plugin-engine` leaves on disk: a module and its dist-info."""
    (site / "plugin_engine.py").write_text(
        textwrap.dedent(
            """
            from fedsearch.engines.embedded import EmbeddedEngine


            class PluginEngine(EmbeddedEngine):
                name = "plugin"


            def from_settings(settings, *, writer=False):
                return PluginEngine(settings.data_dir / "plugin-index", writer=writer)
            """
        )
    )
    info = site / "fedsearch_plugin_engine-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fedsearch-plugin-engine\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[fedsearch.engines]\nplugin = plugin_engine:from_settings\n")


@pytest.fixture(scope="module", autouse=True)
def plugin_installed() -> Iterator[None]:
    _install_plugin(_SITE)
    sys.path.insert(0, str(_SITE))
    registry.installed.cache_clear()
    yield
    sys.path.remove(str(_SITE))
    sys.modules.pop("plugin_engine", None)
    registry.installed.cache_clear()


def test_an_installed_engine_is_listed_and_picked_by_the_configuration(tmp_path: Path) -> None:
    assert engine_names() == ["elasticsearch", "embedded", "plugin"]
    settings = validate_settings({"engine": "plugin", "data_dir": str(tmp_path)})
    engine = open_engine(settings, writer=True)
    try:
        assert type(engine).__name__ == "PluginEngine" and engine.name == "plugin"
    finally:
        engine.close()
    with pytest.raises(ConfigError) as err:
        validate_settings({"engine": "plugn"}, "site.yaml")
    assert "site.yaml: engine: unknown engine 'plugn'; installed engines: elasticsearch, embedded, plugin" in str(
        err.value
    )


class TestPluginEngine(EngineConformance):
    """The whole suite, run by a third party's engine exactly as docs/engines.md shows."""

    @classmethod
    def new_engine(cls, request: pytest.FixtureRequest, directory: Path) -> SearchEngine:
        return open_engine(Settings(engine="plugin", data_dir=directory), writer=True)
