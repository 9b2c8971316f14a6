"""Why a raw record could not become a Record (the pipeline quarantines it with the reason)."""

from __future__ import annotations

from fedsearch.errors import FedsearchError


class NormalizationError(FedsearchError, ValueError):
    error_code = "record.not_normalizable"

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)
