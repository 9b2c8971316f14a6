"""The server-rendered pages (what a browser without JavaScript gets), on both engines."""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

from tests.conftest import ROOT
from tests.corpus import rid

TEMPLATES = ROOT / "web_ui" / "templates"


def page(client, url, status=200, **headers):
    client.cookies.clear()  # the language cookie of an earlier request must not leak into this one
    r = client.get(url, headers=headers)
    assert r.status_code == status, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    return r.text


def test_results_show_highlighted_titles_type_year_source_and_badge(client):
    html = page(client, "/search?q=экология&lang=en")
    assert '<h1 id="count" class="count">4 results</h1>' in html
    assert f'href="/records/{rid("oai:knu:1")}?lang=en" lang="ru"><mark>Экология</mark> озера Иссык-Куль</a>' in html
    assert "KNU repository" in html  # the source's display name in the UI language
    assert 'class="badge badge-open"' in html


def test_harvested_markup_is_shown_as_text_everywhere(client):
    for url in ("/search?q=экология", f"/records/{rid('oai:knu:xss')}", "/search?q=script"):
        html = page(client, url)
        assert "<script>alert(1)" not in html and "<mark>script</mark>>" not in html
        assert "alert(1)&lt;/" in html


def test_only_highlighter_fragments_are_marked_safe_in_templates():
    uses = [
        (p.name, m) for p in TEMPLATES.glob("*.html") for m in re.findall(r"\{\{[^}]*\|\s*safe[^}]*\}\}", p.read_text())
    ]
    assert uses == [
        ("search.html", "{{ hit.title_html|safe }}"),
        ("search.html", "{{ alt_titles[0]|safe }}"),
        ("search.html", '{{ hit.highlights["authors"][:3]|join("; ")|safe }}'),
    ]


def test_facets_are_checkboxes_with_counts_and_or_within_a_facet(client):
    html = page(client, "/search?type=book&type=patent&lang=en")
    assert re.search(r'<input type="checkbox" id="f-type-\d+" name="type" value="book" checked', html)
    assert re.search(r'<input type="checkbox" id="f-type-\d+" name="type" value="article"(?! checked)', html)
    assert '<h1 id="count" class="count">7 results</h1>' in html  # 5 books + 2 patents
    # Each active filter has a link that removes just it.
    removes = re.findall(r'<li><a href="([^"]+)"><span class="vh">Remove filter </span>Type: (\w+)', html)
    assert {label for _, label in removes} == {"Book", "Patent"}
    href = dict((label, h) for h, label in removes)["Book"].replace("&amp;", "&")
    assert parse_qs(urlparse(href).query) == {"type": ["patent"], "lang": ["en"]}


def test_more_facet_values_without_javascript(client):
    html = page(client, "/search?lang=en")
    more = re.search(r'<a class="more" href="([^"]+)" data-facet="subject">', html)
    assert more, "the subject facet has more than 8 values in the corpus"
    shown = len(re.findall(r'name="subject"', html))
    assert shown == 8
    expanded = page(client, more.group(1).replace("&amp;", "&"))
    assert len(re.findall(r'name="subject"', expanded)) > 8
    assert 'data-facet="subject"' not in expanded


def test_paging_links(client):
    html = page(client, "/search?sort=title&lang=en")
    assert re.search(r'<a rel="next" href="/search\?sort=title&amp;page=2&amp;lang=en">', html)
    page2 = page(client, "/search?sort=title&page=2&lang=en")
    assert '<ol class="hits" start="21">' in page2
    assert 'aria-current="page"><span class="vh">Page </span>2</a>' in page2


def test_nothing_found_offers_a_transliterated_or_relaxed_query(client):
    html = page(client, "/search?q=%27rjkjubz&lang=en")
    assert "Nothing was found for “&#39;rjkjubz”." in html
    assert re.search(r'Did you mean <a href="/search\?q=[^"]+">экология</a>\?', html)
    html = page(client, "/search?q=climate&type=patent&lang=ru")
    assert "Убрать фильтр «Тип: Патент»" in html


def test_language_from_accept_language_url_and_cookie(client):
    assert '<html lang="ky">' in page(client, "/", **{"Accept-Language": "ky-KG,ru;q=0.8"})
    assert '<html lang="ru">' in page(client, "/", **{"Accept-Language": "de, ru;q=0.5"})
    r = client.get("/search?q=climate&lang=en", headers={"Accept-Language": "ru"})
    assert '<html lang="en">' in r.text and "lang=en" in r.headers["set-cookie"]
    # The cookie keeps the choice for pages without ?lang=.
    client.cookies.clear()
    client.cookies.set("lang", "ky")
    html = client.get("/search?q=climate", headers={"Accept-Language": "en"}).text
    client.cookies.clear()
    assert '<html lang="ky">' in html and "натыйжа" in html
    # Content keeps its own language.
    assert '<h1 lang="ru">Экология озера Иссык-Куль</h1>' in page(client, f"/records/{rid('oai:knu:1')}?lang=en")


def test_every_language_has_a_complete_catalog(client):
    texts = {lang: page(client, f"/search?q=zzzqqq&lang={lang}") for lang in ("ky", "ru", "en")}
    assert "Издөө боюнча кеңештер" in texts["ky"]
    assert "Советы по поиску" in texts["ru"]
    assert "Search tips" in texts["en"]


