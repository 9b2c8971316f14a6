"""The admin shows a held deletion sweep with counts and titles; a librarian confirms or discards it (audited).

/metrics shows held deletions and incomplete harvests.
"""

from __future__ import annotations

from fedsearch.engines import open_engine
from tests.connectors.peers import LocalHTTPServer, Reply
from tests.fedsearch_app.admin.test_sources import harvest


def use(partner_url: str, client) -> None:
    assert (
        client.post(
            "/admin/sources/knu/edit",
            {"connector": "oai-pmh", "opt.url": partner_url, "enabled": "on", "action": "save"},
        ).status_code
        == 303
    )


def vanish(peer, *numbers: int) -> None:
    with peer.lock:
        for n in numbers:
            del peer.records[f"oai:test:{n}"]


def test_a_held_sweep_is_shown_with_titles_and_confirmed_by_a_librarian(librarian, partner):
    use(partner.url, librarian)
    assert harvest(librarian, "knu").status == "ok"
    vanish(partner, 2, 3, 4)  # 3 of 12: over the 10% brake
    job = harvest(librarian, "knu", mode="full")
    assert job.status == "ok" and job.run.deleted == 0
    site = librarian.http.app.state.admin
    (held,) = site.store.held_sweeps("knu")

    page = librarian.get("/admin/sources/knu").text
    assert "Deletions waiting for you" in page
    assert "no longer lists 3 of 12 records (25%)" in page
    assert "oai:test:2" in page and "Кыргыз тили жана адабияты 3" in page  # ids with their titles
    metrics = librarian.get("/metrics").text
    assert 'fedsearch_harvest_held_deletions{source="knu"} 3' in metrics

    response = librarian.post(f"/admin/sources/knu/sweeps/{held.id}/confirm")
    assert response.headers["location"].endswith("done=sweep-confirmed")
    assert site.store.get("knu", "oai:test:3").deleted and site.store.held_sweeps("knu") == []
    entry = site.audit.entries(target="knu")[0]
    assert entry.actor == "aigul" and entry.action == "sweep.confirm"
    assert entry.detail == {"sweep": held.id, "run": held.run_id, "held": 3, "live": 12, "deleted": 3}
    site.harvests.wait("knu", timeout=60)
    engine = open_engine(librarian.http.app.state.settings)
    try:
        assert engine.count_by_source() == {"knu": 8}  # 11 indexed (one has no title), 3 gone
    finally:
        engine.close()
    assert "Deletions waiting for you" not in librarian.get("/admin/sources/knu").text


def test_a_discarded_sweep_keeps_the_records_and_is_audited(boss, partner):
    use(partner.url, boss)
    assert harvest(boss, "knu").status == "ok"
    vanish(partner, *range(1, 7))
    assert harvest(boss, "knu", mode="full").status == "ok"
    site = boss.http.app.state.admin
    (held,) = site.store.held_sweeps("knu")
    assert (
        boss.post(f"/admin/sources/knu/sweeps/{held.id}/discard").headers["location"].endswith("done=sweep-discarded")
    )
    assert site.store.counts("knu").live == 12
    assert site.audit.entries(target="knu")[0].action == "sweep.discard"
    again = boss.post(f"/admin/sources/knu/sweeps/{held.id}/confirm")  # already decided
    assert again.headers["location"].endswith("done=sweep-gone") and site.store.counts("knu").live == 12
    assert boss.post("/admin/sources/knu/sweeps/999/confirm").status_code == 404


def test_an_incomplete_harvest_shows_in_the_admin_and_in_metrics(librarian):
    first = (
        b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>'
        b"2024-01-01T00:00:00Z</responseDate><ListRecords><record><header><identifier>oai:k:1</identifier>"
        b'<datestamp>2024-01-01</datestamp></header><metadata><dc xmlns="http://purl.org/dc/elements/1.1/">'
        b"<title>One</title></dc></metadata></record><resumptionToken>t2</resumptionToken></ListRecords></OAI-PMH>"
    )
    cut = first[: len(first) // 2]

    with LocalHTTPServer(lambda req: Reply(body=cut if req.params.get("resumptionToken") else first)) as server:
        use(server.url + "/oai", librarian)
        job = harvest(librarian, "knu")
    assert job.status == "incomplete"
    page = librarian.get("/admin/sources/knu").text
    assert "Incomplete: damaged answers" in page and "state-incomplete" in page and "page 2" in page
    metrics = librarian.get("/metrics").text
    assert 'fedsearch_harvest_last_run_status{source="knu",status="incomplete"} 1' in metrics
    assert 'fedsearch_harvest_incomplete{source="knu",reason="page 2 stayed damaged' in metrics
