"""`fedsearch serve` (fedsearch_app.app.serve) in a real process: it serves, and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import httpx

from tests.search_api.conftest import build_engine, free_port


def test_fedsearch_serve_runs_the_api_and_the_ui(tmp_path):
    engine, _ = build_engine("embedded", tmp_path, None)
    engine.close()
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        f"engine: embedded\ndata_dir: {tmp_path}\nserver:\n  rate_limit_per_minute: 1000\n", encoding="utf-8"
    )
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "fedsearch_app.cli", "--config", str(config), "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "the server did not start in 30 s"
                time.sleep(0.2)
        assert health.status_code == 200 and health.json()["documents"] == 41
        assert httpx.get(f"{base}/api/v1/search", params={"q": "climate"}).json()["total"] == 2
        assert '<html lang="ky">' in httpx.get(f"{base}/", headers={"Accept-Language": "ky"}).text
        # `curl -I` and uptime monitors; a CORS preflight with CORS off (issue 14).
        head = httpx.head(f"{base}/")
        assert head.status_code == 200 and head.content == b"" and head.headers["content-type"].startswith("text/html")
        pre = httpx.options(
            f"{base}/api/v1/search", headers={"Origin": "https://x.example", "Access-Control-Request-Method": "GET"}
        )
        assert (
            pre.status_code == 204
            and "GET" in pre.headers["allow"]
            and "access-control-allow-origin" not in pre.headers
        )
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=20)
    assert code == 0
