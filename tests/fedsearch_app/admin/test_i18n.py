"""Every string of the admin is translated into Kyrgyz and Russian in the UI's gettext catalogs."""

from __future__ import annotations

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from tests.conftest import ROOT

WEB_UI = ROOT / "web_ui"
ADMIN = ROOT / "fedsearch_app" / "admin"  # its strings live in the UI's catalogs
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext_": None, "N_": None, "ngettext": (1, 2), "gettext": None}


def admin_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(ADMIN, METHODS, OPTIONS, KEYWORDS):
        found.add(message[0] if isinstance(message, tuple) else message)
    return found


@pytest.mark.parametrize("lang", ["ky", "ru"])
def test_every_admin_string_is_translated(lang):
    messages = admin_messages()
    assert len(messages) > 300
    with (WEB_UI / "locale" / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=lang)
    missing = []
    for msgid in sorted(messages):
        entry = catalog.get(msgid)
        if entry is None or not all(entry.string if isinstance(entry.string, tuple) else [entry.string]):
            missing.append(msgid)
    assert missing == []


@pytest.mark.parametrize(
    ("lang", "heading", "button"),
    [("ky", "Булактар", "Булак кошуу"), ("ru", "Источники", "Добавить источник"), ("en", "Sources", "Add a source")],
)
def test_the_admin_speaks_the_chosen_language(boss, lang, heading, button):
    page = boss.get(f"/admin?lang={lang}").text
    assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page and button in page


def test_every_connector_option_has_words_for_librarians():
    """Labels and help of connector options come from fedsearch_app/admin/option_texts.py, not developers' English."""
    from connectors.registry import installed
    from fedsearch_app.admin.option_texts import CONNECTOR_TEXTS, option_texts

    missing = [
        f"{name}:{option}"
        for name, cls in installed().items()
        for option in cls.Options.model_json_schema().get("properties", {})
        if option_texts(name, option) is None
    ]
    assert missing == [] and set(installed()) <= set(CONNECTOR_TEXTS)


@pytest.mark.parametrize(
    ("lang", "says", "never"),
    [
        (
            "ru",
            [
                "Столбец с номером записи",
                "Столбцы и что в них",
                "Файл таблицы",
                "Тип записей",
                "например реестр диссертаций",
            ],
            ["Id column", "Record field -&gt; column", ">Path<", ">Type<", ">Mapping<"],
        ),
        (
            "ky",
            ["Жазуунун номери бар мамыча", "Мамычалар жана алардагы маалымат", "Таблица файлы"],
            ["Id column", "Record field -&gt; column", ">Path<", ">Mapping<"],
        ),
        (
            "en",
            ["Column with the record number", "Columns and what they hold", "Table file"],
            ["Id column", ">Mapping<"],
        ),
    ],
)
def test_connector_forms_speak_the_ui_language(boss, lang, says, never):
    page = boss.get(f"/admin/add-source?connector=tabular&lang={lang}").text
    for text in says:
        assert text in page, text
    for text in never:
        assert text not in page, text
