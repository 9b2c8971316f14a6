"""Identifier normalization: one canonical spelling per identifier, so equal ones match.

- DOI: lower case, resolver and scheme prefixes stripped ("https://doi.org/", "doi:", "info:doi/").
- ISBN: ISBN-13 digits only; ISBN-10 is converted. Check digits are verified;
  an ISBN that fails goes to `other` as "isbn:<as given>", never to `isbn`.
- ISSN: "NNNN-NNNX" with a verified check digit (failures go to `other`).
- Handle: "prefix/suffix", resolver prefixes ("hdl:", hdl.handle.net) stripped.
- URN: lower-case "urn:" scheme and NID, the rest as given ("urn:nbn:de:...").
- Patent: upper case, spaces, hyphens and "№" removed: "KG 1234 C1" -> "KG1234C1",
  "№ 1234" -> "1234" (a number without a country stays bare).
- ORCID: "0000-0002-1825-0097" with a verified ISO 7064 check digit.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

_DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)
_DOI_PREFIX = re.compile(
    r"^(?:https?://(?:dx\.)?doi\.org/|https?://doi\.[a-z]+\.org/|doi:\s*|info:doi/|urn:doi:)", re.I
)
_HANDLE_PREFIX = re.compile(r"^(?:https?://hdl\.handle\.net/|hdl:\s*|info:hdl/|urn:handle:)", re.I)
_ISSN_RE = re.compile(r"(?<![\dX-])(\d{4})\s?[-‐–]?\s?(\d{3}[\dXx])(?![\dX])")
_ORCID_RE = re.compile(r"(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dXx])")


def doi(value: str) -> str | None:
    """Canonical DOI or None: 'https://doi.org/10.1000/ABC' -> '10.1000/abc'."""
    v = unquote(value.strip())
    v = _DOI_PREFIX.sub("", v).strip()
    m = _DOI_RE.search(v) if not v.startswith("10.") else _DOI_RE.match(v)
    if not m:
        return None
    d = m.group(1).rstrip(".,;)]}>")
    return d.lower()


def is_doi(value: str) -> bool:
    v = value.strip()
    return bool(_DOI_PREFIX.match(v) or re.match(r"^10\.\d{4,9}/\S+$", v))


def handle(value: str) -> str | None:
    v = value.strip()
    if not _HANDLE_PREFIX.match(v):
        return None
    v = _HANDLE_PREFIX.sub("", v).strip().strip("/")
    return v if re.match(r"^[^/\s]+/\S+$", v) else None


def handle_or_bare(value: str) -> str | None:
    """A handle whose kind is stated (MARC 024 $2 hdl): resolver prefix optional."""
    v = value.strip()
    return handle(v) or (v if re.match(r"^\d[\d.]*/\S+$", v) else None)


def _isbn10_ok(d: str) -> bool:
    total = sum((10 - i) * (10 if c in "Xx" else int(c)) for i, c in enumerate(d))
    return total % 11 == 0


def _isbn13_check(d12: str) -> int:
    return (10 - sum((3 if i % 2 else 1) * int(c) for i, c in enumerate(d12)) % 10) % 10


def isbn(value: str) -> str | None:
    """ISBN-13 digits for a valid ISBN-10 or ISBN-13; None if the check digit fails."""
    d = re.sub(r"[^0-9Xx]", "", value)
    if len(d) == 10 and d[:9].isdigit() and _isbn10_ok(d):
        core = "978" + d[:9]
        return core + str(_isbn13_check(core))
    if len(d) == 13 and d.isdigit() and d[:3] in ("978", "979") and _isbn13_check(d[:12]) == int(d[12]):
        return d
    return None


_ISBN_CANDIDATE = re.compile(r"(?<![\dX])(97[89][\d\- ]{10,16}|\d[\d\- ]{8,12}[\dXx])(?![\dX])")


def isbn_candidates(text: str) -> list[str]:
    """ISBN-looking substrings of a field that may carry more ('978-3-16-148410-0 (pbk.) : 12 EUR')."""
    out = []
    for m in _ISBN_CANDIDATE.finditer(text.replace("‐", "-").replace("–", "-")):
        digits = re.sub(r"[^0-9Xx]", "", m.group(1))
        if len(digits) in (10, 13):
            out.append(m.group(1).strip(" -"))
    return out


def issn(value: str) -> str | None:
    m = _ISSN_RE.search(value.replace("‐", "-"))
    if not m:
        return None
    d = (m.group(1) + m.group(2)).upper()
    total = sum((8 - i) * int(c) for i, c in enumerate(d[:7]))
    check = (11 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != d[7]:
        return None
    return f"{d[:4]}-{d[4:]}"


def urn(value: str) -> str | None:
    v = value.strip()
    m = re.match(r"^urn:([a-z0-9][a-z0-9-]{0,31}):(\S+)$", v, re.I)
    if not m:
        return None
    return f"urn:{m.group(1).lower()}:{m.group(2)}"


def patent(value: str) -> str | None:
    """'KG 1234 C1' -> 'KG1234C1'; 'Patent № 2 345 678' -> '2345678'."""
    v = value.strip().upper()
    v = re.sub(r"^(?:PATENT|ПАТЕНТ|ПАТ\.?|NO\.?|№)\s*", "", v)
    v = re.sub(r"(?:№|NO\.?)\s*", "", v)
    v = re.sub(r"[\s\-/]", "", v)
    if re.match(r"^(?:[A-Z]{2})?\d[\d.]*(?:[A-Z]\d?)?$", v):
        return v
    return None


def register(value: str) -> str | None:
    """A dissertation register number as the register writes it, spacing and case evened: 'д-2024-000001' -> 'Д-2024-000001'."""
    v = re.sub(r"\s+", "", value.strip().upper())
    if re.match(r"^[\w./-]{3,40}$", v) and any(ch.isdigit() for ch in v):
        return v
    return None


def orcid(value: str | None) -> str | None:
    """'https://orcid.org/0000-0002-1825-0097' -> '0000-0002-1825-0097'; None if the check digit fails."""
    if not value:
        return None
    m = _ORCID_RE.search(value)
    if not m:
        return None
    digits = "".join(m.groups()).upper()
    total = 0
    for c in digits[:15]:
        total = (total + int(c)) * 2
    check = (12 - total % 11) % 11
    if ("X" if check == 10 else str(check)) != digits[15]:
        return None
    return "-".join(digits[i : i + 4] for i in range(0, 16, 4))


def clean_url(value: str) -> str | None:
    """An http(s) URL fit for a Link (spaces escaped), or None."""
    v = value.strip()
    if not re.match(r"^https?://[^\s/]+", v, re.I):
        return None
    v = quote(v, safe=":/?#[]@!$&'()*+,;=%~-._")
    return v if len(v) <= 2000 else None


def classify(value: str) -> tuple[str, str] | None:
    """What a bare identifier string is: ("doi"|"handle"|"isbn"|"issn"|"urn"|"url"|"other", value).

    Used for dc:identifier and spreadsheet columns whose kind is not declared.
    None for OAI identifiers and text that is not an identifier (a citation).
    """
    v = value.strip()
    if not v or len(v) > 500:
        return None
    low = v.lower()
    if low.startswith("oai:"):
        return None
    if low.startswith("urn:isbn:"):
        i = isbn(v[9:])
        return ("isbn", i) if i else ("other", f"isbn:{v[9:]}")
    if low.startswith("urn:issn:"):
        s = issn(v[9:])
        return ("issn", s) if s else ("other", f"issn:{v[9:]}")
    if is_doi(v):
        d = doi(v)
        if d:
            return ("doi", d)
    h = handle(v)
    if h:
        return ("handle", h)
    u = urn(v)
    if u:
        return ("urn", u)
    if re.match(r"^https?://", low):
        url = clean_url(v)
        return ("url", url) if url else None
    m = re.match(r"^(isbn|issn)[\s:]*(.+)$", low)
    if m:
        kind, rest = m.group(1), v[m.end(1) :].strip(" :")
        norm = isbn(rest) if kind == "isbn" else issn(rest)
        return (kind, norm) if norm else ("other", f"{kind}:{rest}")
    if " " in v.strip() and len(v) > 40:
        return None  # a citation or note
    digits = re.sub(r"[\s-]", "", v)
    if re.fullmatch(r"\d{9}[\dXx]|97[89]\d{10}", digits):
        i = isbn(v)
        return ("isbn", i) if i else ("other", f"isbn:{v}")
    if re.fullmatch(r"\d{4}-\d{3}[\dXx]", v):
        s = issn(v)
        return ("issn", s) if s else ("other", f"issn:{v}")
    return ("other", v)
