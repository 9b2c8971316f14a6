"""Logging in and out, and the admin's static files (the only routes reachable without a session)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import Request
from starlette.responses import Response

from fedsearch_app.admin.dependencies import (
    CsrfRejected,
    admin_router,
    public_router,
    redirect,
    site_of,
)
from fedsearch_app.admin.rendering import local_time, render, static_response, zone_of
from fedsearch_app.admin.sessions import COOKIE, LOGIN_COOKIE
from web_ui.i18n import gettext_ as _
from web_ui.templating import request_lang

log = logging.getLogger("fedsearch.admin")

public = public_router()
router = admin_router()


# -- login ----------------------------------------------------------------------------------------


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/admin") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def _login_page(request: Request, *, error: str | None = None, status: int = 200, username: str = "") -> Response:
    site = site_of(request)
    token = site.sessions.new_login_token()
    request.state.login_token = token
    response = render(
        request,
        "admin/login.html",
        {
            "error": error,
            "username": username,
            "next": _safe_next(request.query_params.get("next")),
            "no_users": not site.users.all(),
            # The command must reach this server's data_dir: name the configuration it was started with.
            "config_path": config.resolve() if (config := request.app.state.settings.config_path) else None,
        },
        status_code=status,
    )
    site.sessions.set_login_cookie(response, token)
    return response


@public.get("/login")
def login_form(request: Request) -> Response:
    site = site_of(request)
    if site.sessions.load(request.cookies.get(COOKIE)) is not None:
        return redirect(_safe_next(request.query_params.get("next")))
    return _login_page(request)


def _locked_message(request: Request, until: datetime) -> str:
    minutes = max(1, int((until - datetime.now(UTC)).total_seconds() + 59) // 60)
    return _("Too many failed attempts. Logging in with this name is locked until %(time)s (in %(minutes)s min).") % {
        "time": local_time(until, zone_of(request)),
        "minutes": minutes,
    }


@public.post("/login")
async def login(request: Request) -> Response:
    request_lang(request)
    site = site_of(request)
    form = await request.form()
    if not site.sessions.login_token_ok(request.cookies.get(LOGIN_COOKIE), form.get("csrf")):
        raise CsrfRejected()
    username = str(form.get("username", ""))[:100]
    password = str(form.get("password", ""))
    address = request.client.host if request.client else None
    until = site.throttle.locked_until(username, address)
    if until is not None:
        return _login_page(request, error=_locked_message(request, until), status=429, username=username)
    user = site.users.verify(username, password)
    if user is None:
        until = site.throttle.failed(username, address)
        log.warning("failed admin login for %r from %s", username, address)
        if until is not None:
            return _login_page(request, error=_locked_message(request, until), status=429, username=username)
        return _login_page(request, error=_("Wrong username or password."), status=401, username=username)
    site.throttle.succeeded(user.username)
    cookie, _session = site.sessions.create(user)
    log.info("admin login: %s", user.username)
    response = redirect(_safe_next(str(form.get("next", ""))))
    site.sessions.set_cookie(response, cookie)
    response.delete_cookie(LOGIN_COOKIE, path="/admin")
    return response


@public.get("/static/{name}")
async def admin_static(request: Request, name: str) -> Response:  # on the event loop: never waits for a thread
    return static_response(request, name)


@router.post("/logout")
def logout(request: Request) -> Response:
    site = site_of(request)
    site.sessions.end(request.state.admin_session)
    response = redirect("/admin/login", "logged-out")
    site.sessions.clear_cookie(response)
    return response
