"""HEAD wherever GET works, and OPTIONS that says what is allowed.

FastAPI routes declared with GET answer HEAD with 405, which breaks `curl -I` and
uptime monitors; and an OPTIONS request (a CORS preflight when CORS is off, or a
client asking) got 405 too. This middleware sits inside CORSMiddleware, so
preflights from allowed origins never reach it; the rest get 204 with `Allow`
and no Access-Control-* headers, so a browser still refuses a cross-origin call.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


def _route_methods(routes: Iterable[Any], probe: Scope) -> set[str]:
    methods: set[str] = set()
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI's include_router wrapper: look inside
        if included is not None:
            prefix = route.include_context.prefix
            if probe["path"].startswith(prefix):
                methods |= _route_methods(included.routes, {**probe, "path": probe["path"][len(prefix) :] or "/"})
            continue
        match, _ = route.matches(probe)
        if match != Match.NONE:
            methods |= set(getattr(route, "methods", None) or {"GET"})
    return methods


def allowed_methods(scope: Scope) -> set[str]:
    """The methods the app's routes accept at this path (empty if no route has the path)."""
    methods = _route_methods(scope["app"].router.routes, {**scope, "method": "GET"})
    if "GET" in methods:
        methods.add("HEAD")
    return methods | {"OPTIONS"} if methods else methods


class HeadAndOptions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        allowed = allowed_methods(scope)
        if scope["method"] == "OPTIONS" and allowed:
            await send(
                {
                    "type": "http.response.start",
                    "status": 204,
                    "headers": [(b"allow", ", ".join(sorted(allowed)).encode()), (b"content-length", b"0")],
                }
            )
            await send({"type": "http.response.body", "body": b""})
            return
        if scope["method"] == "HEAD" and "GET" in allowed:

            async def headers_only(message: Message) -> None:
                if message["type"] == "http.response.body":  # the GET's headers (Content-Length too), no body
                    message = {**message, "body": b""}
                await send(message)

            await self.app({**scope, "method": "GET"}, receive, headers_only)
            return
        await self.app(scope, receive, send)
