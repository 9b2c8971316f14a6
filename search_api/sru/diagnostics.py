"""SRU diagnostics: the standard list (https://www.loc.gov/standards/sru/diagnostics/diagnosticsList.html).

A request we can't answer raises `Diagnostic(number, details)`; the route answers it as
the version's diagnostics element, with HTTP 200 as SRU asks.
"""

from __future__ import annotations

from fedsearch.errors import FedsearchError

MESSAGES: dict[int, str] = {
    1: "General system error",
    2: "System temporarily unavailable",
    4: "Unsupported operation",
    5: "Unsupported version",
    6: "Unsupported parameter value",
    7: "Mandatory parameter not supplied",
    8: "Unsupported parameter",
    10: "Query syntax error",
    15: "Unsupported context set",
    16: "Unsupported index",
    19: "Unsupported relation",
    20: "Unsupported relation modifier",
    22: "Unsupported combination of relation and index",
    23: "Too many characters in term",
    27: "Empty term unsupported",
    28: "Masking character not supported",
    29: "Masked words too short",
    36: "Term in invalid format for index or relation",
    37: "Unsupported boolean operator",
    38: "Too many boolean operators in query",
    46: "Unsupported boolean modifier",
    61: "First record position out of range",
    66: "Unknown schema for retrieval",
    71: "Unsupported record packing",
    80: "Sort not supported",
    110: "Stylesheets not supported",
}


class Diagnostic(FedsearchError):
    """A fatal SRU diagnostic: what went wrong (`number`) and where (`details`, e.g. the index name)."""

    error_code = "api.sru.diagnostic"  # the number says which: info:srw/diagnostic/1/<number>

    def __init__(self, number: int, details: str = "", message: str | None = None):
        self.number = number
        self.details = details
        self.message = message or MESSAGES.get(number, "Unsupported request")
        super().__init__(f"{self.number} {self.message}: {details}" if details else f"{self.number} {self.message}")

    @property
    def uri(self) -> str:
        return f"info:srw/diagnostic/1/{self.number}"
