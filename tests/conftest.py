"""Shared fixtures. Services are real: `.ci/run` (or scripts/es-node.sh start)
starts an Elasticsearch node; tests that need one fail, never skip, without it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from fedsearch.config import ElasticsearchConfig

ROOT = Path(__file__).resolve().parent.parent
REAL_FIXTURES = Path(os.environ.get("FEDSEARCH_REAL_FIXTURES", ROOT.parent / "shared" / "fixtures" / "real"))
ES_URL = os.environ.get("FEDSEARCH_TEST_ES_URL", "http://127.0.0.1:9200")
# tests/cluster needs the 3-node cluster of scripts/es-cluster.sh and takes minutes: it runs in
# its own step of .ci/run, which sets FEDSEARCH_TEST_ES_CLUSTER (docs/operations.md).
collect_ignore = [] if os.environ.get("FEDSEARCH_TEST_ES_CLUSTER") else ["cluster"]
# Browser downloads don't work here: Playwright drives Debian's chromium.
CHROMIUM = os.environ.get("FEDSEARCH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def real_fixtures() -> Path:
    if not REAL_FIXTURES.is_dir():
        pytest.fail(f"the captured partner responses are missing: {REAL_FIXTURES} (set FEDSEARCH_REAL_FIXTURES)")
    return REAL_FIXTURES


@pytest.fixture(scope="session")
def es_url() -> str:
    try:
        httpx.get(f"{ES_URL}/_cluster/health", timeout=5).raise_for_status()
    except Exception as err:
        pytest.fail(
            f"no Elasticsearch node at {ES_URL} ({err}). Start one with `scripts/es-node.sh start` "
            "or point FEDSEARCH_TEST_ES_URL at one.",
            pytrace=False,
        )
    return ES_URL


@pytest.fixture
def es_config(es_url: str) -> Iterator[ElasticsearchConfig]:
    """Settings for a fresh, uniquely named index; the index is deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    yield ElasticsearchConfig(hosts=[es_url], index_prefix=prefix)
    delete_es_indices(es_url, prefix)


def delete_es_indices(es_url: str, prefix: str) -> None:
    """Delete a test's indices and template by name: the node refuses wildcard deletes."""
    listed = httpx.get(
        f"{es_url}/_cat/indices/{prefix}-*",
        params={"format": "json", "h": "index", "expand_wildcards": "all"},
        timeout=30,
    )
    listed.raise_for_status()
    names = ",".join(sorted(row["index"] for row in listed.json()))
    if names:
        httpx.delete(f"{es_url}/{names}", params={"ignore_unavailable": "true"}, timeout=30).raise_for_status()
    gone = httpx.delete(f"{es_url}/_index_template/{prefix}-template", timeout=30)
    if gone.status_code != 404:
        gone.raise_for_status()


@pytest.fixture(scope="session")
def browser():
    """One chromium for every browser test: two sync Playwrights can't run in one process."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as err:
        pytest.fail(f"playwright is not installed ({err}); pip install -e '.[test]'", pytrace=False)
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"no chromium at {CHROMIUM}: apt-get install chromium (or set FEDSEARCH_CHROMIUM)", pytrace=False)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()
