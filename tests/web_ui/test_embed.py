"""The embeddable search: the snippet /embed makes, the frame's headers (framable, strict CSP
with hashes, no third-party URL), its options and its size; then, in chromium, the snippet
pasted into a page of another origin under that page's own strict CSP: searching, paging,
the frame sizing itself, and a record opening in a new tab."""

from __future__ import annotations

import gzip
import html
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.search_api.conftest import Live, free_port

EMBED_LIMIT = 15 * 1024  # bytes, compressed (issue 16)


def snippet(live: Live, **options: str) -> str:
    r = httpx.get(f"{live.base}/embed", params=options)
    assert r.status_code == 200
    return html.unescape(re.search(r"<textarea[^>]*>(.*?)</textarea>", r.text, re.DOTALL).group(1))


def frame_src(code: str) -> str:
    return html.unescape(re.search(r'<iframe data-fedsearch src="([^"]+)"', code).group(1))


def test_the_snippet_carries_the_options(live: Live) -> None:
    code = snippet(live, source="auca", type="article", subject="climate", lang="ky", accent="#ff0000", bg="zzz")
    src = frame_src(code)
    assert src.startswith(f"{live.base}/embed/frame?")
    assert "source=auca" in src and "type=article" in src and "lang=ky" in src and "accent=ff0000" in src
    assert "bg=" not in src  # not a colour: dropped, the default stays
    assert f'<script src="{live.base}/embed/resize.js" async></script>' in code
    assert "style=" not in code  # a partner CSP without 'unsafe-inline' would refuse a style attribute
    assert "<script" not in snippet(live, script="0")
    # An unknown source is dropped rather than showing nothing.
    assert "source=" not in frame_src(snippet(live, source="nonexistent"))


def test_the_frame_is_framable_self_contained_and_small(live: Live) -> None:
    r = httpx.get(
        f"{live.base}/embed/frame", params={"q": "сборник", "lang": "ru"}, headers={"Accept-Encoding": "gzip"}
    )
    assert r.status_code == 200
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors http: https:" in csp and "default-src 'none'" in csp
    assert "unsafe-inline" not in csp and re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", csp)
    assert "x-frame-options" not in r.headers
    body = r.text
    assert body.count("<li>") == 10
    # Every URL in the page is ours: no third-party request can happen.
    for url in re.findall(r'(?:src|href|action)="([^"]+)"', body):
        assert url.startswith(("/", live.base)), url
    compressed = len(gzip.compress(r.content))
    assert compressed <= EMBED_LIMIT, f"the frame is {compressed} bytes compressed"
    # The rest of the site stays unframable by others.
    assert "frame-ancestors 'self'" in httpx.get(f"{live.base}/search?q=x").headers["content-security-policy"]


def test_the_frame_keeps_to_its_source_and_type(live: Live) -> None:
    def total(**params: str) -> str:
        text = httpx.get(f"{live.base}/embed/frame", params={"lang": "en", **params}).text
        m = re.search(r'role="status">([^<]+)<', text)
        return m.group(1) if m else ""

    assert total(q="climate") == "2 results"
    assert total(q="climate", source="auca") == "2 results"
    assert total(q="climate", source="knu") == "Nothing was found."
    assert total(q="экология", type="book") == "Nothing was found."
    assert total(source="nlkr") == "5 results"  # a limited frame lists its records before any query


# --- in chromium, from another origin ------------------------------------------------------


@pytest.fixture
def partner_page(live: Live) -> Iterator[str]:
    """A partner's page on another origin (other host name and port) with the snippet pasted in,
    under its own strict CSP: only our frame and our script are allowed."""
    code = snippet(live, lang="en", accent="#aa0000")
    app_origin = live.base
    page = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; frame-src {app_origin}; "
        f'script-src {app_origin}"><title>Partner journal</title></head>'
        f"<body><h1>Partner journal</h1>{code}</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}/"  # localhost vs 127.0.0.1: another site, too
    server.shutdown()
    thread.join(timeout=10)


@pytest.mark.browser
def test_search_page_and_open_a_record_from_a_partner_page(browser, live: Live, partner_page: str) -> None:
    context = browser.new_context(locale="en-US")
    problems: list[str] = []
    requests: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: requests.append(r.url))
        page.goto(partner_page)
        frame_el = page.locator("iframe[data-fedsearch]")
        frame = page.frame_locator("iframe[data-fedsearch]")
        frame.locator("#q").fill("сборник")
        frame.locator("button[type=submit]").click()
        frame.locator("text=20 results").wait_for()
        assert frame.locator("ol > li").count() == 10
        first_page = frame.locator("ol > li a").first.inner_text()
        frame.locator("a[rel=next]").click()
        frame.locator("ol[start='11']").wait_for()
        assert frame.locator("ol > li").count() == 10
        assert frame.locator("ol > li a").first.inner_text() != first_page
        frame.locator("a[rel=prev]").click()
        frame.locator("ol[start='1']").wait_for()
        # The theme's accent colours the button.
        assert frame.locator("button").evaluate("b => getComputedStyle(b).backgroundColor") == "rgb(170, 0, 0)"
        # The resize script fitted the frame to its content (it starts at 480).
        page.wait_for_function("() => document.querySelector('iframe[data-fedsearch]').height !== '480'")
        assert 120 <= int(frame_el.get_attribute("height")) <= 5000
        # A record opens in a new tab, on our site.
        link = frame.locator("ol > li a").first
        title = re.sub(r"\s*\(opens in a new tab\)\s*$", "", link.text_content()).strip()
        with context.expect_page() as opened:
            link.click()
        record_page = opened.value
        record_page.wait_for_load_state()
        assert record_page.url.startswith(f"{live.base}/records/")
        assert record_page.locator("h1").inner_text().strip() == title
    finally:
        context.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    partner_origin = partner_page.rstrip("/")
    assert all(u.startswith((live.base, partner_origin)) for u in requests), requests


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/embed?lang=ky", "/embed/frame?q=сборник&lang=ru&page=2"])
def test_the_embed_pages_are_accessible(browser, live: Live, path: str) -> None:
    from tests.browser.test_site import assert_accessible

    context = browser.new_context(base_url=live.base)
    try:
        page = context.new_page()
        page.goto(path)
        assert_accessible(page)
    finally:
        context.close()
