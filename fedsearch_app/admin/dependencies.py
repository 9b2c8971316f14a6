"""What every admin route needs: the session check, the admin-only check, and small helpers.

Every router but the login one is made by `admin_router()`, whose one dependency
(`require_session`) refuses any request without a valid session and any POST without
the session's CSRF token, so no route can forget either. Admin-only routes add
`ADMIN_ONLY`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse

from connectors.base import Connector
from connectors.registry import UnknownConnector, get_connector
from fedsearch.config import SourceConfig
from fedsearch_app.admin.sessions import COOKIE, same_token
from fedsearch_app.admin.site import AdminSite
from web_ui.templating import request_lang

IMPORT_MAX_BYTES = 1024 * 1024  # the largest form we read (a YAML import)


class LoginRequired(Exception):
    pass


class CsrfRejected(Exception):
    pass


class Forbidden(Exception):
    pass


class NotFound(Exception):
    pass


def site_of(request: Request) -> AdminSite:
    return request.app.state.admin


async def require_session(request: Request) -> None:
    """Every /admin route but login: a valid session; on POST, the session's CSRF token too."""
    request_lang(request)
    session = site_of(request).sessions.load(request.cookies.get(COOKIE))
    if session is None:
        raise LoginRequired()
    request.state.admin_session = session
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        form = await request.form(max_part_size=IMPORT_MAX_BYTES)
        request.state.form = form
        token = form.get("csrf") or request.headers.get("x-csrf-token")
        if not same_token(session.csrf, token if isinstance(token, str) else None):
            raise CsrfRejected()


def require_admin(request: Request) -> None:
    if not request.state.admin_session.user.is_admin:
        raise Forbidden()


def public_router() -> APIRouter:
    """Routes anyone may reach: only the login form and the admin's static files."""
    return APIRouter(prefix="/admin", include_in_schema=False)


def admin_router() -> APIRouter:
    """Routes behind a session (and, on POST, its CSRF token): every other admin route."""
    return APIRouter(prefix="/admin", include_in_schema=False, dependencies=[Depends(require_session)])


ADMIN_ONLY = [Depends(require_admin)]


def user_of(request: Request) -> str:
    return request.state.admin_session.user.username


def form_of(request: Request) -> Any:
    return request.state.form


def redirect(path: str, done: str | None = None, **params: str) -> RedirectResponse:
    items = {**({"done": done} if done else {}), **params}
    return RedirectResponse(path + (f"?{urlencode(items)}" if items else ""), status_code=303)


def source_of(request: Request, source_id: str) -> SourceConfig:
    try:
        return site_of(request).source(source_id)
    except KeyError:
        raise NotFound() from None


def source_path(source_id: str) -> str:
    return f"/admin/sources/{quote(source_id)}"


def connector_class(name: str | None) -> type[Connector] | None:
    """The installed connector of that name; None for an unknown (or no) name."""
    try:
        return get_connector(name or "")
    except UnknownConnector:
        return None
