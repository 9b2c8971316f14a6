"""What a newcomer hit on the pages (issue 14), in chromium: record-page labels and dissertation details in
ky/ru/en, Kyrgyz names in citations, one heading and one link per source, the phone "Filters" link, mended
searches. A server of its own, over a few records made for these cases."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from fedsearch.engines.embedded import EmbeddedEngine
from fedsearch.record import (
    Classification,
    Dissertation,
    Holding,
    LangText,
    Link,
    Person,
    Record,
    RecordType,
    make_record_id,
)
from fedsearch_app.app import create_app
from tests.browser.test_site import assert_accessible
from tests.search_api.conftest import free_port, make_settings

pytestmark = pytest.mark.browser

DISS_ID = make_record_id("vak", "reg:17")
LANDING = "https://vak.example.kg/reg/17"
BOOK_ID = make_record_id("nlkr", "b1")


def _records() -> list[Record]:
    link = Link(url=LANDING, kind="landing")
    pdf = Link(url="https://vak.example.kg/reg/17.pdf", kind="fulltext", mime="application/pdf")
    holding = dict(source="vak", source_url=LANDING, links=[link, pdf])
    diss = Record(
        id=DISS_ID,
        source="vak",
        source_record_id="reg:17",
        type=RecordType.dissertation,
        title=[LangText(value="Суу ресурстарын башкаруунун моделдери", lang="ky")],
        authors=[Person(name="Канат Шаршен уулу", family="Канат", given="Шаршен уулу")],
        contributors=[Person(name="Гүлзат Темир кызы", family="Гүлзат", given="Темир кызы", role="supervisor")],
        classifications=[Classification(scheme="vak", code="05.13.01")],
        year=2024,
        date="2024",
        languages=["ky"],
        institution="КМТУ",
        source_url=LANDING,
        links=[link, pdf],
        dissertation=Dissertation(
            degree="кандидат технических наук", specialty="05.13.01", council="Д 05.23.677", defence_date="2024-08-27"
        ),
        # The register lists the work twice (two registration numbers): one source, one heading.
        holdings=[
            Holding(source_record_id="reg:17", record_id=DISS_ID, **holding),
            Holding(source_record_id="reg:17b", record_id=make_record_id("vak", "reg:17b"), **holding),
        ],
    )
    others = [
        Record(
            id=make_record_id("knu", f"oai:{i}"),
            source="knu",
            source_record_id=f"oai:{i}",
            type=RecordType.article,
            title=[LangText(value=f"Тоо экологиясы {i}", lang="ky" if i % 2 else "ru")],
            year=2000 + i,
            languages=["ky" if i % 2 else "ru"],
        )
        for i in range(1, 25)
    ]
    book = Record(
        id=BOOK_ID,
        source="nlkr",
        source_record_id="b1",
        type=RecordType.book,
        title=[LangText(value="Monitoring of anti-corruption policy : a textbook", lang="en")],
        title_alt=[
            LangText(value="Monitoring of anti - corruption policy : a textbook", lang="en"),
            LangText(value="Мониторинг антикоррупционной политики", lang="ru"),
        ],
        year=2019,
        languages=["en"],
        holdings=[
            Holding(source="nlkr", source_record_id="b1", record_id=BOOK_ID),  # held by two sources
            Holding(source="knu", source_record_id="oai:b1", record_id=make_record_id("knu", "oai:b1")),
        ],
    )
    return [diss, book, *others]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("newcomer")
    engine = EmbeddedEngine(data_dir / "index", writer=True)
    engine.ensure_index()
    assert engine.upsert(_records()).errors == []
    engine.refresh()
    app = create_app(make_settings("embedded", data_dir), engine=engine)
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail(f"the app did not start on {base}")
        time.sleep(0.05)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    yield base
    srv.should_exit = True
    thread.join(timeout=10)
    engine.close()


@pytest.fixture
def open_page(browser, server):
    contexts = []

    def make(**options):
        context = browser.new_context(base_url=server, **options)
        contexts.append(context)
        pg = context.new_page()
        pg.set_default_timeout(10_000)
        return pg

    yield make
    for c in contexts:
        c.close()


def _details(pg) -> dict[str, str]:
    terms = pg.locator(".details dt").all_inner_texts()
    values = pg.locator(".details dd").all_inner_texts()
    return dict(zip(terms, values))


@pytest.mark.parametrize(
    "lang, expect",
    [
        (
            "ru",
            {
                "Дата защиты": "27 августа 2024\u202fг.",
                "Учёная степень": "кандидат технических наук",
                "Специальность": "05.13.01",
                "Диссертационный совет": "Д 05.23.677",
                "Участники": "Гүлзат Темир кызы (научный руководитель)",
                "Классификация": "Шифр специальности ВАК 05.13.01",
                "Язык": "Кыргызский",
            },
        ),
        (
            "ky",
            {
                "Корголгон күнү": "2024-ж., 27-август",
                "Илимий даража": "кандидат технических наук",
                "Диссертациялык кеңеш": "Д 05.23.677",
                "Классификация": "ЖАК адистигинин шифри 05.13.01",
            },
        ),
        (
            "en",
            {
                "Defended": "August 27, 2024",
                "Degree": "кандидат технических наук",
                "Contributors": "Гүлзат Темир кызы (scientific supervisor)",
                "Classification": "VAK specialty code 05.13.01",
            },
        ),
    ],
)
def test_record_page_labels_and_dissertation_details_in_each_language(open_page, lang, expect):
    pg = open_page(locale="en-US")
    pg.goto(f"/records/{DISS_ID}?lang={lang}")
    details = _details(pg)
    for term, value in expect.items():
        assert details.get(term) == value, (term, details)
    text = pg.locator("main").inner_text()
    for raw in ("(supervisor)", "VAK 05", "Published", "Киргизский"):
        assert raw not in text, raw
    assert_accessible(pg)


def test_citations_keep_kyrgyz_names_whole_and_cite_the_degree(open_page):
    pg = open_page(locale="ru-RU")
    pg.goto(f"/records/{DISS_ID}?lang=ru")
    captions = pg.locator(".cite figcaption").all_inner_texts()
    assert captions == ["ГОСТ Р 7.0.100", "Стиль APA"]
    gost, apa = pg.locator(".cite .ref").all_inner_texts()
    assert gost.startswith(
        "Канат Шаршен уулу Суу ресурстарын башкаруунун моделдери : специальность 05.13.01 : "
        "диссертация на соискание ученой степени кандидата технических наук / Канат Шаршен уулу ; КМТУ"
    )
    assert apa.startswith("Канат Шаршен уулу (2024).")
    for text in (gost, apa):
        assert "Ш. у." not in text and "канд. наук" not in text


def test_one_heading_and_each_link_once_per_source(open_page):
    pg = open_page(locale="ru-RU")
    pg.goto(f"/records/{DISS_ID}?lang=ru")
    holdings = pg.locator(".holdings > li")
    assert holdings.count() == 1
    assert holdings.locator("strong").all_inner_texts() == ["vak"]
    links = holdings.locator("a")
    assert links.all_inner_texts() == ["Запись в источнике", "Полный текст (PDF)"]
    assert [links.nth(i).get_attribute("href") for i in range(2)] == [LANDING, "https://vak.example.kg/reg/17.pdf"]


def test_the_language_facet_says_kyrgyz_as_the_state_does(open_page):
    pg = open_page(locale="ru-RU")
    pg.goto("/search?q=экологиясы&lang=ru")
    labels = pg.locator("#facet-language label").all_inner_texts()
    assert any(label.startswith("Кыргызский") for label in labels), labels
    assert not any("Киргиз" in label for label in labels)


@pytest.mark.parametrize("js", [True, False])
def test_phones_reach_the_filters_from_the_top(open_page, js):
    pg = open_page(locale="ru-RU", viewport={"width": 375, "height": 740}, java_script_enabled=js)
    pg.goto("/search?q=экологиясы&language=ky&lang=ru")
    link = pg.get_by_role("link", name="Фильтры (1)")
    first_hit = pg.locator(".hit").first
    assert link.is_visible()
    assert link.bounding_box()["y"] < first_hit.bounding_box()["y"] < pg.locator("#refine").bounding_box()["y"]
    link.click()
    pg.wait_for_url(re.compile(r"#refine$"))
    assert pg.locator("#refine-h").is_visible()
    assert pg.evaluate("document.getElementById('refine-h').getBoundingClientRect().top") < 740  # scrolled to it
    if js:  # axe runs as a script
        assert_accessible(pg)
    wide = open_page(locale="ru-RU", viewport={"width": 1280, "height": 900}, java_script_enabled=js)
    wide.goto("/search?q=экологиясы&lang=ru")
    assert not wide.locator(".filters-link").is_visible()  # beside the results already


def test_mended_searches_keep_their_filters(open_page):
    pg = open_page(locale="ru-RU", java_script_enabled=False)
    pg.goto("/search?q=экологиясы&language=ky&year_from=2020&year_to=2010&lang=ru")
    assert "поменяли их местами: 2010–2020" in pg.locator(".note").first.inner_text()
    assert pg.locator("#year_from").input_value() == "2010" and pg.locator("#year_to").input_value() == "2020"
    assert pg.get_by_role("checkbox", name=re.compile("^Кыргызский")).is_checked()
    years = [int(y) for y in re.findall(r"\b(20\d\d)\b", " ".join(pg.locator(".hit .meta").all_inner_texts()))]
    assert years and all(2010 <= y <= 2020 for y in years)
    pg.goto("/search?q=экологиясы&page=999&lang=ru")
    assert pg.locator(".note").all_inner_texts() == ["Страницы 999 нет; показана последняя, 2-я."]
    assert pg.locator(".hit").count() > 0 and "next_cursor" not in pg.content()
    pg.goto("/search?q=%28%28%28&lang=ru")
    assert pg.locator("#no-words-h").inner_text() == "Нет слов для поиска"
    years = [int(y) for y in re.findall(r"\b(20\d\d)\b", " ".join(pg.locator(".hit .meta").all_inner_texts()))]
    assert years[:3] == [2024, 2024, 2023] or years == sorted(years, reverse=True)


def test_other_titles_are_labelled_and_spelling_variants_left_out(open_page):
    pg = open_page(locale="ru-RU")
    pg.goto(f"/records/{BOOK_ID}?lang=ru")
    assert pg.locator("h1").inner_text() == "Monitoring of anti-corruption policy : a textbook"
    assert pg.locator(".alt-title").all_inner_texts() == ["Заглавие (Русский): Мониторинг антикоррупционной политики"]
    assert "anti - corruption" not in pg.locator("main").inner_text()


def test_the_api_docs_render_their_markdown(open_page):
    pg = open_page(locale="en-US")
    pg.goto("/api/v1/docs")
    intro = pg.locator(".prose")
    items = intro.locator("ul > li")
    assert items.count() >= 4 and items.first.inner_text().startswith("Free to use, no key.")
    assert intro.locator("code", has_text="detail").count() == 1
    text = pg.locator("main").inner_text()
    assert "`" not in text and "\n* " not in text and "* Free" not in text
    assert_accessible(pg)


@pytest.mark.parametrize(
    "lang, says",
    [
        ("en", "counts each work once: 26 works in all."),
        ("ru", "поиск считает каждую работу один раз: всего 26 работ."),
        ("ky", "издөө ар бир эмгекти бир жолу эсептейт: бардыгы 26 эмгек."),
    ],
)
def test_the_home_page_says_what_its_numbers_count(open_page, lang, says):
    pg = open_page(locale="en-US")
    pg.goto(f"/?lang={lang}")
    assert "27" in pg.locator("#sources-h").inner_text()  # records: the book counts once per source
    assert says in pg.locator("#counts-explained").inner_text()
    pg.goto(f"/search?lang={lang}")
    assert pg.locator("#count").inner_text().startswith("26")
