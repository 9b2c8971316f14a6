"""fedsearch on a real 3-node Elasticsearch cluster: losing a node under load, reindexing
under load, and restoring a snapshot into a fresh cluster.

A real deployment each time: the demo's OAI-PMH repository, a MARCXML catalogue and a
CSV register (tests/indexers/test_crash_kill.py), harvested by the installed `fedsearch`
command into an index of 3 shards with 1 replica, served by `fedsearch serve`, queried by
8 concurrent clients. Nodes die by SIGKILL (scripts/es-cluster.sh kill).

FEDSEARCH_CLUSTER_LOAD_SECONDS sets how long the node-loss load runs (default 30 s; the
numbers in docs/operations.md come from 60 s).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
import yaml

from fedsearch.config import load_config
from fedsearch.engines import SearchQuery, Sort, open_engine
from fedsearch.record import Record
from tests.cluster.conftest import SNAPSHOT_ROOT, WORK, Cluster
from tests.cluster.load import QueryLoad, Server, summary
from tests.connectors.peers import free_port
from tests.indexers.test_crash_kill import (
    FEDSEARCH,
    Deployment,
    check_converged,
    make_deployment,
)

CLIENTS = 8
LOAD_SECONDS = float(os.environ.get("FEDSEARCH_CLUSTER_LOAD_SECONDS", "30"))
QUERIES = 12
FRESH_PORT = int(os.environ.get("FEDSEARCH_TEST_ES_FRESH_PORT", "9214"))  # the snapshot test's own one-node cluster
pytestmark = [pytest.mark.cluster, pytest.mark.timeout(1500)]


def deploy(root: Path, corpus: Path, repository, es: dict) -> Deployment:
    """A harvested deployment on the cluster, its server settings ready for `fedsearch serve`."""
    dep = make_deployment(
        root, corpus, repository, "elasticsearch", SimpleNamespace(hosts=es["hosts"], index_prefix=es["index_prefix"])
    )
    config = yaml.safe_load(dep.config.read_text(encoding="utf-8"))
    config["elasticsearch"] = es
    # The load is ours: no rate limit; the engine gate admits every client at once.
    # /healthz gets longer than its 1 s default: this machine is shared and busy.
    config["server"] = {
        "port": free_port(),
        "rate_limit_per_minute": 1_000_000,
        "engine_max_in_flight": CLIENTS,
        "health_timeout_seconds": 15,
    }
    dep.config.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    dep.settings = load_config(dep.config)
    done = dep.cli("harvest", timeout=900)
    assert done.returncode == 0, done.stderr
    return dep


def serve(dep: Deployment) -> Server:
    return Server(dep.config, dep.settings.server.port, dep.root / "serve.log")


def query_words(dep: Deployment) -> list[str]:
    """Words from the indexed titles: queries that must find something."""
    engine = open_engine(dep.settings)
    try:
        hits = engine.search(SearchQuery(per_page=50, highlight=False)).hits
    finally:
        engine.close()
    words: list[str] = []
    for hit in hits:
        for title in hit.record.title:
            for word in title.value.split():
                word = word.strip(".,:;()[]«»\"'")
                if len(word) >= 6 and word.isalpha() and word.lower() not in words:
                    words.append(word.lower())
    assert len(words) >= QUERIES, f"only {len(words)} usable title words in {len(hits)} records"
    return random.Random(7).sample(words, QUERIES)


def totals(server: Server, queries: list[str]) -> dict[str, int]:
    out = {}
    for q in queries:
        r = httpx.get(f"{server.url}/api/v1/search", params={"q": q, "per_page": 5}, timeout=30)
        assert r.status_code == 200, r.text
        out[q] = r.json()["total"]
        assert out[q] > 0, f"{q!r} finds nothing"
    return out


def healthz_shows(server: Server, status: str, timeout: float = 120) -> None:
    """/healthz answers 200 and reports the cluster `status` (its probe is cached for a few seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        r = httpx.get(f"{server.url}/healthz", timeout=30)
        if r.status_code == 200 and r.json()["cluster"] == status:
            return
        assert time.monotonic() < deadline, f"/healthz never showed the cluster {status}: {r.status_code} {r.text}"
        time.sleep(1)


def test_a_node_dies_under_query_load_and_harvest(
    cluster: Cluster, cluster_es: dict, tmp_path: Path, corpus: Path, repository
):
    dep = deploy(tmp_path, corpus, repository, cluster_es)
    server = serve(dep)
    harvest = load = None
    harvest_log = tmp_path / "harvest.log"
    try:
        queries = query_words(dep)
        totals(server, queries)
        healthz_shows(server, "green")
        dep.exports.change(random.Random(11), rate=0.3)  # work for the harvest that runs across the loss
        load = QueryLoad(server.url, queries, clients=CLIENTS).start()
        started = time.monotonic()
        time.sleep(max(0.0, LOAD_SECONDS / 2 - 3))
        with harvest_log.open("w") as log:  # a file, not a pipe: a chatty run must never block on it
            harvest = subprocess.Popen(
                [str(FEDSEARCH), "--config", str(dep.config), "--log-level", "WARNING", "harvest", "--full"],
                env=dep.env,
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
        time.sleep(max(0.0, started + LOAD_SECONDS / 2 - time.monotonic()))
        assert harvest.poll() is None, "the harvest ended before the node died; the test would show nothing"
        cluster.script("kill", "2")
        killed = time.monotonic()
        yellow = cluster.wait_for("yellow", len(cluster.urls) - 1, exclude=2)
        healthz_shows(server, "yellow")
        time.sleep(max(0.0, started + LOAD_SECONDS - time.monotonic()))
        answers = load.stop()
        harvest.wait(timeout=900)
        print(
            f"\nnode es2 killed at {killed - started:.1f} s; cluster yellow {yellow - killed:.1f} s later; "
            f"{summary(answers)}; harvest across the loss exited {harvest.returncode}"
        )
        if harvest.returncode != 0:  # resumes: the next plain harvest carries on where it stopped
            done = dep.cli("harvest", timeout=900)
            assert done.returncode == 0, (
                f"the harvest after the node loss failed:\n{harvest_log.read_text()}\n{done.stderr}"
            )
        # The node comes back; replicas recover by themselves: green without any manual step.
        print(cluster.script("start").strip().splitlines()[-1])  # "ready: ... in N s": the rejoin, to green
        cluster.wait_for("green", len(cluster.urls))
        healthz_shows(server, "green")
    finally:
        if load is not None:
            load.stop()
        if cluster.health() is not None and cluster.health()["number_of_nodes"] < len(cluster.urls):
            cluster.script("start")  # a failure above left es2 down
        if harvest is not None and harvest.poll() is None:
            harvest.kill()
            harvest.wait(30)
        server.stop()
    ok = [a for a in answers if a.status == 200]
    assert len(ok) >= 0.99 * len(answers), summary(answers)
    assert len(answers) >= CLIENTS * 5, summary(answers)
    late = [a for a in answers if a.at >= yellow and (a.status >= 500 or a.status == 0)]
    assert not late, f"{len(late)} failed after the cluster was yellow again, e.g. {late[:3]}; {summary(answers)}"
    assert all(a.total for a in ok), "an answered query found nothing"
    check_converged(dep, "after the harvest across a node loss")


def test_reindex_under_query_load_fails_no_query(
    cluster: Cluster, cluster_es: dict, tmp_path: Path, corpus: Path, repository
):
    dep = deploy(tmp_path, corpus, repository, cluster_es)
    server = serve(dep)
    try:
        queries = query_words(dep)
        before = totals(server, queries)
        engine = open_engine(dep.settings)
        served = engine.generation()
        load = QueryLoad(server.url, queries, clients=CLIENTS).start()
        try:
            time.sleep(2)
            done = dep.cli("reindex", timeout=900)
            time.sleep(2)
        finally:
            answers = load.stop()
        switched_to = engine.generation()
        engine.close()
    finally:
        server.stop()
    print(f"\nreindex under load: {summary(answers)}")
    assert done.returncode == 0, done.stderr
    assert switched_to != served, "the alias still points to the index it served before"
    failed = [a for a in answers if a.status != 200]
    assert not failed, f"{len(failed)} queries failed, e.g. {failed[:3]}"
    # Same records before, during and after: every answer has the same total; an empty window would show.
    wrong = [a for a in answers if a.total != before[a.query]]
    assert not wrong, f"{len(wrong)} answers had another total, e.g. {wrong[:3]} (before: {before})"
    assert len(answers) >= CLIENTS * 5, summary(answers)


def test_a_snapshot_restores_into_a_fresh_cluster(
    cluster: Cluster, cluster_es: dict, tmp_path: Path, corpus: Path, repository
):
    location = SNAPSHOT_ROOT / cluster_es["index_prefix"]
    es = {**cluster_es, "snapshot_path": str(location)}
    dep = deploy(tmp_path / "old", corpus, repository, es)
    done = dep.cli("snapshot")
    assert done.returncode == 0, done.stderr
    assert "snapshot" in done.stdout and es["index_prefix"] in done.stdout
    queries = query_words(dep)
    before = results(dep.settings, queries)

    # A fresh one-node cluster of its own, sharing only the snapshot folder.
    fresh = {
        "ES_CLUSTER_NAME": "fedsearch-restore-test",
        "ES_CLUSTER_NODES": "1",
        "ES_CLUSTER_HTTP_PORT": str(FRESH_PORT),
        "ES_CLUSTER_TRANSPORT_PORT": str(FRESH_PORT + 100),
        "ES_CLUSTER_REPO": str(SNAPSHOT_ROOT),
    }
    print("\n" + cluster.script("start", env=fresh).strip().splitlines()[-1])  # "ready: ... in N s"
    try:
        config = tmp_path / "fresh.yaml"
        config.write_text(
            yaml.safe_dump(
                {
                    "engine": "elasticsearch",
                    "data_dir": str(tmp_path / "fresh-data"),
                    "elasticsearch": {**es, "hosts": [f"http://127.0.0.1:{FRESH_PORT}"], "number_of_replicas": 0},
                }
            ),
            encoding="utf-8",
        )
        settings = load_config(config)
        assert results(settings, queries) == {q: (0, []) for q in queries}  # fresh: nothing there
        restored = subprocess.run(
            [str(FEDSEARCH), "--config", str(config), "restore-snapshot"],
            check=False,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert restored.returncode == 0, restored.stderr
        after = results(settings, queries)
    finally:
        cluster.script("stop", env=fresh)
        shutil.rmtree(WORK / "cluster-fedsearch-restore-test", ignore_errors=True)  # fresh next time
        shutil.rmtree(location, ignore_errors=True)
    assert after == before
    assert all(total > 0 for total, _ in after.values())


def results(settings, queries: list[str]) -> dict[str, tuple[int, list[Record]]]:
    """Each query's total and its first 20 records, sorted by title: relevance scores are per shard
    copy (docs/engines.md), so near-equal hits may swap between clusters; the title order is exact."""
    engine = open_engine(settings)
    try:
        out = {}
        for q in queries:
            r = engine.search(SearchQuery(q=q, per_page=20, highlight=False, sort=Sort.title))
            out[q] = (r.total, [h.record for h in r.hits])
        return out
    finally:
        engine.close()
