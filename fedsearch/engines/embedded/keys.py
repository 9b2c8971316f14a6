"""Sort keys and cursors of the embedded engine: values that order like (key, id).

tantivy orders by one fast field only, and every sort breaks ties by id (ascending),
like the Elasticsearch engine, so each document carries:
- sort_newest / sort_oldest / sort_title: one unique text key per sort, ordered exactly as
  (year or title, id). A page's cursor is that key;
- idkey0..7: the id in u64 columns, in an order-preserving 6-bit code, so equal scores
  can be ordered by id without loading stored documents;
- coarse_*: u64 columns that order like a text key but may tie; a deep page skips ahead
  on them (ordering.py).
"""

from __future__ import annotations

import base64
import re
from typing import Any

from fedsearch.engines.base import InvalidCursor
from fedsearch.engines.query import Sort

SORT_FIELDS = {Sort.newest: "sort_newest", Sort.oldest: "sort_oldest", Sort.title: "sort_title"}
ID_KEY_FIELDS = tuple(f"idkey{n}" for n in range(8))
ID_KEY_CHARS = 10  # 6 bits each: 60 bits per u64; ids up to 80 characters order exactly
TITLE_LEVELS = ("coarse_title0", "coarse_title1", "coarse_title2", "coarse_title3")  # 32 bytes of title
COARSE_FIELDS = ("coarse_newest", "coarse_oldest") + TITLE_LEVELS
# Numeric columns, each ordered like the text key once the previous ones are equal.
LEVELS = {
    "sort_newest": ("coarse_newest",) + ID_KEY_FIELDS,
    "sort_oldest": ("coarse_oldest",) + ID_KEY_FIELDS,
    "sort_title": TITLE_LEVELS,
    "id": ID_KEY_FIELDS,
}

ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_KEY_RE = re.compile(r"^k[-0-9A-Za-z_]+$")
# Order-preserving 6-bit alphabet, in ASCII order, all safe inside tantivy's query syntax.
_B64 = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz"
_STD_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_FROM_STD_B64 = str.maketrans(_STD_B64, _B64)
# Id characters in byte order, as codes 1..38 (0 is "past the end", sorting first).
_ID_TO_STD_B64 = str.maketrans({ch: _STD_B64[i + 1] for i, ch in enumerate("-0123456789_abcdefghijklmnopqrstuvwxyz")})
_MASK60 = (1 << 60) - 1


# --- keys ------------------------------------------------------------------------------


def encode_key(raw: bytes) -> str:
    """`raw` in 6-bit characters; byte order is kept (a < b  <=>  enc(a) < enc(b))."""
    return base64.b64encode(raw).decode("ascii").rstrip("=").translate(_FROM_STD_B64)


def sort_keys(record_id: str, year: int | None, title_sort: str) -> dict[str, str]:
    """The composite sort keys of one document: unique, and ordered like (key, id)."""
    return {
        "sort_newest": "k" + ("x" if year is None else f"{9999 - year:04d}") + record_id,
        "sort_oldest": "k" + ("x" if year is None else f"{year:04d}") + record_id,
        # \x00 sorts below every character of a title: "abc" + id comes before "abc d" + id.
        "sort_title": "k" + encode_key(title_sort.encode() + b"\x00" + record_id.encode()),
    }


def coarse_keys(year: int | None, title_sort: str) -> dict[str, int]:
    """u64 columns that order like the sort keys but may tie: they let a deep page skip ahead."""
    raw = title_sort.encode()[: 8 * len(TITLE_LEVELS)].ljust(8 * len(TITLE_LEVELS), b"\x00")
    out = {
        "coarse_newest": 10_000 if year is None else 9999 - year,
        "coarse_oldest": 10_000 if year is None else year,
    }
    for n, name in enumerate(TITLE_LEVELS):
        out[name] = int.from_bytes(raw[8 * n : 8 * n + 8], "big")
    return out


def id_key(record_id: str) -> tuple[int, ...]:
    """Eight integers ordered like the id string (exact for ids up to 80 characters).

    Each character becomes a 6-bit code (0 = past the end); base64-decoding the codes
    written as base64 digits packs them, ten to a 60-bit integer.
    """
    width = ID_KEY_CHARS * len(ID_KEY_FIELDS)
    head = record_id[:width]
    if not ID_RE.match(head):
        raise ValueError(f"not an id: {record_id!r}")
    n = int.from_bytes(base64.b64decode(head.translate(_ID_TO_STD_B64).ljust(width, "A")), "big")
    return tuple((n >> (60 * (len(ID_KEY_FIELDS) - 1 - k))) & _MASK60 for k in range(len(ID_KEY_FIELDS)))


# --- cursors ---------------------------------------------------------------------------
# newest / oldest / title: [sort key]; relevance: [score, id, position], the position
# only saying where to start looking.


def _bad_cursor() -> InvalidCursor:
    return InvalidCursor("this cursor is not valid; start again from the first page")


def key_cursor(after: list[Any] | None) -> str | None:
    if after is None:
        return None
    if len(after) != 1 or not isinstance(after[0], str) or not _KEY_RE.match(after[0]):
        raise _bad_cursor()
    return after[0]


def id_cursor(after: list[Any] | None) -> str | None:
    if after is None:
        return None
    found = score_cursor(after)
    assert found is not None
    return found[1]


def score_cursor(after: list[Any] | None) -> tuple[float, str, int] | None:
    if after is None:
        return None
    if len(after) != 3:
        raise _bad_cursor()
    score, record_id, pos = after
    if isinstance(score, bool) or not isinstance(score, (int, float)) or not isinstance(record_id, str):
        raise _bad_cursor()
    if not ID_RE.match(record_id) or isinstance(pos, bool) or not isinstance(pos, int) or pos < 0:
        raise _bad_cursor()
    return float(score), record_id, pos
