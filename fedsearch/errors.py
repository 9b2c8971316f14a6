"""The root of fedsearch's own errors, and their stable codes.

Every error a user, a librarian or a program may see derives from FedsearchError and
carries `error_code`: a dotted, stable name (`partner.oai.badResumptionToken`,
`config.invalid`, `engine.unavailable`). Messages are English for logs and the CLI;
the API sends the code in its problem responses, and the admin maps codes to
translated sentences (fedsearch_app/admin/plain.py). A code, once published, keeps
its meaning; add new ones rather than reuse.

Our own words are snake_case; a protocol's own code is kept as the protocol spells it
(OAI-PMH's badResumptionToken).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import ClassVar


class FedsearchError(Exception):
    """Something went wrong that fedsearch can name. Subclasses set `error_code`."""

    error_code: ClassVar[str] = "internal"


def causes(err: BaseException) -> Iterator[BaseException]:
    """`err`, then what caused it (raise ... from), then what it happened during."""
    seen: set[int] = set()
    current: BaseException | None = err
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def error_code(err: BaseException) -> str:
    """The code of `err`, or of the first of its causes that has one; "internal" for a bug."""
    for e in causes(err):
        code = getattr(e, "error_code", None)
        if isinstance(code, str):
            return code
    return FedsearchError.error_code
