"""The admin refuses whoever has no session, every form that lacks its CSRF token, password guessing,
librarians managing accounts, and never lets harvested metadata run as markup."""

from __future__ import annotations

import os
import re
import stat
from datetime import UTC, datetime, timedelta

import fastapi.routing
import pytest

from fedsearch_app.admin.db import AdminDB, stamp
from fedsearch_app.admin.sessions import COOKIE, MAX_FAILURES
from fedsearch_app.app import create_app
from tests.fedsearch_app.admin.conftest import PASSWORD, AdminClient, add_user, admin_settings, csrf_of, http_client

# The only /admin routes reachable without a session: the login form and the admin's CSS and JS.
PUBLIC = {("GET", "/admin/login"), ("POST", "/admin/login"), ("GET", "/admin/static/{name}")}
PATH_VALUES = {"source_id": "knu", "entry_id": "1", "username": "boss", "name": "admin.css"}


def admin_routes(app) -> list[tuple[str, str]]:
    """(method, path template) of every route under /admin, found in the app itself."""
    # FastAPI >= 0.16x keeps included routers as such; iter_route_contexts flattens them (older: a flat list).
    flatten = getattr(fastapi.routing, "iter_route_contexts", lambda routes: routes)
    found = []
    for route in flatten(app.routes):
        path = route.path or ""
        if path.startswith("/admin") and route.methods:
            found.extend((m, path) for m in sorted(set(route.methods) - {"HEAD"}))
    return found


def concrete(path: str) -> str:
    return re.sub(r"{(\w+)}", lambda m: PATH_VALUES.get(m.group(1), "x"), path)


def test_every_admin_route_and_api_refuses_a_request_without_a_session(app, anonymous):
    routes = admin_routes(app)
    assert len(routes) > 25 and ("GET", "/admin/api/sources") in routes
    assert {r for r in routes if r in PUBLIC} == PUBLIC
    for method, path in routes:
        if (method, path) in PUBLIC:
            continue
        for cookie in (None, "forged.value.signature"):
            anonymous.cookies.clear()
            if cookie:
                anonymous.cookies.set(COOKIE, cookie, path="/admin")
            r = anonymous.request(method, concrete(path), follow_redirects=False, data={"csrf": "x"})
            where = f"{method} {path} (cookie {cookie!r})"
            assert r.status_code in (303, 401), where
            if r.status_code == 303:
                assert r.headers["location"].startswith("/admin/login?next="), where
            else:
                assert r.json() == {"error": "login required", "login": "/admin/login"}, where
            assert "KNU repository" not in r.text and "knu" not in r.headers.get("content-disposition", ""), where
    assert anonymous.get("/admin/login").status_code == 200
    assert anonymous.get("/admin/static/admin.css").status_code == 200


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(app, boss):
    posts = [p for m, p in admin_routes(app) if m == "POST"]
    assert len(posts) > 10
    for path in posts:
        for data in ({}, {"csrf": "not-the-token"}):
            r = boss.http.post(
                concrete(path),
                data={
                    **data,
                    "mode": "full",
                    "role": "librarian",
                    "username": "mallory",
                    "password": PASSWORD,
                    "again": PASSWORD,
                },
                follow_redirects=False,
            )
            assert r.status_code == 403, path
            assert "This form has expired" in r.text, path
    # Nothing happened: the source is still there and enabled, no account was made, no harvest started.
    site = app.state.admin
    assert site.source("knu").enabled
    assert [u.username for u in site.users.all()] == ["aigul", "boss"]
    assert site.harvests.get("knu") is None
    # The session is still good: with the token the same form works.
    assert boss.post("/admin/sources/knu/disable").status_code == 303
    assert not site.source("knu").enabled


