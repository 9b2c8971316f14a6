"""Resumption tokens: the whole state of a list, so any of our processes can serve the next page.

A list's window is pinned at its first request: `until` becomes min(the asked until, now),
so works written during the harvest fall outside it (the next incremental harvest, from
this one's responseDate, gets them) and never shift a page. Pages follow a (datestamp, id)
cursor: the entry after the last one served, at any depth, at the same cost.
`completeListSize` is counted once, at the first request; changes during the harvest may
make it an estimate, which the spec allows.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import asdict, dataclass

from search_api.oai.errors import BadResumptionToken

LIFETIME = 24 * 3600  # seconds a token is honoured (its expirationDate)
VERSION = 1


@dataclass(frozen=True)
class ResumptionToken:
    verb: str  # ListRecords | ListIdentifiers
    prefix: str  # metadataPrefix
    set: str | None
    since: int | None  # from, epoch seconds
    until: int  # pinned at the first request
    stamp: int  # cursor: the last entry served
    id: str
    total: int  # completeListSize
    served: int  # entries before this page (the token's `cursor` attribute)
    issued: int  # epoch seconds

    @property
    def expires(self) -> int:
        return self.issued + LIFETIME

    def encode(self) -> str:
        raw = json.dumps({"v": VERSION, **asdict(self)}, separators=(",", ":"), ensure_ascii=True)
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, verb: str, now: float | None = None) -> ResumptionToken:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            data = json.loads(raw)
            if not isinstance(data, dict) or data.pop("v", None) != VERSION:
                raise ValueError("unknown version")
            token = cls(**data)
            _check_types(token)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            raise BadResumptionToken(f"the resumptionToken {text[:60]!r} is not one this repository issued") from None
        if token.verb != verb:
            raise BadResumptionToken(f"this resumptionToken continues {token.verb}, not {verb}")
        if (now if now is not None else time.time()) > token.expires:
            raise BadResumptionToken("this resumptionToken has expired; start the list again")
        return token


def _check_types(t: ResumptionToken) -> None:
    ints = (t.until, t.stamp, t.total, t.served, t.issued) + ((t.since,) if t.since is not None else ())
    if not all(type(v) is int for v in ints) or not isinstance(t.verb, str) or not isinstance(t.prefix, str):
        raise ValueError("bad field types")
    if not isinstance(t.id, str) or (t.set is not None and not isinstance(t.set, str)) or t.served < 0:
        raise ValueError("bad field types")
