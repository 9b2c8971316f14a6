"""The admin's pages and JSON endpoints under /admin: mounting its routers and its error pages.

The routers (one per concern) are in routers/; what they share (the session and
CSRF check, admin-only routes, helpers) is in dependencies.py. Pages are thin: the
work is in site.py (sources, deletion), forms.py, preview.py, status.py and
fedsearch_app/scheduler.py (harvests).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from starlette.responses import JSONResponse, Response

from fedsearch_app.admin.dependencies import CsrfRejected, Forbidden, LoginRequired, NotFound, redirect
from fedsearch_app.admin.rendering import render
from fedsearch_app.admin.routers import accounts, login, merges, quarantine, source_edit, sources, transfer
from fedsearch_app.admin.site import AdminSite
from web_ui.i18n import gettext_ as _

# In the order they were written in: a path two routers could match goes to the first.
ROUTERS = [
    login.public,
    login.router,
    sources.router,
    source_edit.router,
    quarantine.router,
    merges.router,
    transfer.router,
    accounts.router,
]


# -- errors and mounting ------------------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/admin/api/") or "application/json" in request.headers.get("accept", "")


async def _login_required(request: Request, exc: Exception) -> Response:
    browser_form = "text/html" in request.headers.get("accept", "")  # e.g. a form sent after the session ended
    if _wants_json(request) or (request.method not in ("GET", "HEAD") and not browser_form):
        return JSONResponse(
            {"error": "login required", "login": "/admin/login"}, status_code=401, headers={"Cache-Control": "no-store"}
        )
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return redirect("/admin/login", next=target if request.method in ("GET", "HEAD") else "/admin")


async def _csrf_rejected(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "admin/message.html",
        {
            "title": _("This form has expired"),
            "message": _(
                "The form was not sent from a current admin page (its security token is missing or old). "
                "Go back, reload the page and try again."
            ),
        },
        status_code=403,
    )


async def _forbidden(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "admin/message.html",
        {
            "title": _("Not allowed"),
            "message": _("Only admins can manage accounts and see the audit log."),
        },
        status_code=403,
    )


async def _not_found(request: Request, exc: Exception) -> Response:
    return render(
        request,
        "admin/message.html",
        {
            "title": _("Not found"),
            "message": _("There is no such source, record or account (any more)."),
        },
        status_code=404,
    )


def mount(app: FastAPI) -> None:
    """Add the admin to the app: its routes, its error pages, and its scheduler in the app's lifespan."""
    site = app.state.admin = AdminSite(app.state.settings)
    outer = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app_: FastAPI) -> AsyncIterator[Any]:
        async with outer(app_) as state:
            site.start_scheduler()
            try:
                yield state
            finally:
                site.close()

    app.router.lifespan_context = lifespan
    for router in ROUTERS:
        app.include_router(router)
    app.add_exception_handler(LoginRequired, _login_required)
    app.add_exception_handler(CsrfRejected, _csrf_rejected)
    app.add_exception_handler(Forbidden, _forbidden)
    app.add_exception_handler(NotFound, _not_found)
