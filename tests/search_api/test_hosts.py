"""Host header and proxies (issue 12): only trusted hosts, links from base_url, X-Forwarded-For only from trusted proxies."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from fedsearch_app.app import create_app
from tests.search_api.conftest import free_port


@pytest.fixture
def shared(embedded_corpus):
    return embedded_corpus


def test_an_untrusted_host_is_refused_everywhere(shared):
    engine, settings = shared
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"trusted_hosts": ["search.example.kg"]})}
    )
    with TestClient(create_app(settings, engine=engine), base_url="http://search.example.kg") as c:
        assert c.get("/api/v1/search?q=climate").status_code == 200
        for path in ("/api/v1/search?q=climate", "/opensearch.xml", "/admin/", "/admin/login", "/healthz"):
            r = c.get(path, headers={"Host": "evil.example.com"}, follow_redirects=False)
            assert r.status_code == 400, path
            assert "evil.example.com" not in r.headers.get("location", "")


def test_links_come_from_base_url_whatever_the_host(shared):
    engine, settings = shared
    settings = settings.model_copy(
        update={"server": settings.server.model_copy(update={"base_url": "https://search.example.kg"})}
    )
    with TestClient(create_app(settings, engine=engine)) as c:
        r = c.get("/api/v1/search?q=climate", headers={"Host": "evil.example.com"})
        assert r.status_code == 200 and "evil.example.com" not in r.text
        assert r.json()["hits"][0]["url"].startswith("https://search.example.kg/records/")
        assert "Host" not in r.headers.get("vary", "")


def test_without_base_url_cached_answers_vary_by_host(shared):
    engine, settings = shared
    with TestClient(create_app(settings, engine=engine)) as c:
        r = c.get("/api/v1/search?q=climate", headers={"Host": "a.example.kg"})
        assert r.headers["cache-control"].startswith("public") and "Host" in r.headers["vary"]
        assert "http://a.example.kg/records/" in r.text


def _serve(tmp_path: Path, extra: str) -> tuple[subprocess.Popen, str]:
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        f"engine: embedded\ndata_dir: {tmp_path}\nserver:\n  rate_limit_per_minute: 3\n{extra}", encoding="utf-8"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            return proc, base
        except httpx.TransportError:
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.2)


def _statuses(base: str) -> list[int]:
    # Four clients, as X-Forwarded-For would have it; the rate limit allows three requests a minute per client.
    return [
        httpx.get(f"{base}/api/v1/sources", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code for i in range(4)
    ]


@pytest.mark.parametrize("trusted", [False, True])
def test_x_forwarded_for_is_believed_only_from_trusted_proxies(tmp_path, trusted):
    proc, base = _serve(tmp_path, "  trusted_proxies: ['127.0.0.1']\n" if trusted else "")
    try:
        statuses = _statuses(base)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=20)
    if trusted:
        assert 429 not in statuses  # four clients behind our proxy, one request each
    else:
        assert statuses[-1] == 429  # one client (127.0.0.1) whatever the header says
