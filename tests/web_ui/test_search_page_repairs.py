"""The search page mends a person's slips instead of showing developer text, in every UI language (issue 14)."""

from __future__ import annotations

import re

from tests.web_ui.test_web_ui import page


def _hit_years(html: str) -> list[int]:
    return [int(y) for y in re.findall(r'<span class="type">[^<]*</span>\s*<span>(\d{4})</span>', html)]


def test_years_the_wrong_way_round_are_swapped_and_the_filters_kept(client):
    html = page(client, "/search?q=экология&type=article&year_from=2020&year_to=2010&lang=ru")
    assert "поменяли их местами: 2010–2020" in html
    assert "swap them" not in html and "year_from" not in html.split("<main")[1].split('name="year_from"')[0]
    assert 'id="year_from" name="year_from" type="number" inputmode="numeric" min="0" max="9999" value="2010"' in html
    assert re.search(r'name="type" value="article" checked', html)  # the other filter stays
    assert _hit_years(html) and all(2010 <= y <= 2020 for y in _hit_years(html))
    ky = page(client, "/search?year_from=2020&year_to=2010&lang=ky")
    assert "алардын ордун алмаштырдык: 2010–2020" in ky
    en = page(client, "/search?year_from=2020&year_to=2010&lang=en")
    assert "so they were swapped: 2010–2020" in en


def test_a_page_past_the_end_shows_the_last_page_in_the_ui_language(client):
    last = page(client, "/search?sort=title&per_page=5&lang=en")
    n = max(int(x) for x in re.findall(r'<span class="vh">Page </span>(\d+)</a>', last))
    html = page(client, "/search?sort=title&per_page=5&page=999&lang=ru")
    assert f"Страницы 999 нет; показана последняя, {n}-я." in html
    assert "next_cursor" not in html and '<ol class="hits"' in html
    assert re.search(rf'<a href="[^"]*page={n}[^"]*" aria-current="page">', html)
    deep = page(client, "/search?page=999&lang=ky")  # past the paging window (page × 20 > 10 000)
    assert "next_cursor" not in deep and "-барак жок" in deep and '<ol class="hits"' in deep


def test_an_unusable_value_is_left_out_and_the_rest_of_the_search_kept(client):
    html = page(client, "/search?q=экология&type=article&year_from=abc&lang=ru")
    assert "Значение «Годы» в этом адресе нельзя использовать, поэтому оно не учтено." in html
    assert "whole number" not in html and re.search(r'name="type" value="article" checked', html)
    assert '<ol class="hits"' in html


def test_a_query_without_words_says_so_and_lists_the_newest_works(client):
    for q, lang, said in (
        ("", "en", "No search words"),
        ("(((%22", "ru", "Нет слов для поиска"),
        ("%28%28%28", "ky", "Издөө үчүн сөз жок"),
    ):
        html = page(client, f"/search?q={q}&lang={lang}")
        assert said in html, q
        years = _hit_years(html)
        assert len(years) > 3 and years == sorted(years, reverse=True), years
    html = page(client, "/search?q=%28%28%28&lang=en")
    assert "“(((” has no words to search for" in html
    words = page(client, "/search?q=экология&lang=en")
    assert "No search words" not in words


def test_an_empty_field_search_explains_field_searches(client):
    html = page(client, "/search?q=title%3A&lang=en")
    assert "“title:” searches one field" in html and "title:экология" in html
    assert "searches one field" not in page(client, "/search?q=title%3Aэкология&lang=en")
    assert "«автор:» бир талаа боюнча издейт" in page(client, "/search?q=автор%3A&lang=ky")


def test_phones_get_a_filters_link_above_the_results(client):
    html = page(client, "/search?q=экология&type=article&lang=ru")
    link = html.index('<a class="filters-link" href="#refine">Фильтры (1)</a>')
    assert link < html.index('<ol class="hits"') < html.index('<aside class="facets" id="refine"')