def test_record_page_metadata_holdings_cite_and_machine_readable_data(client):
    record_id = rid("oai:auca:10")
    html = page(client, f"/records/{record_id}?lang=en")
    assert '<h1 lang="en">Climate change in Central Asia</h1>' in html
    assert '<meta name="citation_title" content="Climate change in Central Asia">' in html
    assert html.count('<meta name="citation_author"') == 2
    assert '<meta name="citation_doi" content="10.1234/ca.2021.7">' in html
    assert '<meta name="citation_publication_date" content="2021">' in html
    assert f'<link rel="canonical" href="http://testserver/records/{record_id}">' in html
    for href in (
        f"/api/v1/records/{record_id}.bib",
        f"/api/v1/records/{record_id}.ris",
        f"/api/v1/records/{record_id}.csl.json",
    ):
        assert f'href="{href}"' in html
    assert "Smith, J., &amp; Aitmatova, A. (2021). Climate change in Central Asia." in html  # APA
    assert "AUCA repository" in html  # the holding's source
    ld = json.loads(re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1))
    assert ld["@type"] == "ScholarlyArticle" and ld["name"] == "Climate change in Central Asia"
    assert ld["sameAs"] == ["https://doi.org/10.1234/ca.2021.7"]


def test_json_ld_cannot_close_its_script_element(client):
    html = page(client, f"/records/{rid('oai:knu:xss')}")
    block = re.search(r'<script type="application/ld\+json">(.*?)</script>', html, re.S).group(1)
    assert "<" not in block
    assert json.loads(block)["name"] == "<script>alert(1)</script> Экология"
    assert '<meta name="citation_title" content="&lt;script&gt;alert(1)&lt;/script&gt; Экология">' in html


def test_unknown_record_and_bad_parameters_get_friendly_pages(client):
    html = page(client, "/records/knu-0000000000000000?lang=en", status=404)
    assert "Page not found" in html and "Traceback" not in html
    html = page(client, "/search?q=x&year_from=abc&lang=en")  # mended: tests/web_ui/test_search_page_repairs.py
    assert "A value for “Years” in this address can&#39;t be used, so it was left out." in html
    assert 'id="q"' in html  # the search box is still there


def test_pages_link_opensearch_feed_and_assets_without_third_parties(client):
    html = page(client, "/search?q=climate")
    assert '<link rel="search" type="application/opensearchdescription+xml"' in html
    assert 'type="application/atom+xml"' in html
    assert not re.search(r'(src|href)="(https?:)?//(?!testserver)', html.split("<main")[0])  # head: nothing external
    r = client.get("/search?q=climate")
    assert "script-src 'self'" in r.headers["content-security-policy"]


def test_static_files_have_long_cache_and_etags(client):
    html = page(client, "/")
    css = re.search(r'href="(/static/app\.css\?v=\w+)"', html).group(1)
    r = client.get(css)
    assert r.status_code == 200 and r.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert client.get(css, headers={"If-None-Match": r.headers["etag"]}).status_code == 304
    assert client.get("/static/app.css?v=old").headers["cache-control"] == "public, max-age=3600"
    assert client.get("/static/../routes.py").status_code == 404


def test_catalogs_translate_every_message_of_the_templates_and_code():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    web_ui = TEMPLATES.parent
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    options = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None, "gettext_": None}
    wanted = {
        msg[2] if isinstance(msg[2], str) else msg[2][0]
        for msg in extract_from_dir(str(web_ui), method_map, options, keywords=keywords)
    }
    assert len(wanted) > 80
    for lang in ("ky", "ru"):
        with open(web_ui / "locale" / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
            catalog = read_po(f, locale=lang)
        translated = {
            m.id if isinstance(m.id, str) else m.id[0]
            for m in catalog
            if m.id and not m.fuzzy and all(m.string if isinstance(m.string, tuple) else (m.string,))
        }
        assert wanted - translated == set(), f"{lang}: untranslated {sorted(wanted - translated)}"


def test_api_docs_markdown_is_escaped_and_structured():
    from web_ui.api_docs import markdown_blocks

    html = str(markdown_blocks("Intro `<b>` line\nwraps.\n\n* one `a`\n  wrapped\n* <script>two</script>\n"))
    assert html == (
        "<p>Intro <code>&lt;b&gt;</code> line wraps.</p>"
        "<ul><li>one <code>a</code> wrapped</li><li>&lt;script&gt;two&lt;/script&gt;</li></ul>"
    )


def test_most_words_and_did_you_mean_are_said(client):
    k = client.get("/api/v1/search", params={"q": "экология озера марсианского"}).json()["relaxed"]["required"]
    html = page(client, "/search?q=экология+озера+марсианского&lang=en")
    assert f"No record holds every word of your query; these hold {k} of the 3 words." in html
    html = page(client, "/search?q=экология+озера+марсианского&lang=ky")
    assert f"бул жазууларда 3 сөздүн {k} бар" in html
    relaxed = client.get("/api/v1/search", params={"q": "экология озера"}).json()["relaxed"]
    if relaxed:  # few records hold both words: the page says how many, and what follows them
        html = page(client, "/search?q=экология+озера&lang=ru")
        assert f"Записей со всеми словами запроса: {relaxed['all_words']}; за ними" in html
    html = page(client, "/search?q=экалогия&lang=ru")
    assert "По словам в написанном виде ничего не найдено" in html and "<b>экология</b>" in html


def test_hits_found_through_a_parallel_title_or_an_author_show_the_match(client):
    html = page(client, "/search?q=Водные+ресурсы+Кыргызстана&lang=en")
    assert '<p class="meta alt-title"><mark>Водные</mark> <mark>ресурсы</mark> <mark>Кыргызстана</mark></p>' in html
    html = page(client, "/search?q=Petrov&lang=en")
    assert '<span class="hit-authors"><mark>Petrov</mark>, Ivan</span>' in html
