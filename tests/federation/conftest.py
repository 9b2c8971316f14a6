"""A live fedsearch (uvicorn in a thread) over the test corpus on each engine, for real clients
(yaz-client, sruthi, chromium) that need a socket rather than a TestClient."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
import uvicorn

from fedsearch.engines import SearchEngine
from fedsearch_app.app import create_app
from tests.api.conftest import ENGINES, build_engine, free_port, make_settings
from tests.test_engine_conformance import drop_engine


@dataclass
class Live:
    kind: str
    base: str
    engine: SearchEngine


def serve(app) -> tuple[str, uvicorn.Server, threading.Thread]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the app did not start on port {port}")
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server, thread


@pytest.fixture(scope="module", params=ENGINES)
def live(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    kind = request.param
    es_url = request.getfixturevalue("es_url") if kind == "elasticsearch" else None
    data_dir = tmp_path_factory.mktemp(f"federation-{kind}")
    engine, es_cfg = build_engine(kind, data_dir, es_url)
    base, server, thread = serve(create_app(make_settings(kind, data_dir, es_cfg), engine=engine))
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    yield Live(kind, base, engine)
    server.should_exit = True
    thread.join(timeout=10)
    drop_engine(kind, engine, es_url)
