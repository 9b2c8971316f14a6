"""Rendering pages: one Jinja environment, the base template, i18n, static assets, security headers.

Every HTML page (public pages here, admin pages later) renders through `render`:
it picks the UI language, installs its translations for the template, and
adds the security headers. Autoescaping is on for every template; the only
markup we pass through is the engine highlighter's (already escaped) output
and the JSON-LD we serialize ourselves (`json_ld`).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse

from web_ui import i18n, labels

HERE = Path(__file__).parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
STATIC_FILES = {
    "app.css": "text/css; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}

# No third-party requests, no inline scripts or styles (JSON-LD is data, not script).
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Vary": "Accept-Language, Cookie",
}
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600


@cache
def static_hash(name: str) -> str:
    return hashlib.blake2b((STATIC_DIR / name).read_bytes(), digest_size=6).hexdigest()


def static_url(name: str) -> str:
    return f"/static/{name}?v={static_hash(name)}"


def json_ld(data: Any) -> Markup:
    """JSON for a <script type="application/ld+json">: '<', '>' and '&' escaped so '</script>' can't occur."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)  # noqa: S704 - built from json.dumps with the HTML-significant characters escaped


def _number(n: int) -> str:
    return format_decimal(n, locale=i18n.current_lang())


def _iso_date(value: str) -> str:
    """An ISO 8601 date as the UI language writes it ("2024-08-27" -> "27 августа 2024 г."); others as given."""
    try:
        return format_date(date.fromisoformat(value), format="long", locale=i18n.current_lang())
    except (ValueError, TypeError):
        return value


def _make_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=select_autoescape(["html", "xml"], default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext_, i18n.ngettext_, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_url,
        LANGS=i18n.LANGS,
        LANG_NAMES=i18n.LANG_NAMES,
        TYPE_LABELS=labels.TYPE_LABELS,
        ACCESS_LABELS=labels.ACCESS_LABELS,
        FACET_LABELS=labels.FACET_LABELS,
        SORT_LABELS=labels.SORT_LABELS,
        LINK_LABELS=labels.LINK_LABELS,
        MATCH_LABELS=labels.MATCH_LABELS,
        ROLE_LABELS=labels.ROLE_LABELS,
        SCHEME_LABELS=labels.SCHEME_LABELS,
        language_name=i18n.language_name,
        json_ld=json_ld,
    )
    env.filters["number"] = _number
    env.filters["iso_date"] = _iso_date
    return env


env = _make_env()


def request_lang(request: Request) -> str:
    lang = getattr(request.state, "ui_lang", None)
    if lang is None:
        lang = i18n.choose_lang(
            request.query_params.get("lang"), request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
        )
        request.state.ui_lang = lang
    i18n.set_lang(lang)  # for messages a view translates before rendering
    return lang


def url_keeping_lang(request: Request, path: str, items: list[tuple[str, str]] | None = None) -> str:
    """A link that keeps ?lang= when the current page has it."""
    items = list(items or [])
    if request.query_params.get("lang") in i18n.LANGS:
        items = [kv for kv in items if kv[0] != "lang"] + [("lang", request.query_params["lang"])]
    return path + (f"?{urlencode(items)}" if items else "")


def lang_switch_url(request: Request, lang: str) -> str:
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", lang)]
    return request.url.path + "?" + urlencode(items)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    lang = request_lang(request)
    i18n.set_lang(lang)
    ctx = {
        "request": request,
        "lang": lang,
        "site_name": request.app.state.site_name,
        "url": lambda path, items=None: url_keeping_lang(request, path, items),
        "lang_url": lambda code: lang_switch_url(request, code),
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code, headers={**SECURITY_HEADERS, **(headers or {})})
    chosen = request.query_params.get("lang")
    if chosen in i18n.LANGS and request.cookies.get(i18n.COOKIE) != chosen:
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=LANG_COOKIE_MAX_AGE,
            path="/",
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
