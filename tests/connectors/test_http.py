"""PoliteClient: timeouts, delay, retries with backoff, Retry-After, and errors people can act on."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from connectors.base import HarvestStopped
from connectors.http import (
    RETRY_AFTER_CAP_SECONDS,
    PartnerHTTPError,
    PartnerResponseTooLarge,
    PartnerUnreachable,
    PoliteClient,
    parse_retry_after,
)
from tests.connectors.conftest import local_policy
from tests.connectors.peers import LocalHTTPServer, Reply, free_port


def policy(**overrides):
    return local_policy(**overrides)


def sequence(*replies: Reply):
    answers = iter(replies)
    return lambda req: next(answers)


def test_503_with_retry_after_is_waited_for_then_retried():
    with (
        LocalHTTPServer(sequence(Reply(status=503, headers={"Retry-After": "1"}), Reply(body=b"ok"))) as server,
        PoliteClient("repo", policy(max_retries=2)) as http,
    ):
        started = time.monotonic()
        resp = http.get(server.url + "/oai", {"verb": "Identify"}, what="Identify")
        assert resp.content == b"ok" and len(server.requests) == 2
        assert time.monotonic() - started >= 1.0


def test_429_and_5xx_are_retried_with_backoff_then_reported(monkeypatch):
    monkeypatch.setattr(PoliteClient, "backoff_base_seconds", 0.01)
    with (
        LocalHTTPServer(lambda req: Reply(status=500, body=b"boom")) as server,
        PoliteClient("repo", policy(max_retries=2)) as http,
    ):
        with pytest.raises(PartnerHTTPError) as caught:
            http.get(server.url + "/oai", {"verb": "ListRecords"}, what="ListRecords page 1")
        assert len(server.requests) == 3
    err = caught.value
    assert err.status == 500 and err.source == "repo"
    assert "answered 500 (Internal Server Error) for ListRecords page 1, still after 2 retries" in str(err)
    assert "verb=ListRecords" in err.url

    replies = sequence(Reply(status=429), Reply(status=502), Reply(body=b"fine"))
    with LocalHTTPServer(replies) as server, PoliteClient("repo", policy(max_retries=3)) as http:
        assert http.get(server.url, what="ListRecords").content == b"fine"


def test_404_is_not_retried_and_says_to_check_the_url():
    with (
        LocalHTTPServer(lambda req: Reply(status=404, body=b"<html>Not here</html>")) as server,
        PoliteClient("knu-repository", policy(max_retries=5)) as http,
    ):
        with pytest.raises(PartnerHTTPError) as caught:
            http.get(server.url + "/oia", {"verb": "ListRecords"}, what="ListRecords")
        assert len(server.requests) == 1
    message = str(caught.value)
    assert message.startswith("knu-repository: the server answered 404 (Not Found) for ListRecords; check the base URL")
    assert f"{server.url}/oia?verb=ListRecords" in message
    assert caught.value.body == b"<html>Not here</html>"


def test_a_server_that_is_not_there_is_unreachable():
    port = free_port()
    with PoliteClient("repo", policy()) as http, pytest.raises(PartnerUnreachable) as caught:
        http.get(f"http://127.0.0.1:{port}/oai", what="Identify")
    assert "could not connect to 127.0.0.1 for Identify" in str(caught.value)
    assert "check the URL and that the server is up" in str(caught.value)


def test_requests_are_spaced_by_the_delay_and_say_who_we_are():
    with (
        LocalHTTPServer(lambda req: Reply(body=b"x")) as server,
        PoliteClient("repo", policy(delay_seconds=0.2, user_agent="fedsearch-test/1.0")) as http,
    ):
        started = time.monotonic()
        for _ in range(3):
            http.get(server.url, what="page")
        assert time.monotonic() - started >= 0.4
        assert {r.headers.get("User-Agent") for r in server.requests} == {"fedsearch-test/1.0"}


def test_stop_ends_a_wait_at_once():
    stop = threading.Event()
    with (
        LocalHTTPServer(lambda req: Reply(body=b"x")) as server,
        PoliteClient("repo", policy(delay_seconds=30), stop=stop) as http,
    ):
        http.get(server.url, what="page 1")
        threading.Timer(0.2, stop.set).start()
        started = time.monotonic()
        with pytest.raises(HarvestStopped):
            http.get(server.url, what="page 2")
        assert time.monotonic() - started < 5


def test_an_answer_over_the_size_limit_is_not_read_to_the_end():
    with (
        LocalHTTPServer(lambda req: Reply(body=b"x" * 3_000_000)) as server,
        PoliteClient("repo", policy(), max_response_bytes=1_000_000) as http,
    ):
        with pytest.raises(PartnerResponseTooLarge, match="larger than 1000000 bytes"):
            http.get(server.url, what="ListRecords page 1")


def test_download_streams_to_a_file():
    with LocalHTTPServer(lambda req: Reply(body=b"\x00" * 100_000)) as server, PoliteClient("repo", policy()) as http:
        path = http.download(server.url + "/export.mrc", what="the file", suffix=".mrc")
    try:
        assert path.suffix == ".mrc" and path.stat().st_size == 100_000
    finally:
        path.unlink()


def test_retry_after_values():
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0
    assert parse_retry_after("86400", now) == RETRY_AFTER_CAP_SECONDS
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None
