"""The site in a real browser: search, suggestions, facets, paging, languages, record page,
exports, the same without JavaScript, and an axe-core scan of every page visited."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.sync_playwright import Axe

from tests.corpus import rid

pytestmark = pytest.mark.browser

_axe = Axe()


def assert_accessible(page) -> None:
    """axe-core (WCAG 2.1 A/AA rules): no serious or critical violation."""
    results = _axe.run(
        page,
        options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}},
    )
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{page.url}: {bad}"


def test_search_with_suggestions(page):
    page.goto("/")
    assert_accessible(page)
    box = page.get_by_role("combobox", name="Search publications, theses, patents")
    box.press_sequentially("ekolog", delay=30)
    options = page.get_by_role("option")
    options.first.wait_for()
    assert "Экология озера Иссык-Куль" in options.all_inner_texts()
    assert box.get_attribute("aria-expanded") == "true"
    assert_accessible(page)  # with the listbox open
    box.press("Escape")
    assert box.get_attribute("aria-expanded") == "false"
    box.fill("экология")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("h1").inner_text() == "4 results"
    # Kyrgyz "экологиясы" is a match too since issue 13 (the Kyrgyz reading of the word), and may rank first.
    assert "Экология" in page.locator(".hit-title mark").all_inner_texts()
    # The untrusted title shows as text, and ran nothing.
    assert "<script>alert(1)</script> Экология" in page.locator(".hit-title").all_inner_texts()
    assert_accessible(page)


def test_a_facet_click_filters_at_once(page):
    page.goto("/search?q=экология")
    page.get_by_role("checkbox", name=re.compile(r"^Free to read")).check()
    page.wait_for_url(re.compile(r"access=free"))
    assert page.locator("h1").inner_text() == "1 result"
    assert page.get_by_role("link", name=re.compile("Remove filter Access: Free to read")).count() == 1
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("Remove filter Access: Free to read")).click()
    page.wait_for_url(lambda url: "access=" not in url)
    assert page.locator("h1").inner_text() == "4 results"


def test_more_facet_values_expand_in_place(page):
    page.goto("/search")
    subjects = page.locator("#facet-subject input[type=checkbox]")
    assert subjects.count() == 8
    url = page.url
    page.locator('a.more[data-facet="subject"]').click()
    subjects.nth(8).wait_for()  # (wait_for_function would need 'unsafe-eval' under our CSP)
    assert page.url == url  # no navigation: the list grew in place
    assert page.evaluate("document.activeElement.name") == "subject"  # focus moved to the first new value


def test_paging_and_sort(page):
    page.goto("/search")
    page.get_by_label("Sort by").select_option("title")
    page.wait_for_url(re.compile(r"sort=title"))
    first = page.locator(".hit-title").first.inner_text()
    page.get_by_role("navigation", name="Pages").get_by_role("link", name="Next").click()
    page.wait_for_url(re.compile(r"page=2"))
    assert page.locator("ol.hits").get_attribute("start") == "21"
    assert page.locator(".hit-title").first.inner_text() != first
    assert page.locator('.pager a[aria-current="page"]').inner_text().endswith("2")
    assert_accessible(page)


def test_language_switch_is_kept(page):
    page.goto("/search?q=climate")
    page.get_by_role("navigation", name="Interface language").get_by_role("link", name="Кыргызча").click()
    page.wait_for_url(re.compile(r"lang=ky"))
    assert page.locator("html").get_attribute("lang") == "ky"
    assert page.locator("h1").inner_text() == "2 натыйжа"
    assert_accessible(page)
    page.goto("/")  # no ?lang=: the cookie remembers
    assert page.locator("html").get_attribute("lang") == "ky"
    page.get_by_role("link", name="Русский").click()
    page.wait_for_url(re.compile(r"lang=ru"))
    assert page.get_by_role("button", name="Найти").count() == 1


def test_record_page_and_export_download(page):
    page.goto("/search?q=climate")
    page.get_by_role("link", name="Climate change in Central Asia").click()
    page.wait_for_url(re.compile(rf"/records/{rid('oai:auca:10')}"))
    assert page.locator("h1").inner_text() == "Climate change in Central Asia"
    assert page.locator("h1").get_attribute("lang") == "en"
    assert "Smith, J., & Aitmatova, A. (2021)." in page.locator(".cite").inner_text()
    assert_accessible(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="BibTeX").click()
    download = info.value
    assert download.suggested_filename == f"{rid('oai:auca:10')}.bib"
    text = open(download.path(), encoding="utf-8").read()
    assert text.startswith("@article{smith2021climate,") and "doi = {10.1234/ca.2021.7}" in text


def test_record_page_of_untrusted_metadata(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/records/{rid('oai:knu:xss')}")
    assert page.locator("h1").inner_text() == "<script>alert(1)</script> Экология"
    assert dialogs == []
    assert_accessible(page)


def test_no_results_help_and_error_pages(page):
    page.goto("/search?q=%27rjkjubz")
    assert page.get_by_role("link", name="экология").count() == 1
    assert_accessible(page)
    page.goto("/records/knu-0000000000000000")
    assert page.locator("h1").inner_text() == "Page not found"
    assert_accessible(page)
    page.goto("/api/v1/docs")
    assert_accessible(page)


def test_the_site_works_without_javascript(nojs_page):
    page = nojs_page
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "ru"  # from the browser's Accept-Language
    page.get_by_role("searchbox").fill("экология")
    page.get_by_role("button", name="Найти").click()
    page.wait_for_url(re.compile(r"/search\?q="))
    assert page.locator("h1").inner_text() == "4 результата"
    # Facets: tick, then apply with the button.
    page.get_by_role("checkbox", name=re.compile(r"^Открытый доступ")).check()
    page.get_by_role("button", name="Применить фильтры").click()
    page.wait_for_url(re.compile(r"access=open"))
    assert page.locator("h1").inner_text() == "2 результата"
    # Sort with its button; "more" is a plain link.
    page.goto("/search")
    page.get_by_label("Сортировка").select_option("newest")
    page.get_by_role("button", name="Применить", exact=True).click()
    page.wait_for_url(re.compile(r"sort=newest"))
    page.locator('a.more[data-facet="subject"]').click()
    page.wait_for_url(re.compile(r"facet_size=100"))
    assert page.locator("#facet-subject input").count() > 8
    page.get_by_role("link", name="Следующая").click()
    page.wait_for_url(re.compile(r"page=2"))
    page.locator(".hit-title a").first.click()
    page.wait_for_url(re.compile(r"/records/"))
    assert page.locator(".cite").count() == 1
