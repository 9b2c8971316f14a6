"""scripts/es-cluster.sh refuses what would harm the shared development node or make no sense,
before starting anything. (The cluster it starts is tested in tests/cluster/.)"""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "es-cluster.sh"


def run(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "ES_CLUSTER_NAME": "fedsearch-script-test", **env},
    )


@pytest.mark.parametrize(
    ("env", "words"),
    [
        ({"ES_CLUSTER_HTTP_PORT": "9198"}, "would take port 9200"),
        ({"ES_CLUSTER_TRANSPORT_PORT": "9299"}, "would take port 9300"),
        ({"ES_CLUSTER_NODES": "0"}, "ES_CLUSTER_NODES=0"),
        ({"ES_CLUSTER_NAME": "Bad Name"}, "ES_CLUSTER_NAME=Bad Name"),
        ({"ES_CLUSTER_WAIT": "red"}, "ES_CLUSTER_WAIT=red"),
    ],
)
def test_settings_that_would_clash_are_refused(env: dict[str, str], words: str):
    done = run("start", **env)
    assert done.returncode != 0 and words in done.stderr, done.stderr


def test_kill_names_a_node_of_the_cluster():
    done = run("kill", "7")
    assert done.returncode != 0 and "give 1..3 or es1..es3" in done.stderr, done.stderr
    done = run("kill", "es2")  # a cluster nobody started: nothing to kill
    assert done.returncode != 0 and "es2 is not running" in done.stderr, done.stderr


def test_usage_and_status_of_a_cluster_that_is_not_running():
    done = run("restart")
    assert done.returncode == 2 and "start|stop|kill NODE|status" in done.stderr
    done = run("status", ES_CLUSTER_HTTP_PORT="9411", ES_CLUSTER_TRANSPORT_PORT="9511")
    assert (
        done.returncode == 1 and "es1: not running" in done.stdout and "no node of fedsearch-script-test" in done.stdout
    )
