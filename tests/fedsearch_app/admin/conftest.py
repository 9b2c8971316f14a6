"""Fixtures for the admin tests: settings on a temporary data dir, logged-in clients, a real OAI-PMH partner.

The partner is pyoai's data provider (tests/connectors/peers.py) with records a
librarian meets: ordinary ones, one whose title carries a <script>, and one with
no title at all (quarantined when indexed).
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

import fedsearch_app.demo.oai  # noqa: F401 - patches pyoai 2.5's resumption tokens for Python 3 (see there)
from fedsearch.config import Settings, validate_settings
from fedsearch_app.admin.db import AdminDB
from fedsearch_app.admin.users import UserStore
from fedsearch_app.app import create_app
from tests.connectors.peers import OaiPeer
from tests.search_api.conftest import free_port

PASSWORD = "correct horse battery staple"
SCRIPT_TITLE = "<script>alert('title')</script> Манас эпосу"
SCRIPT_ABSTRACT = "<script>alert('raw')</script>"
FAST_POLICY = {"delay_seconds": 0, "timeout_seconds": 5, "max_retries": 0}


# The test partners run on 127.0.0.1 and the test tables sit next to the data dir.
LOCAL_REACH = {"allow_private_networks": True}


def admin_settings(data_dir: Path, *sources: dict[str, Any], reach: dict[str, Any] | None = None) -> Settings:
    """Validated settings for a local http test: insecure cookies allowed, no rate limit, fast harvests."""
    return validate_settings(
        {
            "data_dir": str(data_dir),
            "server": {"secure_cookies": False, "rate_limit_per_minute": 1_000_000},
            "harvest": FAST_POLICY,
            "reach": {"import_dirs": [str(data_dir.parent)], **LOCAL_REACH} if reach is None else reach,
            "sources": list(sources),
        }
    )


def add_user(settings: Settings, username: str, role: str, password: str = PASSWORD) -> None:
    UserStore(AdminDB.for_data_dir(settings.data_dir)).create(username, password, role)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


class AdminClient:
    """A TestClient that logs in through the form and sends the session's CSRF token with every POST."""

    def __init__(self, client: TestClient):
        self.http = client
        self.csrf = ""

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        page = self.http.get("/admin/login")
        response = self.http.post(
            "/admin/login",
            data={"csrf": csrf_of(page.text), "username": username, "password": password},
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.csrf = csrf_of(self.http.get("/admin").text)
        return response

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> httpx.Response:
        kw.setdefault("follow_redirects", False)
        return self.http.post(path, data={"csrf": self.csrf, **(data or {})}, **kw)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    s = admin_settings(
        tmp_path / "data",
        {
            "id": "knu",
            "connector": "oai-pmh",
            "url": "http://127.0.0.1:9/oai",
            "schedule": "6h",
            "name": {"en": "KNU repository"},
        },
    )
    add_user(s, "boss", "admin")
    add_user(s, "aigul", "librarian")
    return s


@pytest.fixture
def app(settings: Settings):
    return create_app(settings)


def http_client(app, base_url: str = "http://testserver") -> TestClient:
    """An English-speaking client. Without `with`, the lifespan (and its scheduler thread) stays off."""
    return TestClient(app, base_url=base_url, raise_server_exceptions=False, headers={"Accept-Language": "en"})


@pytest.fixture
def anonymous(app) -> TestClient:
    return http_client(app)


@pytest.fixture
def boss(app) -> AdminClient:
    c = AdminClient(http_client(app))
    assert c.login("boss").status_code == 303
    return c


@pytest.fixture
def librarian(app) -> AdminClient:
    c = AdminClient(http_client(app))
    assert c.login("aigul").status_code == 303
    return c


def put_untitled(peer: OaiPeer, n: int, description: str = SCRIPT_ABSTRACT) -> str:
    """A record with no title: the partner sends it, the indexer quarantines it."""
    from oaipmh import common

    ident = f"oai:test:{n}"
    header = common.Header(None, ident, time_now(), ["theses"], False)
    md = common.Metadata(None, {"creator": ["Автор белгисиз"], "description": [description], "date": ["2021"]})
    with peer.lock:
        peer.records[ident] = (header, md)
    return ident


def time_now():
    from datetime import datetime

    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@pytest.fixture
def partner() -> Iterator[OaiPeer]:
    """12 records, 5 a page: the first has a <script> in its title, the last has no title."""
    with _partner() as peer:
        yield peer


def _partner() -> OaiPeer:
    peer = OaiPeer(count=0, batch_size=5)
    peer.put(1, SCRIPT_TITLE)
    for n in range(2, 12):
        peer.put(n)
    put_untitled(peer, 12)
    return peer


@pytest.fixture(scope="session")
def session_partner() -> Iterator[OaiPeer]:
    with _partner() as peer:
        yield peer


@pytest.fixture(scope="session")
def admin_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Settings]]:
    """The whole app under uvicorn (lifespan on: the in-process scheduler runs), embedded engine, no sources."""
    settings = admin_settings(tmp_path_factory.mktemp("admin-browser") / "data")
    add_user(settings, "boss", "admin")
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the app did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}", settings
    server.should_exit = True
    thread.join(timeout=15)
