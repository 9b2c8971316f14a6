"""A librarian's afternoon in a real browser: log in, add a partner, test it, save, harvest, fix errors.

Chromium (Debian's) drives the whole app under uvicorn against pyoai's OAI-PMH
server; every admin page visited is scanned with axe-core.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import _new_page
from tests.browser.test_site import assert_accessible
from tests.fedsearch_app.admin.conftest import PASSWORD, SCRIPT_TITLE

pytestmark = pytest.mark.browser


@pytest.fixture
def page(browser, admin_server):
    base, _ = admin_server
    context, pg = _new_page(browser, base, locale="en-US")
    dialogs: list[str] = []
    pg.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    yield pg
    context.close()
    assert dialogs == [], f"harvested metadata ran as script: {dialogs}"


def log_in(page) -> None:
    page.goto("/admin")
    page.wait_for_url(re.compile(r"/admin/login\?next="))
    assert_accessible(page)
    page.get_by_label("Username").fill("boss")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/admin$"))


def test_add_test_save_harvest_and_open_a_quarantined_record(page, session_partner):
    log_in(page)
    assert page.locator("h1").inner_text() == "Sources"
    assert_accessible(page)

    # Add an OAI-PMH source: choose the connector, then its generated form.
    page.get_by_role("link", name="Add a source").click()
    assert_accessible(page)
    page.get_by_label("oai-pmh").check()
    page.get_by_role("button", name="Continue").click()
    page.get_by_label("Identifier").fill("kg-repo")
    page.get_by_label("Name in English").fill("Kyrgyz test repository")
    page.get_by_label("Schedule").fill("12h")
    page.get_by_label("Repository address (OAI-PMH)").fill(session_partner.url)
    assert page.get_by_text("The repository's OAI-PMH address, e.g.").count() == 1  # help written for librarians
    assert_accessible(page)

    # Test the connection with the unsaved settings: raw beside normalized, the <script> title as text.
    page.get_by_role("button", name="Test the connection").click()
    preview = page.locator("#preview")
    preview.wait_for()
    assert preview.locator("article.sample").count() == 5
    first = preview.locator("article.sample").first
    assert "oai:test:1" in first.locator("h3").inner_text()
    assert SCRIPT_TITLE in first.locator("dl.mapped").inner_text()
    # The raw XML escapes it once; shown escaped again, the browser displays the XML as it came.
    assert (
        "<dc:title>&lt;script&gt;alert('title')&lt;/script&gt; Манас эпосу</dc:title>"
        in first.locator("pre.raw").inner_text()
    )
    assert "Aitmatov, Chingiz" in first.locator("dl.mapped").inner_text()
    assert_accessible(page)

    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r"/admin/sources/kg-repo\?done=saved"))
    assert page.get_by_role("status").inner_text() == "The source was saved."
    assert_accessible(page)

    # Harvest, and watch it finish (the page polls, then reloads).
    page.get_by_role("button", name="Full harvest").click()  # the first harvest can only be full
    page.wait_for_url(re.compile(r"done=started-full"))
    page.get_by_text("Last harvest started here: Finished").wait_for(timeout=30_000)
    assert page.locator('[data-field="records"]').inner_text() == "12"
    assert page.locator('[data-field="quarantined"]').inner_text() == "1"
    runs = page.get_by_role("table", name=re.compile("The last 1 runs"))
    assert "Finished" in runs.inner_text()
    assert page.locator("svg.chart").count() == 1
    assert_accessible(page)

    # The sources list shows the counts.
    page.get_by_role("link", name="Sources", exact=True).first.click()
    row = page.get_by_role("row", name=re.compile("Kyrgyz test repository"))
    assert "12 live" in row.inner_text() and "1 quarantined" in row.inner_text()
    assert "Enabled" in row.inner_text()
    page.goto("/admin/sources/kg-repo/delete")
    assert "Delete the source and its 11 records" in page.get_by_role("button").last.inner_text()
    assert_accessible(page)
    page.goto("/admin/sources/kg-repo/edit?lang=ru")
    assert page.get_by_label("Расписание").input_value() == "12h"
    assert_accessible(page)
    page.goto("/admin?lang=en")
    row = page.get_by_role("row", name=re.compile("Kyrgyz test repository"))

    # Open the quarantined record: why, and what the partner sent (escaped, in <pre>).
    row.get_by_role("link", name="1 quarantined").click()
    assert_accessible(page)
    page.get_by_role("link", name="oai:test:12").click()
    assert page.get_by_text("The record has no title.").count() == 1
    raw = page.locator("pre.raw").inner_text()
    assert "<dc:description>&lt;script&gt;alert('raw')&lt;/script&gt;</dc:description>" in raw
    assert "Автор белгисиз" in raw
    assert_accessible(page)


def test_inline_errors_and_the_other_admin_pages_are_accessible(page):
    log_in(page)
    page.goto("/admin/add-source?connector=tabular")
    page.get_by_label("Identifier").fill("Bad Id!")
    page.get_by_label("Schedule").fill("every tuesday")
    page.get_by_label("Columns and what they hold").fill("title = Тема\nthis line has no equals sign")
    page.get_by_role("button", name="Save").click()
    summary = page.locator("#error-summary")
    summary.wait_for()
    assert page.evaluate("document.activeElement.id") == "error-summary"
    identifier = page.get_by_label("Identifier")
    assert identifier.get_attribute("aria-invalid") == "true"
    assert "Use lowercase Latin letters" in page.locator("#f-id-error").inner_text()
    assert "Line 2: write key = value." in page.locator("#f-opt-mapping-error").inner_text()
    assert page.locator("#f-schedule-error").count() == 1
    assert page.locator("#f-opt-path-error").inner_text() == "Required."
    assert_accessible(page)
    for path in ("/admin/users", "/admin/audit", "/admin/account", "/admin/import"):
        page.goto(path)
        assert_accessible(page)
    # Usable on a phone: nothing wider than the screen.
    page.set_viewport_size({"width": 360, "height": 740})
    for path in ("/admin", "/admin/add-source?connector=oai-pmh", "/admin/users"):
        page.goto(path)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), path
    page.goto("/admin?lang=ky")
    assert page.locator("h1").inner_text() == "Булактар"
    assert_accessible(page)
