"""Finds connector plugins through the `fedsearch.connectors` entry-point group.

Another package adds a connector just by being installed with an entry point
in that group; `fedsearch connectors` lists what is installed.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from fedsearch.config import validation_problems
from fedsearch.errors import FedsearchError

if TYPE_CHECKING:
    from connectors.base import Connector
    from fedsearch.config import SourceConfig

GROUP = "fedsearch.connectors"


class UnknownConnector(FedsearchError, LookupError):
    error_code = "config.unknown_connector"


@cache
def installed() -> dict[str, type[Connector]]:
    """Connector name -> class, for every installed plugin."""
    found = {}
    for ep in entry_points(group=GROUP):
        found[ep.name] = ep.load()
    return dict(sorted(found.items()))


def get_connector(name: str) -> type[Connector]:
    connectors = installed()
    if name not in connectors:
        known = ", ".join(connectors) or "none installed"
        raise UnknownConnector(f"unknown connector {name!r}; installed connectors: {known}")
    return connectors[name]


def validate_options(source: SourceConfig) -> BaseModel:
    """The source's connector options, validated by the connector's own model."""
    return get_connector(source.connector).Options.model_validate(source.options)


def source_problems(sources: list[SourceConfig]) -> list[tuple[str, str]]:
    """(key, message) for each source whose connector is unknown or whose options it refuses.

    Pass it as `check_sources` to fedsearch.config's loaders (fedsearch_app.settings does).
    """
    problems: list[tuple[str, str]] = []
    for i, source in enumerate(sources):
        try:
            validate_options(source)
        except UnknownConnector as err:
            problems.append((f"sources[{i}].connector", str(err)))
        except ValidationError as err:
            problems.extend(validation_problems(err, ("sources", i)))
    return problems
