"""HTTP behaviour: problem+json errors, rate limit, ETags, gzip, CORS, health, metrics, engine down."""

from __future__ import annotations

import gzip
import re

import pytest
from fastapi.testclient import TestClient

from fedsearch.config import ElasticsearchConfig
from fedsearch_app.app import create_app
from search_api.ratelimit import TokenBuckets
from tests.corpus import rid
from tests.search_api.conftest import EMBED_ORIGIN, free_port, make_settings


def problem(r, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert (
        body["status"] == status
        and body["title"]
        and body["detail"]
        and body["type"].startswith("/api/v1/docs#problem-")
    )
    return body


@pytest.mark.parametrize(
    ("params", "param", "hint"),
    [
        ({"per_page": "ten"}, "per_page", "whole number"),
        ({"page": "0"}, "page", "greater than or equal to 1"),
        ({"type": "novel"}, "type", "valid values: article, book"),
        ({"access": "paid"}, "access", "valid values: open, free"),
        ({"facets": "colour"}, "facets", "valid facets: source, type"),
        ({"sort": "random"}, "sort", "relevance"),
        ({"year_from": "2020", "year_to": "2010"}, "year_from", "swap them"),
        ({"year_from": "twenty"}, "year_from", "whole number"),
        ({"language": "Russian"}, "language", "ISO 639"),
        ({"page": "600", "per_page": "20"}, "page", "next_cursor"),
        ({"cursor": "bm9wZQ"}, "cursor", "start again from the first page"),
        ({"format": "pdf"}, "format", "bibtex"),
    ],
)
def test_bad_parameters_are_400_problems_naming_the_parameter(client, params, param, hint):
    body = problem(client.get("/api/v1/search", params=params), 400)
    assert [e["param"] for e in body["errors"]] == [param]
    assert hint in body["errors"][0]["message"], body
    assert f"'{param}'" in body["detail"]


def test_a_cursor_from_another_sort_order_is_refused(client):
    cursor = client.get("/api/v1/search", params={"sort": "title", "per_page": 2}).json()["next_cursor"]
    body = problem(client.get("/api/v1/search", params={"sort": "newest", "cursor": cursor}), 400)
    assert body["errors"][0]["param"] == "cursor" and "'title'" in body["detail"]


def test_other_methods_are_405_problems(client):
    r = client.post("/api/v1/search")
    problem(r, 405)
    assert "GET" in r.headers["allow"]


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=climate",
        f"/records/{rid('oai:knu:1')}",
        "/api/v1/search?q=climate",
        "/api/v1/docs",
        "/healthz",
        "/static/app.css",
        "/admin/login",
    ],
)
def test_head_answers_wherever_get_does(client, path):
    get, head = client.get(path), client.head(path)
    assert get.status_code == 200 and head.status_code == 200, (path, head.status_code)
    assert head.content == b"" and head.headers["content-type"] == get.headers["content-type"]
    assert head.headers.get("etag") == get.headers.get("etag")


def test_options_lists_the_allowed_methods_and_unknown_paths_stay_404(client):
    r = client.options("/search")
    assert r.status_code == 204 and r.headers["allow"] == "GET, HEAD, OPTIONS"
    assert "POST" in client.options("/admin/login").headers["allow"]
    assert client.head("/no/such/page").status_code == 404
    problem(client.post("/api/v1/search"), 405)  # other methods are still refused


