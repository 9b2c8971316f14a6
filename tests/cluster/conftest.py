"""The 3-node cluster of `scripts/es-cluster.sh start`, for the tests in this folder.

They run only when FEDSEARCH_TEST_ES_CLUSTER is set (the comma-separated HTTP URLs of the
nodes, in node order; `.ci/run` sets it in its own cluster step, docs/operations.md). Then a
cluster that is not there, or not three green nodes, fails them; it never skips them.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import ROOT, delete_es_indices
from tests.indexers.test_crash_kill import corpus, repository  # noqa: F401 - the partners, as fixtures here too

CLUSTER_URLS = [u for u in os.environ.get("FEDSEARCH_TEST_ES_CLUSTER", "").split(",") if u]
SCRIPT = ROOT / "scripts" / "es-cluster.sh"
# The folder every node lists in path.repo (scripts/es-cluster.sh: ES_CLUSTER_REPO).
WORK = Path(
    os.environ.get("FEDSEARCH_ES_HOME")
    or ("/var/lib/fedsearch-es" if os.geteuid() == 0 else Path.home() / ".cache" / "fedsearch" / "es")
)
SNAPSHOT_ROOT = Path(os.environ.get("ES_CLUSTER_REPO") or WORK / "snapshots")

pytestmark = pytest.mark.cluster


@dataclass
class Cluster:
    """The running cluster: its node URLs, and the script that starts and kills its nodes."""

    urls: list[str]

    def script(self, *args: str, env: dict[str, str] | None = None, timeout: float = 400) -> str:
        # The script's node numbering follows the URLs given: node 1 at the first URL's port.
        own = {"ES_CLUSTER_NODES": str(len(self.urls)), "ES_CLUSTER_HTTP_PORT": str(httpx.URL(self.urls[0]).port)}
        done = subprocess.run(
            [str(SCRIPT), *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **own, **(env or {})},
        )
        assert done.returncode == 0, f"es-cluster.sh {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def health(self, exclude: int | None = None) -> dict | None:
        """The cluster health from the first node that answers (never node `exclude`)."""
        for n, url in enumerate(self.urls, start=1):
            if n == exclude:
                continue
            try:
                return httpx.get(f"{url}/_cluster/health", timeout=3).json()
            except (httpx.HTTPError, ValueError):
                continue
        return None

    def wait_for(self, status: str, nodes: int, exclude: int | None = None, timeout: float = 300) -> float:
        """Wait until the cluster has `nodes` nodes and this status; the monotonic time it did."""
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = self.health(exclude)
            if seen and seen.get("number_of_nodes") == nodes and seen.get("status") == status:
                return time.monotonic()
            time.sleep(0.25)
        pytest.fail(
            f"the cluster was not {status} with {nodes} nodes within {timeout} s; last health: {seen}", pytrace=False
        )


@pytest.fixture(scope="session")
def cluster() -> Cluster:
    if not CLUSTER_URLS:
        pytest.fail(
            "FEDSEARCH_TEST_ES_CLUSTER is not set: start the cluster with `scripts/es-cluster.sh start` and set it "
            "to its URLs (http://127.0.0.1:9211,http://127.0.0.1:9212,http://127.0.0.1:9213)",
            pytrace=False,
        )
    c = Cluster(CLUSTER_URLS)
    health = c.health()
    if health is None:
        pytest.fail(f"no node answers at {CLUSTER_URLS}: run `scripts/es-cluster.sh start`", pytrace=False)
    c.wait_for("green", len(CLUSTER_URLS), timeout=120)
    return c


@pytest.fixture
def cluster_es(cluster: Cluster) -> Iterator[dict]:
    """`elasticsearch:` settings for a fresh, uniquely named index on the cluster: 3 shards, 1 replica."""
    prefix = f"c{uuid.uuid4().hex[:10]}"
    yield {
        "hosts": cluster.urls,
        "index_prefix": prefix,
        "number_of_shards": 3,
        "number_of_replicas": 1,
        "search_timeout": 5.0,
        "refresh_interval": "1s",
    }
    cluster.wait_for("green", len(cluster.urls))  # a test that killed a node has it back
    delete_es_indices(cluster.urls[0], prefix)
