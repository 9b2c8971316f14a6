"""Finds engines through the `fedsearch.engines` entry-point group, as connectors are found.

An entry point names a factory `(settings, *, writer) -> SearchEngine`. This package
declares `embedded` and `elasticsearch` (pyproject.toml); another package adds an engine
by being installed with an entry point in the group, and `engine: <name>` in the
configuration picks it (fedsearch/config.py checks the name against `engine_names`).
docs/engines.md tells how a new engine proves itself with the conformance suite.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Protocol

from fedsearch.config import ENGINE_GROUP, engine_names
from fedsearch.errors import FedsearchError

if TYPE_CHECKING:
    from fedsearch.config import Settings
    from fedsearch.engines.base import SearchEngine


class EngineFactory(Protocol):
    def __call__(self, settings: Settings, *, writer: bool = False) -> SearchEngine: ...


class UnknownEngine(FedsearchError, LookupError):
    error_code = "config.unknown_engine"


# The two engines of this package, also when it runs from a checkout whose entry points
# were never installed (pip install -e . writes them).
_BUILT_IN = {
    "elasticsearch": "fedsearch.engines.elasticsearch:from_settings",
    "embedded": "fedsearch.engines.embedded:from_settings",
}


@cache
def installed() -> dict[str, EngineFactory]:
    """Engine name -> factory, for every installed engine."""
    from importlib import import_module

    found: dict[str, EngineFactory] = {}
    for name, target in _BUILT_IN.items():
        module, attr = target.split(":")
        found[name] = getattr(import_module(module), attr)
    for ep in entry_points(group=ENGINE_GROUP):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def get_engine(name: str) -> EngineFactory:
    if name not in engine_names():
        raise UnknownEngine(f"unknown engine {name!r}; installed engines: {', '.join(engine_names())}")
    return installed()[name]


def open_engine(settings: Settings, *, writer: bool = False) -> SearchEngine:
    """The engine the configuration names. Only one process should open the embedded one as writer."""
    return get_engine(settings.engine)(settings, writer=writer)
