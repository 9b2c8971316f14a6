"""Schemathesis: generated requests for every operation of our OpenAPI schema.

No request may get a 5xx, and every response must match the schema: status
codes, content types, bodies (JSON Schema) and headers. Runs against the
embedded engine holding the fixture corpus, a few hundred cases in all.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from fedsearch_app.app import create_app
from tests.search_api.conftest import build_engine, make_settings

MAX_EXAMPLES = 60  # per operation; 8 operations


# Built at import: schemathesis needs the schema when pytest collects the module
# (its lazy from_fixture loader does not work with this pytest version).
_DATA_DIR = Path(tempfile.mkdtemp(prefix="fedsearch-fuzz-"))
_ENGINE, _ = build_engine("embedded", _DATA_DIR, None)
schema = schemathesis.openapi.from_asgi(
    "/api/v1/openapi.json", create_app(make_settings("embedded", _DATA_DIR), engine=_ENGINE)
)


@pytest.fixture(scope="module", autouse=True)
def _cleanup():
    yield
    _ENGINE.close()
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


CASES: list[int] = []


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_every_operation_answers_within_its_schema(case):
    response = case.call_and_validate(
        # Valid-looking data can still be refused for reasons a schema can't say (year_from after
        # year_to, a page past the window, a cursor we never issued, a record id that isn't there);
        # the schema's enums and patterns are checked below instead.
        excluded_checks=[checks.positive_data_acceptance],
    )
    assert response.status_code < 500, response.text
    CASES.append(response.status_code)


def test_the_fuzz_run_was_big_enough():
    # Runs after the parametrized test in file order (pytest keeps it).
    assert len(CASES) >= 300, f"only {len(CASES)} generated cases"
    ok = sum(1 for c in CASES if c < 400)
    assert ok and len(CASES) - ok, "both accepted and refused requests were generated"
    print(f"schemathesis: {len(CASES)} cases, {ok} 2xx/3xx, {len(CASES) - ok} 4xx")


def test_every_schema_valid_filter_value_is_accepted():
    """What the schema lists for type, access, year and language, the API accepts (no 400)."""
    from fastapi.testclient import TestClient

    app = create_app(make_settings("embedded", _DATA_DIR), engine=_ENGINE)
    params = {p["name"]: p["schema"] for p in app.openapi()["paths"]["/api/v1/search"]["get"]["parameters"]}
    assert set(params["type"]["items"]["enum"]) >= {"article", "dissertation", "patent"}
    with TestClient(app) as client:
        for name in ("type", "access"):
            for value in params[name]["items"]["enum"]:
                r = client.get("/api/v1/search", params={name: value})
                assert r.status_code == 200, (name, value, r.text)
        for name, value in (("year", "0"), ("year", "2019"), ("language", "kir"), ("language", "ky")):
            assert client.get("/api/v1/search", params={name: value}).status_code == 200, (name, value)
