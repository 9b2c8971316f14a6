"""Records, sources, suggestions and the OpenSearch description, on both engines."""

from __future__ import annotations

import json

from tests.corpus import CORPUS, rid


def test_a_record_in_full_with_its_holdings(client):
    r = client.get(f"/api/v1/records/{rid('oai:auca:10')}")
    assert r.status_code == 200
    body = r.json()
    assert body["title"] == [{"value": "Climate change in Central Asia", "lang": "en"}]
    assert body["identifiers"]["doi"] == ["10.1234/ca.2021.7"]
    assert [h["source"] for h in body["holdings"]] == ["auca"]
    assert body["holdings"][0]["record_id"] == rid("oai:auca:10")


def test_an_unknown_record_is_a_404_problem(client):
    for record_id in ("knu-0000000000000000", "not an id"):
        r = client.get(f"/api/v1/records/{record_id}")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert "search for its title" in r.json()["detail"]


def test_record_exports_by_suffix_and_by_format(client):
    record_id = rid("oai:auca:10")
    for suffix, fmt, media, marker in (
        (".bib", "bibtex", "application/x-bibtex", "@article{smith2021climate,"),
        (".ris", "ris", "application/x-research-info-systems", "DO  - 10.1234/ca.2021.7"),
        (".csl.json", "csl", "application/vnd.citationstyles.csl+json", '"DOI": "10.1234/ca.2021.7"'),
    ):
        by_suffix = client.get(f"/api/v1/records/{record_id}{suffix}")
        by_format = client.get(f"/api/v1/records/{record_id}", params={"format": fmt})
        for r in (by_suffix, by_format):
            assert r.status_code == 200 and r.headers["content-type"].startswith(media)
            assert marker in r.text
            assert r.headers["content-disposition"].startswith("attachment")
        assert by_suffix.content == by_format.content


def test_exports_of_untrusted_metadata_stay_inert(client):
    bib = client.get(f"/api/v1/records/{rid('oai:knu:xss')}.bib").text
    assert r"\textless{}script\textgreater{}alert(1)\textless{}/script\textgreater{} Экология" in bib
    csl = json.loads(client.get(f"/api/v1/records/{rid('oai:knu:xss')}.csl.json").text)
    assert csl[0]["title"] == "<script>alert(1)</script> Экология"


def test_sources_list_names_kinds_and_counts(client):
    r = client.get("/api/v1/sources")
    assert r.status_code == 200
    body = r.json()
    by_id = {s["id"]: s for s in body["sources"]}
    counts = {s: sum(1 for rec in CORPUS if rec.source == s) for s in {rec.source for rec in CORPUS}}
    assert by_id["knu"]["kind"] == "oai-pmh" and by_id["knu"]["records"] == counts["knu"]
    assert by_id["knu"]["name"]["ky"] == "КУУнун репозиторийи"
    assert by_id["unharvested"]["records"] == 0 and by_id["unharvested"]["last_harvest"] is None
    assert by_id["bulk"]["kind"] is None and by_id["bulk"]["records"] == 20  # indexed, not configured
    assert body["total_records"] == len(CORPUS)


def test_suggest_completes_cyrillic_and_latin_input(client):
    for q in ("эколог", "ekolog"):
        r = client.get("/api/v1/suggest", params={"q": q})
        assert r.status_code == 200
        texts = [s["text"] for s in r.json()["suggestions"]]
        assert "Экология озера Иссык-Куль" in texts, (q, texts)
    r = client.get("/api/v1/suggest", params={"q": "Aitm", "format": "opensearch"})
    assert r.headers["content-type"].startswith("application/x-suggestions+json")
    q, completions = r.json()
    assert q == "Aitm" and "Айтматов, Чингиз" in completions


def test_suggest_without_text_is_empty_and_without_q_is_a_400(client):
    assert client.get("/api/v1/suggest", params={"q": "  "}).json()["suggestions"] == []
    r = client.get("/api/v1/suggest")
    assert r.status_code == 400 and r.json()["errors"][0]["param"] == "q"


def test_opensearch_description_points_at_our_search(client):
    r = client.get("/opensearch.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/opensearchdescription+xml")
    assert "http://testserver/search?q={searchTerms}" in r.text
    assert 'type="application/atom+xml"' in r.text


def test_healthz_reports_the_index(client):
    r = client.get("/healthz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["reachable"] and body["documents"] == len(CORPUS)
    # The index was built by this test run: minutes old, though its records were harvested on 2026-11-01.
    assert 0 <= body["index_age_seconds"] < 3600
    assert body["last_update"].endswith(("Z", "+00:00"))
    # Elasticsearch's cluster health (yellow if another test left an index with replicas); none on embedded.
    assert body["cluster"] in (("green", "yellow") if body["engine"] == "elasticsearch" else (None,))
    assert "/" not in (body.get("detail") or "") and "127.0.0.1" not in r.text  # no paths or hosts in public
