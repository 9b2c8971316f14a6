"""HTTP helpers shared by the API and the web UI: absolute URLs, ETags and cache headers."""

from __future__ import annotations

import hashlib

from starlette.requests import Request
from starlette.responses import Response

from search_api.models import Urls


def urls_for(request: Request) -> Urls:
    base = request.app.state.settings.server.base_url or str(request.base_url)
    return Urls(base)


def etag_for(content: bytes) -> str:
    # Weak: the same entity may be sent gzip-compressed or not (RFC 9110 §8.8.1).
    # SHA-256 runs on the CPU's SHA instructions: half blake2b's time on a 25 KB search page.
    return 'W/"' + hashlib.sha256(content).hexdigest()[:24] + '"'


def not_modified(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    if header.strip() == "*":
        return True
    want = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == want for tag in header.split(","))


def cached_response(
    request: Request,
    content: bytes,
    media_type: str,
    *,
    max_age: int,
    headers: dict[str, str] | None = None,
    status_code: int = 200,
    etag_source: bytes | None = None,
) -> Response:
    """A response with an ETag and Cache-Control, or 304 when the client's copy is current.

    `etag_source` stands in for the content when part of it (a timing) changes on every call.
    """
    etag = etag_for(content if etag_source is None else etag_source)
    cache = {"ETag": etag, "Cache-Control": f"public, max-age={max_age}"}
    if not request.app.state.settings.server.base_url:
        cache["Vary"] = "Host"  # absolute links in the body come from the Host header
    if not_modified(request, etag):
        return Response(status_code=304, headers=cache)
    return Response(content, status_code=status_code, media_type=media_type, headers={**cache, **(headers or {})})
