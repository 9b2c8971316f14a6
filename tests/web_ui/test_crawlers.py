"""For crawlers, on both engines: robots.txt, the sitemap index and its slices (every work
once, with lastmod), Google Scholar's citation_* meta on a record page, and 301 from a
record merged away to the work that absorbed it."""

from __future__ import annotations

import re

import httpx
import pytest
from lxml import etree

from fedsearch.record import (
    Container,
    LangText,
    Link,
    Match,
    Person,
    Record,
    RecordType,
    make_record_id,
)
from tests.corpus import CORPUS
from tests.search_api.conftest import Live
from web_ui import crawlers

SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
ABSORBED = make_record_id("nlkr", "marc:absorbed")
PAPER = Record(
    id=make_record_id("knu", "oai:scholar"),
    source="knu",
    source_record_id="oai:scholar",
    type=RecordType.article,
    title=[LangText(value="Мөңгүлөрдүн эришинин моделдери", lang="ky")],
    authors=[Person(name="Асанова, Айгүл"), Person(name="Smith, John")],
    year=2024,
    date="2024-03-05",
    container=Container(title="Вестник КНУ", volume="12", issue="3", pages="45-60"),
    languages=["ky"],
    links=[
        Link(url="https://repo.knu.example/bitstream/1/paper.pdf", kind="fulltext", mime="application/pdf"),
        Link(url="https://repo.knu.example/handle/1", kind="landing"),
    ],
    match=Match(members=[make_record_id("knu", "oai:scholar"), ABSORBED], rule="doi", evidence="10.1/x"),
)


@pytest.fixture(scope="module")
def site(live: Live) -> Live:
    assert live.engine.upsert([PAPER]).errors == []
    live.engine.refresh()
    crawlers._cache.clear()
    return live


def test_robots_points_at_the_sitemap(site: Live) -> None:
    text = httpx.get(f"{site.base}/robots.txt").text
    assert f"Sitemap: {site.base}/sitemap.xml" in text
    assert "Disallow: /search" in text and "Disallow: /api/" in text
    assert not re.search(r"^Disallow: /records", text, re.MULTILINE)


def _urls(sitemap_url: str) -> list[tuple[str, str | None]]:
    r = httpx.get(sitemap_url)
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/xml")
    root = etree.fromstring(r.content)
    assert root.tag == f"{SM}urlset" and len(root) <= crawlers.SITEMAP_MAX_URLS
    return [(u.findtext(f"{SM}loc"), u.findtext(f"{SM}lastmod")) for u in root]


def _all_listed(site: Live) -> list[str]:
    index = etree.fromstring(httpx.get(f"{site.base}/sitemap.xml").content)
    assert index.tag == f"{SM}sitemapindex"
    locs = [s.findtext(f"{SM}loc") for s in index]
    return [loc for sm in locs for loc, _ in _urls(sm)], locs


def test_the_sitemaps_list_every_work_once(site: Live) -> None:
    listed, sitemaps = _all_listed(site)
    assert sitemaps == [f"{site.base}/sitemaps/all.xml"]
    expected = sorted(f"{site.base}/records/{r.id}" for r in [*CORPUS, PAPER])
    assert sorted(listed) == expected
    lastmods = {loc: lm for loc, lm in _urls(sitemaps[0])}
    assert lastmods[f"{site.base}/records/{CORPUS[0].id}"] == "2026-11-01T00:00:00+00:00"


def test_a_bigger_index_is_cut_into_even_slices(site: Live, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crawlers, "SLICE_TARGET", 4)  # 46 works: one hex digit, 16 slices
    crawlers._cache.clear()
    try:
        listed, sitemaps = _all_listed(site)
    finally:
        crawlers._cache.clear()
    assert len(sitemaps) == 16 and sitemaps[0].endswith("/sitemaps/0.xml")
    assert sorted(listed) == sorted(f"{site.base}/records/{r.id}" for r in [*CORPUS, PAPER])
    assert httpx.get(f"{site.base}/sitemaps/xyz.xml").status_code == 404


def test_slice_digits() -> None:
    assert crawlers.slice_digits(0) == 0
    assert crawlers.slice_digits(crawlers.SLICE_TARGET) == 0
    assert crawlers.slice_digits(crawlers.SLICE_TARGET + 1) == 1
    assert crawlers.slice_digits(1_000_000) == 2  # 16**2 slices of ~3,900
    assert crawlers.slice_digits(10**9) == 3  # at most 4,096 sitemaps, each still capped at 50,000 URLs


def _meta(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<meta name="(citation_[a-z_]+)" content="([^"]*)">', html)


def test_record_pages_carry_google_scholar_meta(site: Live) -> None:
    r = httpx.get(f"{site.base}/records/{PAPER.id}")
    assert r.status_code == 200
    meta = _meta(r.text)
    assert meta.count(("citation_title", PAPER.main_title)) == 1  # one work per page
    assert [v for k, v in meta if k == "citation_author"] == ["Асанова, Айгүл", "Smith, John"]
    assert ("citation_publication_date", "2024/03/05") in meta
    assert ("citation_journal_title", "Вестник КНУ") in meta
    assert (
        ("citation_volume", "12") in meta
        and ("citation_firstpage", "45") in meta
        and ("citation_lastpage", "60") in meta
    )
    assert ("citation_pdf_url", "https://repo.knu.example/bitstream/1/paper.pdf") in meta
    assert f'<link rel="canonical" href="{site.base}/records/{PAPER.id}">' in r.text
    # A record with no full text names no PDF.
    assert "citation_pdf_url" not in dict(_meta(httpx.get(f"{site.base}/records/{CORPUS[0].id}").text))


def test_a_record_merged_away_redirects_to_its_work(site: Live) -> None:
    r = httpx.get(f"{site.base}/records/{ABSORBED}?lang=ky")
    assert r.status_code == 301
    assert r.headers["location"] == f"/records/{PAPER.id}?lang=ky"
    assert httpx.get(f"{site.base}/records/{ABSORBED}", follow_redirects=True).url.path == f"/records/{PAPER.id}"
    # An id that never existed is still 404.
    assert httpx.get(f"{site.base}/records/{make_record_id('nlkr', 'never')}").status_code == 404
