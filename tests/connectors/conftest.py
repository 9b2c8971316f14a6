"""Fixtures for the connector tests: settings on a temporary data dir, a raw store, real peers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fedsearch.config import HarvestPolicy, Reach, Settings, validate_settings
from rawstore.store import RawStore
from tests.connectors.peers import OaiPeer, ZebraPeer, pyoai_token_fix

# Fast and strict: no politeness delay, short timeouts, no retries unless a test wants them.
FAST_POLICY = {"delay_seconds": 0, "timeout_seconds": 5, "max_retries": 0}
# The peers run on 127.0.0.1 and the test files sit in the data dir: these tests' deployment allows both.
LOCAL_REACH = Reach(allow_private_networks=True)


def local_policy(**overrides: Any) -> HarvestPolicy:
    """The fast policy, allowed to reach the local peers (connectors/reach.py)."""
    return HarvestPolicy(**{**FAST_POLICY, **overrides}).with_reach(LOCAL_REACH)


def make_settings(data_dir: Path, *sources: dict[str, Any], **policy: Any) -> Settings:
    """Validated settings (connector options included) with the fast policy."""
    return validate_settings(
        {
            "data_dir": str(data_dir),
            "harvest": {**FAST_POLICY, **policy},
            "reach": {"import_dirs": [str(data_dir)], "allow_private_networks": True},
            "sources": list(sources),
        }
    )


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch) -> None:
    """Retries of damaged pages and failed requests wait 10 ms, not seconds."""
    from connectors.http import PoliteClient

    monkeypatch.setattr(PoliteClient, "backoff_base_seconds", 0.01)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RawStore]:
    with RawStore(tmp_path / "raw.sqlite3") as s:
        yield s


@pytest.fixture
def oai_peer(monkeypatch) -> Iterator[OaiPeer]:
    """pyoai's data provider with 45 records, 10 per page."""
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=45, batch_size=10) as peer:
        yield peer


@pytest.fixture
def zebra(tmp_path: Path) -> Iterator[ZebraPeer]:
    try:
        peer = ZebraPeer(tmp_path / "zebra")
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    yield peer
    peer.stop()
