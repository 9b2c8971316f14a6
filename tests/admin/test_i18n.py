"""Every string of the admin is translated into Kyrgyz and Russian in the UI's gettext catalogs."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB_UI = Path(__file__).parents[2] / "web_ui"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n", "trimmed": "true"}}
KEYWORDS = {"_": None, "gettext_": None, "N_": None, "ngettext": (1, 2), "gettext": None}


def admin_messages() -> set[str]:
    found = set()
    for _, _, message, _, _ in extract_from_dir(WEB_UI / "admin", METHODS, OPTIONS, KEYWORDS):
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


@pytest.mark.parametrize(("lang", "heading", "button"), [("ky", "Булактар", "Булак кошуу"),
                                                          ("ru", "Источники", "Добавить источник"),
                                                          ("en", "Sources", "Add a source")])
def test_the_admin_speaks_the_chosen_language(boss, lang, heading, button):
    page = boss.get(f"/admin?lang={lang}").text
    assert f'<html lang="{lang}">' in page and f"<h1>{heading}</h1>" in page and button in page
