"""The configuration as the programs load it: the file, checked down to each source's connector options.

fedsearch.config validates the file's own shape; which connectors exist and what options
they take is known only to the connector registry, so the programs (CLI, server, demo,
admin) load through here.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from connectors.registry import source_problems
from fedsearch.config import Settings, load_config, validate_settings


def load_settings(explicit: str | os.PathLike[str] | None = None) -> Settings:
    """fedsearch.config.load_config, plus the connector registry's checks of the sources."""
    return load_config(explicit, check_sources=source_problems)


def validate(data: Any, path: Path | str = "<memory>") -> Settings:
    """fedsearch.config.validate_settings, plus the connector registry's checks of the sources."""
    return validate_settings(data, path, check_sources=source_problems)
