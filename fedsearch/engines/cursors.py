"""Cursors: the sort values of a page's last hit, opaque to the caller, tied to the sort order."""

from __future__ import annotations

import base64
import json
from typing import Any

from fedsearch.errors import FedsearchError


class InvalidCursor(FedsearchError, ValueError):
    """A cursor that is not one we issued, or from another sort order."""

    error_code = "api.invalid_cursor"


def encode_cursor(sort: str, values: list[Any]) -> str:
    raw = json.dumps({"s": sort, "v": values}, separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: str) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        values = data["v"]
        if not isinstance(values, list):
            raise TypeError
    except Exception:  # noqa: BLE001 - whatever a malformed cursor breaks, it is not valid
        raise InvalidCursor("this cursor is not valid; start again from the first page") from None
    if data.get("s") != sort:
        raise InvalidCursor(
            f"this cursor belongs to sort {data.get('s')!r}, not {sort!r}; start again from the first page"
        )
    return values
