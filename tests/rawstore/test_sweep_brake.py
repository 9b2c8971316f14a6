"""Deletion sweeps only after a listing we can trust, and a brake on large ones (held for a librarian)."""

from __future__ import annotations

import io

import pytest
import yaml

from connectors.base import RawRecord
from fedsearch.config import load_config
from fedsearch_app.cli import main as cli_main
from rawstore.harvest import harvest_source
from rawstore.status import print_sources
from tests.connectors.conftest import FAST_POLICY, make_settings
from tests.connectors.peers import OaiPeer, pyoai_token_fix


@pytest.fixture
def peer(monkeypatch):
    pyoai_token_fix(monkeypatch)
    with OaiPeer(count=50, batch_size=10) as p:
        yield p


def repo(url: str) -> dict:
    return {"id": "repo", "connector": "oai-pmh", "url": url}


def vanish(peer: OaiPeer, *numbers: int) -> None:
    with peer.lock:
        for n in numbers:
            del peer.records[f"oai:test:{n}"]


def test_a_small_sweep_applies_and_a_large_one_is_held_until_confirmed(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url))
    assert harvest_source(settings, "repo", store).ok
    vanish(peer, 1, 2, 3)  # 6%: under the 10% brake
    small = harvest_source(settings, "repo", store, full=True)
    assert small.ok and small.deleted == 3 and store.get("repo", "oai:test:1").deleted

    vanish(peer, *range(10, 20))  # 10 of 47 (21%): held
    big = harvest_source(settings, "repo", store, full=True)
    assert big.ok and big.deleted == 0
    assert store.counts("repo").live == 47
    (held,) = store.held_sweeps("repo")
    assert (held.count, held.live, held.run_id) == (10, 47, big.id)
    assert held.local_ids[0] == "oai:test:10"

    peer.put(15)  # it comes back before anyone decides: confirming must not delete it
    assert harvest_source(settings, "repo", store).ok  # incremental: lists 15 again
    assert store.confirm_held_sweep(held.id, by="aigul") == 9
    assert store.get("repo", "oai:test:10").deleted and not store.get("repo", "oai:test:15").deleted
    assert store.held_sweep(held.id).status == "confirmed" and store.held_sweep(held.id).decided_by == "aigul"
    with pytest.raises(KeyError, match="already decided"):
        store.discard_held_sweep(held.id, by="aigul")


def test_a_discarded_sweep_keeps_the_records_and_a_newer_listing_supersedes_a_held_one(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url))
    assert harvest_source(settings, "repo", store).ok
    vanish(peer, *range(1, 21))
    assert harvest_source(settings, "repo", store, full=True).ok
    (first,) = store.held_sweeps("repo")
    assert harvest_source(settings, "repo", store, full=True).ok
    (second,) = store.held_sweeps("repo")
    assert second.id != first.id and store.held_sweep(first.id).status == "superseded"
    store.discard_held_sweep(second.id, by="boss")
    assert store.held_sweeps("repo") == [] and store.counts("repo").live == 50


def test_confirmed_by_the_librarian_a_full_run_deletes_past_the_brake(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url))
    assert harvest_source(settings, "repo", store).ok
    vanish(peer, *range(1, 21))
    run = harvest_source(settings, "repo", store, full=True, confirm_deletions=True)
    assert run.ok and run.deleted == 20 and store.held_sweeps("repo") == []


def test_the_brake_share_is_configurable(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url), sweep_max_share=0.5)
    assert harvest_source(settings, "repo", store).ok
    vanish(peer, *range(1, 21))
    assert harvest_source(settings, "repo", store, full=True).deleted == 20


def test_deleted_markers_apply_at_once_whatever_the_brake(peer, tmp_path, store):
    settings = make_settings(tmp_path, repo(peer.url), sweep_max_share=0.0)
    assert harvest_source(settings, "repo", store).ok
    for n in range(1, 21):
        peer.delete(n)  # explicit: the partner says so
    run = harvest_source(settings, "repo", store)
    assert run.ok and run.deleted == 20 and store.counts("repo").deleted == 20


def test_a_listing_with_unidentifiable_records_does_not_sweep(tmp_path, store):
    from rawstore.models import RunSummary  # noqa: F401 - the runner reads the untrusted note
    from tests.connectors.peers import LocalHTTPServer, Reply

    def body(records: str) -> bytes:
        return (
            '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
            "2024-01-01T00:00:00Z</responseDate><ListRecords>" + records + "</ListRecords></OAI-PMH>"
        ).encode()

    good = (
        "<record><header><identifier>oai:x:{n}</identifier><datestamp>2024-01-01</datestamp></header>"
        '<metadata><dc xmlns="http://purl.org/dc/elements/1.1/"><title>T{n}</title></dc></metadata></record>'
    )
    broken = "<record><header><identifier>oai:x:2<bad</identifier></header><metadata>x</metadata></record>"
    store.put_records("x", [RawRecord(local_id=f"oai:x:{n}", format="oai_dc", payload=b"<dc/>") for n in range(1, 4)])
    with LocalHTTPServer(lambda req: Reply(body=body(good.format(n=1) + broken))) as server:
        settings = make_settings(
            tmp_path, {"id": "x", "connector": "oai-pmh", "url": server.url + "/oai"}, sweep_max_share=1.0
        )
        run = harvest_source(settings, "x", store, full=True)
    assert run.status == "ok" and run.quarantined == 1
    assert run.deleted == 0 and store.counts("x").live == 3  # 2 and 3 are not taken for gone


def test_the_command_line_shows_held_deletions_and_confirms_them(peer, tmp_path):
    config = tmp_path / "fedsearch.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "data"),
                "harvest": FAST_POLICY,
                "reach": {"allow_private_networks": True},  # the peer is local
                "sources": [repo(peer.url)],
            }
        )
    )
    assert cli_main(["--config", str(config), "harvest"]) == 0
    vanish(peer, *range(1, 21))
    assert cli_main(["--config", str(config), "harvest", "--full"]) == 0
    out = io.StringIO()
    print_sources(load_config(config), out=out)
    assert "held deletions: 20 of 50 records no longer listed" in out.getvalue()
    assert "--confirm-deletions" in out.getvalue()

    assert cli_main(["--config", str(config), "harvest", "--source", "repo", "--confirm-deletions"]) == 0
    from rawstore.store import RawStore

    with RawStore.for_settings(load_config(config)) as store:
        assert store.counts("repo").deleted == 20 and store.held_sweeps("repo") == []
        assert store.held_sweeps("repo", status="confirmed")[0].decided_by.startswith("command line")
