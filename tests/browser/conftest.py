"""A live server (uvicorn in a thread, embedded engine with the corpus) and Debian's chromium.

Browser downloads don't work here, so Playwright drives /usr/bin/chromium.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from fedsearch_app.app import create_app
from tests.search_api.conftest import build_engine, free_port, make_settings


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("browser")
    engine, _ = build_engine("embedded", data_dir, None)
    app = create_app(make_settings("embedded", data_dir), engine=engine)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the app did not start on {base}")
        time.sleep(0.05)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    yield base
    server.should_exit = True
    thread.join(timeout=10)


def _new_page(browser, live_server: str, **context_options):
    context = browser.new_context(base_url=live_server, **context_options)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    return context, pg


@pytest.fixture
def page(browser, live_server):
    context, pg = _new_page(browser, live_server, locale="en-US", accept_downloads=True)
    yield pg
    context.close()


@pytest.fixture
def nojs_page(browser, live_server):
    context, pg = _new_page(browser, live_server, locale="ru-RU", java_script_enabled=False)
    yield pg
    context.close()
