"""The UI's languages (Kyrgyz, Russian, English): gettext catalogs and the choice of language.

Catalogs are web_ui/locale/<lang>/LC_MESSAGES/messages.po, compiled in memory
with Babel when the app starts, so a fresh checkout or `pip install -e .`
needs no build step (and no .mo files to keep in step with the .po files).
Update them with `pybabel extract -F web_ui/babel.cfg -o web_ui/locale/messages.pot web_ui`
then `pybabel update -i web_ui/locale/messages.pot -d web_ui/locale`.

The language is, in order: `?lang=` in the URL, the `lang` cookie, the
browser's Accept-Language, then Russian (the language most records are in).
"""

from __future__ import annotations

import gettext
import io
from contextvars import ContextVar
from functools import cache
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGS: tuple[str, ...] = ("ky", "ru", "en")
DEFAULT_LANG = "ru"
COOKIE = "lang"
LOCALE_DIR = Path(__file__).parent / "locale"
LANG_NAMES = {"ky": "Кыргызча", "ru": "Русский", "en": "English"}  # each in its own language


@cache
def translations(lang: str) -> gettext.NullTranslations:
    """The compiled catalog for a UI language (English falls back to the msgids)."""
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return gettext.NullTranslations()
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return gettext.GNUTranslations(buf)


_current: ContextVar[str] = ContextVar("ui_lang", default=DEFAULT_LANG)


def set_lang(lang: str) -> None:
    _current.set(lang if lang in LANGS else DEFAULT_LANG)


def current_lang() -> str:
    return _current.get()


def gettext_(message: str) -> str:
    return translations(_current.get()).gettext(message)


def ngettext_(singular: str, plural: str, n: int) -> str:
    return translations(_current.get()).ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Marks a string for extraction; it is translated where it is shown."""
    return message


def parse_accept_language(header: str | None) -> str | None:
    """The best of our languages for an Accept-Language header, or None."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        q = 1.0
        for p in params.split(";"):
            k, _, v = p.strip().partition("=")
            if k == "q":
                try:
                    q = float(v)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary in LANGS and q > 0:
            choices.append((-q, i, primary))
        elif primary == "kir":  # an old code some systems send for Kyrgyz
            choices.append((-q, i, "ky"))
    return min(choices)[2] if choices else None


def choose_lang(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    for lang in (query_lang, cookie_lang):
        if lang in LANGS:
            return lang  # type: ignore[return-value]
    return parse_accept_language(accept_language) or DEFAULT_LANG


# Where CLDR's name is not the one the state uses: Kyrgyzstan writes «кыргызский» in Russian.
_LANGUAGE_NAMES = {("ky", "ru"): "кыргызский"}


@cache
def language_name(code: str, ui_lang: str) -> str:
    """A content language's name in the UI language ('ky' in Russian: 'Кыргызский')."""
    name: str | None = _LANGUAGE_NAMES.get((code, ui_lang))
    if name:
        return name[:1].upper() + name[1:]
    try:
        name = Locale.parse(ui_lang).languages.get(code)
    except Exception:  # noqa: BLE001 - an unknown locale: show the code
        name = None
    return (name[:1].upper() + name[1:]) if name else code
