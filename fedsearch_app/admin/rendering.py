"""Admin pages render through the public UI's Jinja environment (base template, i18n, filters),
overlaid with the admin's own templates, and get `no-store` on top of the UI's security headers.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import ChoiceLoader, FileSystemLoader, pass_context
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from fedsearch_app.admin.option_texts import CONNECTOR_TEXTS
from search_api.http import etag_for, not_modified
from web_ui import i18n, templating
from web_ui.i18n import gettext_ as _

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_FILES = {"admin.css": "text/css; charset=utf-8", "admin.js": "text/javascript; charset=utf-8"}

env = templating.env.overlay(loader=ChoiceLoader([FileSystemLoader(str(HERE / "templates")), templating.env.loader]))
env.globals = dict(env.globals)  # an overlay shares these dicts with the public environment: add to copies
env.filters = dict(env.filters)


@cache
def _static_hash(name: str) -> str:
    return hashlib.blake2b((STATIC_DIR / name).read_bytes(), digest_size=6).hexdigest()


def admin_static_url(name: str) -> str:
    return f"/admin/static/{name}?v={_static_hash(name)}"


@cache
def _static_content(name: str) -> bytes:
    return (STATIC_DIR / name).read_bytes()


def static_response(request: Request, name: str) -> Response:
    if name not in STATIC_FILES:
        return Response(status_code=404)
    content = _static_content(name)
    etag = etag_for(content)
    immutable = request.query_params.get("v") == _static_hash(name)
    headers = {
        "ETag": etag,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "public, max-age=31536000, immutable" if immutable else "public, max-age=3600",
    }
    if not_modified(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=STATIC_FILES[name], headers=headers)


def local_time(value: str | datetime | None, zone: tzinfo = UTC) -> str:
    """A time as the admin shows it, in the server's zone (server.timezone): 2026-11-25 20:03 UTC+6."""
    if not value:
        return "—"
    t = datetime.fromisoformat(value) if isinstance(value, str) else value
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    t = t.astimezone(zone)
    minutes = int((t.utcoffset() or timedelta()).total_seconds() // 60)
    offset = (
        ""
        if minutes == 0
        else f"{'+' if minutes > 0 else '-'}{abs(minutes) // 60}"
        + (f":{abs(minutes) % 60:02d}" if minutes % 60 else "")
    )
    return t.strftime("%Y-%m-%d %H:%M") + f" UTC{offset}"


@pass_context
def when(context: Any, value: str | datetime | None) -> str:
    return local_time(value, context.get("zone") or UTC)


def zone_of(request: Request) -> tzinfo:
    return ZoneInfo(request.app.state.settings.server.timezone)


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    if s < 60:
        return _("%(s)s s") % {"s": s}
    if s < 3600:
        return _("%(m)s min %(s)s s") % {"m": s // 60, "s": s % 60}
    return _("%(h)s h %(m)s min") % {"h": s // 3600, "m": (s % 3600) // 60}


env.globals.update(admin_static_url=admin_static_url, CONNECTOR_TEXTS=CONNECTOR_TEXTS)
env.filters.update(when=when, duration=duration)


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    """Like web_ui.templating.render, with the admin's templates, session and CSRF token in the context."""
    lang = templating.request_lang(request)
    session = getattr(request.state, "admin_session", None)
    ctx = {
        "request": request,
        "lang": lang,
        "site_name": request.app.state.site_name,
        "url": lambda path, items=None: templating.url_keeping_lang(request, path, items),
        "lang_url": lambda code: templating.lang_switch_url(request, code),
        "session": session,
        "user": session.user if session else None,
        "csrf": session.csrf if session else getattr(request.state, "login_token", ""),
        "zone": zone_of(request),
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    headers = {**templating.SECURITY_HEADERS, "Cache-Control": "no-store", "X-Frame-Options": "DENY"}
    response = HTMLResponse(html, status_code=status_code, headers=headers)
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGS and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=templating.LANG_COOKIE_MAX_AGE,
            path="/",
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
