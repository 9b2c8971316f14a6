"""The admin translates a stored run error or quarantine reason by its code, in the UI's language."""

from __future__ import annotations

import pytest

from connectors.base import Quarantine
from fedsearch_app.admin.plain import plain
from web_ui.i18n import current_lang, gettext_, set_lang

TOO_SLOW = (
    "The partner's server answered too slowly; it may be overloaded or down. Try again later, "
    "or raise the time limit for this source."
)
NO_IDENTIFIER = "The record has no identifier."


def in_lang(lang: str, message: str) -> str:
    before = current_lang()
    set_lang(lang)
    try:
        return gettext_(message)
    finally:
        set_lang(before)


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_a_stored_code_decides_the_words_whatever_the_text_says(lang):
    before = current_lang()
    set_lang(lang)
    try:
        by_code = plain("zzz: text no rule knows", "partner.http.timeout")
        unknown_code = plain("zzz: text no rule knows", "partner.something.new")
        old_row = plain("the record has no identifier", None)  # stored before codes: recognized by its words
    finally:
        set_lang(before)
    assert by_code.message == in_lang(lang, TOO_SLOW) and by_code.detail == "zzz: text no rule knows"
    assert unknown_code.message == "zzz: text no rule knows"  # shown as it is
    assert old_row.message == in_lang(lang, NO_IDENTIFIER)
    if lang != "en":
        assert by_code.message != TOO_SLOW  # really translated


def test_a_stored_status_code_takes_its_numbers_from_the_text():
    before = current_lang()
    set_lang("en")
    try:
        p = plain("the server answered 503 (Service Unavailable) for ListRecords", "partner.http.status")
        too_large = plain("the record is 4000 bytes, over the limit of 1024 (max_record_bytes)", "record.too_large")
    finally:
        set_lang(before)
    assert "503" in p.message and "internal problem" in p.message and "ListRecords" in p.message
    p = too_large
    assert "4000" in p.message and "1024" in p.message


@pytest.mark.parametrize("lang", ["ky", "ru", "en"])
def test_the_source_page_and_the_quarantine_show_the_codes_message(app, boss, lang):
    store = app.state.admin.store
    run = store.start_run("knu", mode="full", since=None)
    store.finish_run(run, "failed", "zzz: a text no rule recognizes", "partner.http.timeout")
    store.add_quarantine("knu", [Quarantine(reason="zzz: odd", local_id="r1", code="record.no_identifier")])
    page = boss.get(f"/admin/sources/knu?lang={lang}").text
    assert in_lang(lang, TOO_SLOW).replace("'", "&#39;") in page
    quarantine = boss.get(f"/admin/sources/knu/quarantine?lang={lang}").text
    assert in_lang(lang, NO_IDENTIFIER) in quarantine
