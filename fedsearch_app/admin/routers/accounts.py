"""Your own account; users and the audit log (admins only)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import Response

from fedsearch_app.admin.dependencies import (
    ADMIN_ONLY,
    NotFound,
    admin_router,
    form_of,
    redirect,
    site_of,
    user_of,
)
from fedsearch_app.admin.rendering import render
from fedsearch_app.admin.users import ROLES, AccountError
from web_ui.i18n import gettext_ as _

AUDIT_PAGE = 100

router = admin_router()


# -- accounts -------------------------------------------------------------------------------------------


@router.get("/account")
def account_page(request: Request) -> Response:
    return render(request, "admin/account.html", {"done": request.query_params.get("done")})


@router.post("/account/password")
def change_own_password(request: Request) -> Response:
    site = site_of(request)
    form = form_of(request)
    session = request.state.admin_session
    error = None
    if site.users.verify(session.user.username, str(form.get("current", ""))) is None:
        error = _("The current password is not right.")
    elif form.get("new") != form.get("again"):
        error = _("The two new passwords are not the same.")
    else:
        try:
            site.users.set_password(session.user.username, str(form.get("new", "")))
        except AccountError:
            error = _("The password is too short: at least %(n)s characters.") % {"n": 10}
    if error:
        return render(request, "admin/account.html", {"error": error}, status_code=400)
    site.audit.record(session.user.username, "user.password", session.user.username)
    cookie, _session = site.sessions.create(session.user)  # changing the password ended every session
    response = redirect("/admin/account", "password")
    site.sessions.set_cookie(response, cookie)
    return response


@router.get("/users", dependencies=ADMIN_ONLY)
def users_page(request: Request) -> Response:
    return _users_page(request)


def _users_page(request: Request, error: str | None = None, status: int = 200, form: Any = None) -> Response:
    return render(
        request,
        "admin/users.html",
        {
            "users": site_of(request).users.all(),
            "roles": ROLES,
            "error": error,
            "form": form or {},
            "done": request.query_params.get("done"),
        },
        status_code=status,
    )


def _account_error(err: AccountError) -> str:
    text = str(err)
    if "already an account" in text:
        return _("There is already an account with this name.")
    if "too short" in text:
        return _("The password is too short: at least %(n)s characters.") % {"n": 10}
    if "last admin" in text:
        return _("This is the last admin account; make another account admin first.")
    if "username" in text:
        return _("A username has 2 to 63 characters: Latin letters, digits and . _ @ -.")
    return text


@router.post("/users", dependencies=ADMIN_ONLY)
def create_user(request: Request) -> Response:
    site = site_of(request)
    form = form_of(request)
    if form.get("password") != form.get("again"):
        return _users_page(request, _("The two passwords are not the same."), 400, form)
    try:
        user = site.users.create(
            str(form.get("username", "")), str(form.get("password", "")), str(form.get("role", "librarian"))
        )
    except AccountError as err:
        return _users_page(request, _account_error(err), 400, form)
    site.audit.record(user_of(request), "user.create", user.username, {"role": user.role})
    return redirect("/admin/users", "user-created")


def _account(request: Request, username: str):
    user = site_of(request).users.get(username)
    if user is None:
        raise NotFound()
    return user


@router.post("/users/{username}/role", dependencies=ADMIN_ONLY)
def change_role(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    role = str(form_of(request).get("role", ""))
    try:
        site.users.set_role(user.username, role)
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(user_of(request), "user.role", user.username, {"changes": {"role": [user.role, role]}})
    return redirect("/admin/users", "user-updated")


@router.post("/users/{username}/password", dependencies=ADMIN_ONLY)
def reset_password(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    try:
        site.users.set_password(user.username, str(form_of(request).get("password", "")))
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(user_of(request), "user.password", user.username)
    return redirect("/admin/users", "user-updated")


@router.post("/users/{username}/delete", dependencies=ADMIN_ONLY)
def delete_user(request: Request, username: str) -> Response:
    site = site_of(request)
    user = _account(request, username)
    if user.username == user_of(request):
        return _users_page(request, _("You can't delete your own account."), 400)
    try:
        site.users.delete(user.username)
    except AccountError as err:
        return _users_page(request, _account_error(err), 400)
    site.audit.record(user_of(request), "user.delete", user.username, {"role": user.role})
    return redirect("/admin/users", "user-deleted")


@router.get("/audit", dependencies=ADMIN_ONLY)
def audit_page(request: Request) -> Response:
    before = request.query_params.get("before")
    entries = site_of(request).audit.entries(
        AUDIT_PAGE + 1, before=int(before) if before and before.isdigit() else None
    )
    return render(
        request,
        "admin/audit.html",
        {"entries": entries[:AUDIT_PAGE], "older": entries[AUDIT_PAGE - 1].id if len(entries) > AUDIT_PAGE else None},
    )
