"""The embeddable search for partner sites: /embed makes the snippet, /embed/frame is what it frames.

The snippet is an iframe of /embed/frame (options in its URL), plus an optional script,
/embed/resize.js, that sizes the frame to its content from the frame's postMessage. The
frame is one self-contained page: its style and script are inline and allowed by their
hashes in its CSP, so it makes no request but its own, to us, and runs under
`default-src 'none'`. It is the one route any site may frame (frame-ancestors); the rest
of the site keeps frame-ancestors 'self'.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass, replace
from functools import cache
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from markupsafe import Markup

from fedsearch.engines.query_syntax import MAX_QUERY_CHARS
from fedsearch.record import RecordType
from search_api.http import cached_response, urls_for
from search_api.params import SearchParams
from search_api.service import SearchService
from web_ui.i18n import LANGS
from web_ui.templating import CSP, STATIC_DIR, render, request_lang

router = APIRouter(include_in_schema=False)

PER_PAGE = 10
MAX_PAGE = 100  # the frame is a search box, not a harvester: deeper pages are on our site
_HEX_COLOUR = re.compile(r"^[0-9a-fA-F]{3}(?:[0-9a-fA-F]{3})?$")
DEFAULT_COLOURS = {"accent": "1a5fb4", "bg": "ffffff", "fg": "1c1c1c"}
FRAME_HEIGHT = 480


@dataclass(frozen=True)
class EmbedOptions:
    """What a partner chose; a value we can't use is dropped (the frame still works without it)."""

    source: str = ""
    type: str = ""
    subject: str = ""
    lang: str = ""
    accent: str = DEFAULT_COLOURS["accent"]
    bg: str = DEFAULT_COLOURS["bg"]
    fg: str = DEFAULT_COLOURS["fg"]

    @classmethod
    def from_params(cls, params: dict[str, str], sources: set[str]) -> EmbedOptions:
        colours = {k: v.lstrip("#") for k in DEFAULT_COLOURS if _HEX_COLOUR.match((v := params.get(k, "")).lstrip("#"))}
        return cls(
            source=params.get("source", "") if params.get("source", "") in sources else "",
            type=params.get("type", "") if params.get("type", "") in {t.value for t in RecordType} else "",
            subject=params.get("subject", "").strip()[:200],
            lang=params.get("lang", "") if params.get("lang", "") in LANGS else "",
            **colours,
        )

    def items(self) -> list[tuple[str, str]]:
        """Only what differs from the defaults: the shortest frame URL."""
        return [(k, v) for k, v in vars(self).items() if v and v != DEFAULT_COLOURS.get(k)]

    def filters(self) -> dict[str, list[str]]:
        return {k: [v] for k, v in (("source", self.source), ("type", self.type), ("subject", self.subject)) if v}


def _service(request: Request) -> SearchService:
    return request.app.state.service


def _base(request: Request) -> str:
    return urls_for(request).base


def _options(request: Request) -> EmbedOptions:
    return EmbedOptions.from_params(dict(request.query_params), {s.id for s in _service(request).settings.sources})


def frame_url(base: str, options: EmbedOptions, **extra: str | int) -> str:
    items = options.items() + [(k, str(v)) for k, v in extra.items()]
    return f"{base}/embed/frame" + (f"?{urlencode(items)}" if items else "")


def snippet(base: str, options: EmbedOptions, title: str, with_script: bool) -> str:
    # No style attribute: a partner page with a strict CSP (no 'unsafe-inline') would refuse it.
    html = (
        f'<iframe data-fedsearch src="{Markup.escape(frame_url(base, options))}" title="{Markup.escape(title)}" '
        f'width="100%" height="{FRAME_HEIGHT}" frameborder="0" loading="lazy"></iframe>'
    )
    if with_script:
        html += f'\n<script src="{base}/embed/resize.js" async></script>'
    return html


@router.get("/embed")
def embed_page(request: Request) -> Response:
    service = _service(request)
    options = _options(request)
    lang = request_lang(request)
    base = _base(request)
    with_script = request.query_params.get("script", "1") != "0"
    from web_ui.i18n import gettext_

    title = gettext_("Search Kyrgyzstan's scientific information")
    context = {
        "options": options,
        "with_script": with_script,
        "source_names": service.source_names(lang),
        "types": [t.value for t in RecordType],
        "snippet": snippet(base, options, title, with_script),
        "preview_url": frame_url("", options if options.lang else replace(options, lang=lang)),
    }
    # The preview frames our own page: frame-src 'self' on this page only.
    return render(request, "embed.html", context, headers={"Content-Security-Policy": CSP + "; frame-src 'self'"})


@router.get("/embed/frame")
def embed_frame(request: Request) -> Response:
    options = _options(request)
    q = request.query_params.get("q", "")[:MAX_QUERY_CHARS]
    try:
        page = min(max(int(request.query_params.get("page", "1")), 1), MAX_PAGE)
    except ValueError:
        page = 1
    result = None
    if q.strip() or options.filters():
        # The same parameter model as the search page and the API (its options are already checked).
        params = SearchParams(q=q, page=page, per_page=PER_PAGE, **options.filters())
        result = _service(request).search(params.to_query(highlight=False))
    last = min(MAX_PAGE, -(-result.total // PER_PAGE)) if result else 0
    style = _style(options)
    context = {
        "options": options,
        "q": q,
        "page": page,
        "result": result,
        "base": _base(request),
        "hidden": [(k, v) for k, v in options.items()],
        "prev_url": frame_url("", options, q=q, page=page - 1) if page > 1 else None,
        "next_url": frame_url("", options, q=q, page=page + 1) if page < last else None,
        "style": Markup(style),  # noqa: S704 - our CSS; the colours are validated hex digits
        "script": Markup(FRAME_SCRIPT),  # noqa: S704 - our script, a constant
    }
    csp = (
        f"default-src 'none'; style-src '{_sha256(style)}'; script-src '{_sha256(FRAME_SCRIPT)}'; "
        "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors http: https:"
    )
    # Search engines need not index partner-framed copies of our result lists.
    return render(
        request,
        "embed_frame.html",
        context,
        headers={"Content-Security-Policy": csp, "X-Robots-Tag": "noindex", "Cache-Control": "public, max-age=60"},
    )


@router.get("/embed/resize.js")
def resize_script(request: Request) -> Response:
    return cached_response(
        request,
        _resize_js(),
        "text/javascript; charset=utf-8",
        max_age=86400,
        headers={"Access-Control-Allow-Origin": "*", "X-Content-Type-Options": "nosniff"},
    )


@cache
def _resize_js() -> bytes:
    return (STATIC_DIR / "embed-resize.js").read_bytes()


@cache
def _frame_css() -> str:
    return (STATIC_DIR / "embed-frame.css").read_text()


def _style(options: EmbedOptions) -> str:
    return f":root{{--a:#{options.accent};--b:#{options.bg};--f:#{options.fg}}}\n" + _frame_css()


def _sha256(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()


# Tells the page that framed us how tall we are (read by /embed/resize.js); the height is no secret.
FRAME_SCRIPT = (
    "(function(){function s(){parent.postMessage({fedsearch:'height',height:document.documentElement.scrollHeight},'*')}"
    "addEventListener('load',s);addEventListener('resize',s);"
    "if(window.ResizeObserver){new ResizeObserver(s).observe(document.body)}})();"
)
