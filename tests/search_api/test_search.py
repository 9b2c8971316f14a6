"""GET /api/v1/search: query, filters, facets, sort, paging and cursors, on both engines."""

from __future__ import annotations

from collections import Counter

from tests.corpus import CORPUS, rid


def search(client, **params):
    r = client.get("/api/v1/search", params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/json"
    return r.json()


def test_a_query_returns_hits_with_the_fields_an_embedding_site_needs(client):
    body = search(client, q="экология", facets="type,source")
    assert body["total"] == 4
    hit = next(h for h in body["hits"] if h["id"] == rid("oai:knu:1"))
    assert hit["title"] == "Экология озера Иссык-Куль" and hit["title_lang"] == "ru"
    assert hit["title_html"] == "<mark>Экология</mark> озера Иссык-Куль"
    assert hit["authors"] == ["Айтматов, Чингиз"] and hit["year"] == 2019 and hit["type"] == "article"
    assert hit["access"] == "open" and hit["sources"] == ["knu"]
    assert hit["holdings"][0]["source"] == "knu" and hit["holdings"][0]["source_record_id"] == "oai:knu:1"
    assert hit["url"].endswith(f"/records/{rid('oai:knu:1')}")
    assert hit["api_url"].endswith(f"/api/v1/records/{rid('oai:knu:1')}")
    assert body["facets"]["type"] == [{"value": "article", "count": 4}]
    assert body["query"]["q"] == "экология" and body["query"]["facets"] == ["type", "source"]


def test_latin_input_finds_cyrillic_records(client):
    body = search(client, q="Bishkek")
    assert rid("marc:100") in {h["id"] for h in body["hits"]}


def test_untrusted_titles_come_back_escaped_in_highlights(client):
    body = search(client, q="экология")
    xss = next(h for h in body["hits"] if h["id"] == rid("oai:knu:xss"))
    assert xss["title"] == "<script>alert(1)</script> Экология"  # the data itself, as text
    assert xss["title_html"] == "&lt;script&gt;alert(1)&lt;/script&gt; <mark>Экология</mark>"


def test_repeated_filter_values_are_ored_and_filters_anded(client):
    body = search(client, type=["book", "patent"], per_page=100)
    expected = {r.id for r in CORPUS if r.type.value in ("book", "patent")}
    assert {h["id"] for h in body["hits"]} == expected
    body = search(client, type=["book", "patent"], source="patent", per_page=100)
    assert {h["id"] for h in body["hits"]} == {rid("KG1234"), rid("KG1300")}


def test_year_range_filters_inclusively(client):
    body = search(client, year_from=2019, year_to=2020, per_page=100)
    assert {h["id"] for h in body["hits"]} == {r.id for r in CORPUS if r.year and 2019 <= r.year <= 2020}


def test_facets_count_every_value_and_stay_disjunctive(client):
    body = search(client, type="patent", facets=["type", "source"], facet_size=50, per_page=1)
    types = Counter(r.type.value for r in CORPUS)
    assert {f["value"]: f["count"] for f in body["facets"]["type"]} == dict(types)
    assert body["facets"]["source"] == [{"value": "patent", "count": 2}]


def test_sort_newest_and_pages_do_not_overlap(client):
    first = search(client, sort="newest", per_page=5, page=1)
    second = search(client, sort="newest", per_page=5, page=2)
    years = [h["year"] for h in first["hits"]]
    assert years == sorted(years, reverse=True)
    assert not {h["id"] for h in first["hits"]} & {h["id"] for h in second["hits"]}
    assert first["total"] == len(CORPUS) and first["page"] == 1


def test_per_page_is_capped(client):
    body = search(client, per_page=5000)
    assert body["per_page"] == 100 and len(body["hits"]) == min(100, len(CORPUS))


def test_the_cursor_walks_every_hit_once(client):
    seen: list[str] = []
    body = search(client, sort="title", per_page=7)
    while True:
        seen += [h["id"] for h in body["hits"]]
        if not body["next_cursor"]:
            break
        assert body["next"] and "cursor=" in body["next"]
        body = search(client, sort="title", per_page=7, cursor=body["next_cursor"])
        assert body["page"] is None
    assert len(seen) == len(set(seen)) == len(CORPUS)


def test_nothing_found_offers_the_query_in_the_other_keyboard_layout(client):
    # "экология" typed with the English layout active.
    body = search(client, q="'rjkjubz")
    assert body["total"] == 0
    assert {"kind": "keyboard_layout", "q": "экология", "total": 4} in [
        {k: a[k] for k in ("kind", "q", "total")} for a in body["alternatives"]
    ]


def test_nothing_found_offers_dropping_a_filter_with_its_count(client):
    body = search(client, q="climate", type="patent")
    assert body["total"] == 0
    assert any(
        a["kind"] == "drop_filter" and a["filter"] == "type" and a["value"] == "patent" and a["total"] == 2
        for a in body["alternatives"]
    )


def test_result_page_exports(client):
    r = client.get("/api/v1/search", params={"q": "climate", "format": "bibtex"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/x-bibtex")
    assert "attachment" in r.headers["content-disposition"]
    assert r.text.count("@") == 2 and "Climate change in Central Asia" in r.text
    r = client.get("/api/v1/search", params={"q": "climate", "format": "ris"})
    assert r.text.count("TY  - ") == 2 and r.text.count("ER  - ") == 2
    r = client.get("/api/v1/search", params={"q": "climate", "format": "csl"})
    assert {item["title"] for item in r.json()} == {
        "Climate change in Central Asia",
        "Glacier retreat and climate in the Tien Shan",
    }


def test_atom_feed_of_a_search(client):
    from xml.etree import ElementTree as ET

    for url, params in (
        ("/api/v1/search.atom", {"q": "climate"}),
        ("/api/v1/search", {"q": "climate", "format": "atom"}),
    ):
        r = client.get(url, params=params)
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
        feed = ET.fromstring(r.content)
        ns = {"a": "http://www.w3.org/2005/Atom", "os": "http://a9.com/-/spec/opensearch/1.1/"}
        assert feed.find("os:totalResults", ns).text == "2"
        titles = {e.find("a:title", ns).text for e in feed.findall("a:entry", ns)}
        assert titles == {"Climate change in Central Asia", "Glacier retreat and climate in the Tien Shan"}


def test_atom_feed_keeps_markup_in_titles_as_text(client):
    from xml.etree import ElementTree as ET

    r = client.get("/api/v1/search.atom", params={"q": "script alert"})
    assert b"<script>" not in r.content
    titles = [e.text for e in ET.fromstring(r.content).iter("{http://www.w3.org/2005/Atom}title")]
    assert "<script>alert(1)</script> Экология" in titles


def test_relaxed_and_corrected_queries_say_so(client):
    body = client.get("/api/v1/search", params={"q": "экология озера марсианского"}).json()
    assert body["total"] >= 1 and body["relaxed"]["of"] == 3 and body["relaxed"]["all_words"] == 0
    assert 1 <= body["relaxed"]["required"] <= 2
    # Few records hold both words: they come first, and records holding one of them follow.
    strict = client.get("/api/v1/search", params={"q": "экология AND озера"}).json()  # AND: never relaxed
    body = client.get("/api/v1/search", params={"q": "экология озера"}).json()
    assert strict["total"] >= 1 and strict["relaxed"] is None and body["corrected"] is None
    assert {h["id"] for h in body["hits"][: strict["total"]]} == {h["id"] for h in strict["hits"]}
    assert body["relaxed"] is None or body["relaxed"]["all_words"] == strict["total"]
    body = client.get("/api/v1/search", params={"q": "экалогия"}).json()
    assert body["total"] >= 1 and body["corrected"] == "экология"