def test_the_login_form_has_its_own_csrf_token(anonymous):
    r = anonymous.post("/admin/login", data={"username": "boss", "password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 403
    page = anonymous.get("/admin/login")
    r = anonymous.post(
        "/admin/login",
        data={"csrf": csrf_of(page.text), "username": "boss", "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303


def test_five_wrong_passwords_lock_the_name_and_the_page_says_until_when(app, settings):
    client = AdminClient(http_client(app))
    for attempt in range(1, MAX_FAILURES):
        r = client.login("boss", "wrong password")
        assert r.status_code == 401 and "Wrong username or password." in r.text, attempt
    r = client.login("boss", "wrong password")
    assert r.status_code == 429
    m = re.search(r"locked until \d{4}-\d\d-\d\d (\d\d):(\d\d) UTC\+6 \(in (\d+) min\)", r.text)  # Bishkek time
    assert m, r.text
    until = datetime.now(UTC) + timedelta(minutes=15, hours=6)
    assert (int(m.group(1)), int(m.group(2))) in {
        (until.hour, until.minute),
        ((until - timedelta(minutes=1)).hour, (until - timedelta(minutes=1)).minute),
    }
    assert m.group(3) in ("14", "15")
    # Locked: even the right password is refused, and says so.
    r = client.login("boss", PASSWORD)
    assert r.status_code == 429 and "locked until" in r.text
    # Another account from the same address still logs in.
    assert AdminClient(http_client(app)).login("aigul").status_code == 303
    # When the lock ends, the right password works again.
    with AdminDB.for_data_dir(settings.data_dir).transaction() as conn:
        conn.execute(
            "UPDATE login_failures SET locked_until = ? WHERE key = 'user:boss'",
            (stamp(datetime.now(UTC) - timedelta(seconds=1)),),
        )
    assert client.login("boss").status_code == 303


def test_a_librarian_manages_sources_but_not_accounts(app, librarian):
    assert librarian.get("/admin").status_code == 200
    assert librarian.get("/admin/users").status_code == 403
    assert librarian.get("/admin/audit").status_code == 403
    r = librarian.post(
        "/admin/users", {"username": "mallory", "password": PASSWORD, "again": PASSWORD, "role": "admin"}
    )
    assert r.status_code == 403 and "Only admins" in r.text
    assert librarian.post("/admin/users/aigul/role", {"role": "admin"}).status_code == 403
    assert librarian.post("/admin/users/boss/password", {"password": "x" * 12}).status_code == 403
    assert librarian.post("/admin/users/boss/delete").status_code == 403
    users = {u.username: u.role for u in app.state.admin.users.all()}
    assert users == {"aigul": "librarian", "boss": "admin"}
    assert "/admin/users" not in librarian.get("/admin").text  # not even offered
    assert librarian.post("/admin/sources/knu/disable").status_code == 303  # sources are theirs


def test_session_cookie_flags_and_a_persisted_random_key(tmp_path):
    settings = admin_settings(tmp_path / "data")
    settings.server.secure_cookies = True
    add_user(settings, "boss", "admin")
    client = AdminClient(http_client(create_app(settings), base_url="https://testserver"))
    r = client.login("boss")
    cookie = next(h for h in r.headers.get_list("set-cookie") if h.startswith(f"{COOKIE}="))
    for flag in ("HttpOnly", "Secure", "SameSite=strict", "Path=/admin"):
        assert flag in cookie
    key_file = settings.data_dir / "secret_key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600 and len(key_file.read_text()) > 40
    # A restart keeps the key, so the session still works; logging out ends it for good.
    again = http_client(create_app(settings), base_url="https://testserver")
    again.cookies = client.http.cookies
    assert again.get("/admin").status_code == 200
    assert client.post("/admin/logout").status_code == 303
    assert again.get("/admin", follow_redirects=False).status_code == 303


def test_insecure_cookies_only_when_configured_and_the_configured_key_signs(tmp_path, monkeypatch):
    monkeypatch.setenv("FEDSEARCH_SECRET_KEY", "k" * 48)
    settings = admin_settings(tmp_path / "data")
    add_user(settings, "boss", "admin")
    client = AdminClient(http_client(create_app(settings)))
    r = client.login("boss")
    assert "Secure" not in r.headers["set-cookie"]
    assert not (settings.data_dir / "secret_key").exists()


@pytest.fixture
def partner_source(boss, partner):
    r = boss.post(
        "/admin/sources/knu/edit", {"connector": "oai-pmh", "opt.url": partner.url, "enabled": "on", "action": "save"}
    )
    assert r.status_code == 303
    return partner


def test_harvested_metadata_is_escaped_in_the_preview_the_quarantine_and_the_lists(app, boss, partner_source):
    r = boss.post(
        "/admin/sources/knu/edit",
        {"connector": "oai-pmh", "opt.url": partner_source.url, "enabled": "on", "action": "test"},
    )
    assert r.status_code == 200 and "Test results" in r.text
    assert "<script>alert" not in r.text
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt; Манас эпосу" in r.text  # the normalized title
    assert "&amp;lt;script&amp;gt;alert(&#39;title&#39;)" in r.text  # the raw XML, which escapes it itself
    assert boss.post("/admin/sources/knu/harvest", {"mode": "full"}).status_code == 303
    job = app.state.admin.harvests.wait("knu", timeout=30)
    assert job.status == "ok", job.error
    entry = app.state.admin.store.quarantined("knu")[0]
    for path in (
        "/admin",
        "/admin/sources/knu",
        "/admin/sources/knu/quarantine",
        f"/admin/sources/knu/quarantine/{entry.id}",
        "/admin/api/sources",
    ):
        page = boss.get(path)
        assert page.status_code == 200 and "<script>alert" not in page.text, path
    assert "&amp;lt;script&amp;gt;alert(&#39;raw&#39;)" in boss.get(f"/admin/sources/knu/quarantine/{entry.id}").text


def test_a_tabular_payload_with_markup_is_shown_as_text(tmp_path, boss):
    table = tmp_path / "theses.csv"
    table.write_text("id,Тема\n1,<img src=x onerror=alert(1)>\n2,\n", encoding="utf-8")
    r = boss.post(
        "/admin/add-source",
        {
            "connector": "tabular",
            "id": "theses",
            "opt.path": str(table),
            "opt.id_column": "id",
            "opt.mapping": "title = Тема",
            "enabled": "on",
            "action": "test",
        },
    )
    assert r.status_code == 200
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