def test_etag_and_304_on_search_record_and_suggest(client):
    for url in ("/api/v1/search?q=climate", f"/api/v1/records/{rid('oai:knu:1')}", "/api/v1/suggest?q=эколог"):
        first = client.get(url)
        assert first.status_code == 200 and first.headers["cache-control"].startswith("public, max-age=")
        etag = first.headers["etag"]
        again = client.get(url, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
        assert client.get(url, headers={"If-None-Match": 'W/"other"'}).status_code == 200
    changed = client.get("/api/v1/search?q=climate&per_page=1")
    assert changed.headers["etag"] != client.get("/api/v1/search?q=climate").headers["etag"]


def test_responses_are_gzipped_when_asked(client):
    r = client.get("/api/v1/search", params={"per_page": 20}, headers={"Accept-Encoding": "gzip"})
    assert r.headers["content-encoding"] == "gzip"
    assert int(r.headers["content-length"]) < len(r.content)  # httpx decoded it; the wire was smaller
    raw = client.get("/api/v1/search", params={"per_page": 20}, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in raw.headers and raw.json()["hits"] == r.json()["hits"]


def test_cors_allows_the_configured_origin_only(client):
    ok = client.get("/api/v1/search?q=climate", headers={"Origin": EMBED_ORIGIN})
    assert ok.headers["access-control-allow-origin"] == EMBED_ORIGIN
    assert "etag" in ok.headers["access-control-expose-headers"].lower()
    denied = client.get("/api/v1/search?q=climate", headers={"Origin": "https://evil.example.com"})
    assert denied.status_code == 200 and "access-control-allow-origin" not in denied.headers
    preflight = client.options(
        "/api/v1/search", headers={"Origin": EMBED_ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == EMBED_ORIGIN
    bad = client.options(
        "/api/v1/search", headers={"Origin": "https://evil.example.com", "Access-Control-Request-Method": "GET"}
    )
    assert bad.status_code == 400 and "access-control-allow-origin" not in bad.headers


def test_rate_limit_answers_429_with_retry_after(engine_setup):
    _, engine, settings = engine_setup
    limited = settings.model_copy(update={"server": settings.server.model_copy(update={"rate_limit_per_minute": 3})})
    with TestClient(create_app(limited, engine=engine)) as c:
        assert [c.get("/api/v1/search?q=climate").status_code for _ in range(3)] == [200, 200, 200]
        r = c.get("/api/v1/search?q=climate", headers={"Origin": EMBED_ORIGIN})
        body = problem(r, 429)
        assert int(r.headers["retry-after"]) >= 1 and "3 requests a minute" in body["detail"]
        assert r.headers["access-control-allow-origin"] == EMBED_ORIGIN  # an embedding page can read it
        assert c.get("/healthz").status_code == 200  # operations are not limited
        assert c.get("/search?q=x").status_code == 429  # the UI shares the client's budget
        assert "fedsearch_rate_limited_total 2" in c.get("/metrics").text


def test_token_bucket_refills_over_time():
    now = [0.0]
    buckets = TokenBuckets(60, clock=lambda: now[0])  # one token a second
    assert [buckets.take("a") for _ in range(60)] == [0.0] * 60
    assert buckets.take("a") == pytest.approx(1.0)
    assert buckets.take("b") == 0.0  # clients have their own buckets
    now[0] += 2.5
    assert buckets.take("a") == 0.0 and buckets.take("a") == 0.0 and buckets.take("a") > 0


def test_metrics_are_prometheus_text_per_route(client):
    client.get(f"/api/v1/records/{rid('oai:knu:1')}")
    text = client.get("/metrics").text
    assert re.search(
        r'fedsearch_http_requests_total\{route="/api/v1/records/\{record_id\}",method="GET",status="200"\} \d+', text
    )
    assert 'fedsearch_http_request_duration_seconds_bucket{route="/api/v1/records/{record_id}",le="+Inf"}' in text
    assert "# TYPE fedsearch_engine_errors_total counter" in text
    assert "fedsearch_engine_up 1" in text
    # Elasticsearch's cluster health as a number (0 green, 1 yellow, 2 red); the embedded engine has none.
    on_es = client.get("/healthz").json()["engine"] == "elasticsearch"
    assert bool(re.search(r"^fedsearch_engine_cluster_status [01]$", text, re.M)) == on_es
    assert rid("oai:knu:1") not in text  # label values are route templates, never raw paths


def test_openapi_schema_and_docs_page(client):
    schema = client.get("/api/v1/openapi.json").json()
    for path in (
        "/api/v1/search",
        "/api/v1/search.atom",
        "/api/v1/records/{record_id}",
        "/api/v1/records/{record_id}.bib",
        "/api/v1/sources",
        "/api/v1/suggest",
    ):
        assert path in schema["paths"]
    names = {p["name"] for p in schema["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert {
        "q",
        "source",
        "type",
        "year_from",
        "year_to",
        "facets",
        "sort",
        "page",
        "per_page",
        "cursor",
        "format",
    } <= names
    docs = client.get("/api/v1/docs")
    assert docs.status_code == 200 and "/api/v1/records/{record_id}.bib" in docs.text
    assert 'id="problem-bad-parameter"' in docs.text and "cdn" not in docs.text.lower()


# --- an engine that is down ---------------------------------------------------------------------


def _down_settings(kind, tmp_path):
    if kind == "elasticsearch":
        # A closed port: nothing listens there.
        return make_settings(
            "elasticsearch", tmp_path, ElasticsearchConfig(hosts=[f"http://127.0.0.1:{free_port()}"], request_timeout=2)
        )
    return make_settings("embedded", tmp_path / "no-such-dir")


@pytest.mark.parametrize("kind", ["embedded", "elasticsearch"])
def test_engine_down_is_503_problem_in_the_api_and_a_page_in_the_ui(kind, tmp_path):
    with TestClient(create_app(_down_settings(kind, tmp_path)), raise_server_exceptions=False) as c:
        for url in (
            "/api/v1/search?q=climate",
            f"/api/v1/records/{rid('oai:knu:1')}",
            "/api/v1/sources",
            "/api/v1/suggest?q=climate",
            "/api/v1/search.atom?q=x",
        ):
            r = c.get(url)
            body = problem(r, 503)
            assert r.headers["retry-after"] == "30" and "try again" in body["detail"]
            assert "Traceback" not in r.text
        health = c.get("/healthz")
        assert health.status_code == 503 and health.json()["reachable"] is False and health.json()["detail"]
        for url in ("/", "/search?q=climate", f"/records/{rid('oai:knu:1')}"):
            page = c.get(url, headers={"Accept-Language": "ru"})
            assert page.status_code == 503 and page.headers["content-type"].startswith("text/html")
            assert "Поиск временно недоступен" in page.text and "Traceback" not in page.text
        assert re.search(r'fedsearch_engine_errors_total\{kind="EngineUnavailable"\} [1-9]', c.get("/metrics").text)
        assert "fedsearch_engine_up 0" in c.get("/metrics").text
    if kind == "embedded":
        assert not (tmp_path / "no-such-dir").exists()  # the reader did not create an empty index


def test_gzip_of_the_raw_body_really_is_gzip(client):
    with client.stream("GET", "/api/v1/search?per_page=30", headers={"Accept-Encoding": "gzip"}) as r:
        wire = b"".join(r.iter_raw())
    assert gzip.decompress(wire).startswith(b'{"total":')
