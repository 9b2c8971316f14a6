"""Errors, warnings and quarantine reasons in words a librarian understands, in the UI's language.

Connectors and the normalizer explain problems in English for logs and the
CLI. Here the common ones become a translated sentence saying what to do;
the original text stays available as the technical detail. Anything not
recognized is shown as it is.

Everything is translated by its stable code (fedsearch/errors.py): an exception
we hold (`plain_error`), and a run's error or a quarantine reason as the raw
store keeps it, text and code side by side (`plain(text, code)`). Only rows
stored before the store kept codes (code None), and codes too broad to say more
(record.malformed, internal), are still recognized by their words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedsearch.errors import causes
from web_ui.i18n import gettext_ as _


@dataclass
class Plain:
    message: str  # what happened and what to do, translated
    detail: str | None  # the original technical text, when it says more


def _status_words(status: int, what: str) -> str:
    if status in (404, 410):
        return _("The partner's server answered %(status)s (not found) for %(what)s: check the base URL.") % {
            "status": status,
            "what": what,
        }
    if status in (401, 403):
        return _(
            "The partner's server refused access (%(status)s) for %(what)s: the partner may need to allow "
            "our harvester, or give credentials."
        ) % {"status": status, "what": what}
    if status == 429:
        return _("The partner's server asked us to slow down (429): raise the pause between requests for this source.")
    if status >= 500:
        return _(
            "The partner's server had an internal problem (%(status)s) for %(what)s: try again later, or "
            "tell the partner."
        ) % {"status": status, "what": what}
    return _(
        "The partner's server answered %(status)s for %(what)s: check the source's settings (address, format, query)."
    ) % {"status": status, "what": what}


def _busy() -> str:
    return _("Another harvest of this source was running at the time, so this one did not start.")


def _unreachable(host: str) -> str:
    return _("Could not connect to %(host)s. Check the address, and that the partner's server is running.") % {
        "host": host
    }


def _broken(host: str) -> str:
    return _("The connection to %(host)s broke during the transfer. Try again later.") % {"host": host}


def _too_slow() -> str:
    return _(
        "The partner's server answered too slowly; it may be overloaded or down. Try again later, "
        "or raise the time limit for this source."
    )


def _too_large() -> str:
    return _("The partner's server sent an answer that is too large to read.")


def _host(err: BaseException) -> str:
    return urlsplit(getattr(err, "url", "") or "").hostname or "?"


# Errors we hold as exceptions are translated by their stable code (fedsearch/errors.py).
_BY_CODE: dict[str, Callable[[Any], str]] = {
    "partner.http.status": lambda e: _status_words(e.status, e.url),
    "partner.http.unreachable": lambda e: _unreachable(_host(e)),
    "partner.http.connection_broken": lambda e: _broken(_host(e)),
    "partner.http.timeout": lambda e: _too_slow(),
    "partner.http.too_large": lambda e: _too_large(),
    "harvest.source_busy": lambda e: _busy(),
}


def _index_busy() -> str:
    return _(
        "The search index was busy (another harvest or a reindex was writing to it). The records "
        "are stored and the next run indexes them."
    )


def _invalid_settings() -> str:
    return _("The source's settings are not valid: edit the source and correct them.")


def _number(pattern: str, text: str, default: str = "?") -> str:
    """A number the stored English text names (a status, a size): the code says what, the text says how much."""
    m = re.search(pattern, text)
    return m.group(1) if m else default


def _stored_status(text: str) -> str:
    m = re.search(r"answered (\d{3})\b.*? for (.+?)(?:[;,]|$)", text)
    if m is None:
        return _status_words(int(_number(r"\b(\d{3})\b", text, "0")), "?")
    return _status_words(int(m.group(1)), m.group(2))


def _stored_host(text: str) -> str:
    m = re.search(r"https?://[^\s)]+", text)
    if m:
        return urlsplit(m.group(0)).hostname or "?"
    m = re.search(r"(?:connect to|connection to) (\S+)", text)
    return m.group(1) if m else "?"


# Run errors and quarantine reasons as the raw store keeps them: code -> words (given the stored text).
_STORED_BY_CODE: dict[str, Callable[[str], str]] = {
    "partner.http.status": _stored_status,
    "partner.http.unreachable": lambda t: _unreachable(_stored_host(t)),
    "partner.http.connection_broken": lambda t: _broken(_stored_host(t)),
    "partner.http.timeout": lambda t: _too_slow(),
    "partner.http.too_large": lambda t: _too_large(),
    "harvest.source_busy": lambda t: _busy(),
    "harvest.already_running": lambda t: _busy(),
    "harvest.interrupted": lambda t: _(
        "The harvest was interrupted (the program stopped or crashed). The next run continues where it stopped."
    ),
    "harvest.stopped": lambda t: _("Stopped by a user. The next run continues where it stopped."),
    "config.invalid_value": lambda t: _invalid_settings(),
    "config.unknown_connector": lambda t: _invalid_settings(),
    "engine.index_busy": lambda t: _index_busy(),
    "index.failed": lambda t: _(
        "The records were harvested but could not be added to the search index. They are stored, "
        "and the next run tries again."
    ),
    "engine.rejected_records": lambda t: (
        _("The search engine refused %(count)s records; the details below say why.")
        % {"count": _number(r"rejected (\d+) records", t)}
    ),
    "record.no_identifier": lambda t: _("The record has no identifier."),
    "record.no_title": lambda t: _("The record has no title."),
    "record.no_metadata": lambda t: _("The record has no metadata."),
    "record.not_xml": lambda t: _("The record could not be read: it is not well-formed XML."),
    "record.too_large": lambda t: (
        _("The record is too large (%(size)s bytes; the limit is %(limit)s).")
        % {"size": _number(r"is (\d+) bytes", t), "limit": _number(r"limit of (\d+)", t)}
    ),
}


def plain_error(err: BaseException) -> Plain:
    """The librarian's version of an error: by its code (or its cause's), else by its text."""
    for e in causes(err):
        code = getattr(e, "error_code", None)
        words = _BY_CODE.get(code) if isinstance(code, str) else None
        if words is not None:
            return Plain(words(e), str(e))
    text = getattr(err, "message", None)
    return plain(text if isinstance(text, str) and text else str(err)) or Plain(type(err).__name__, None)


# The fallback: texts stored before the raw store kept codes, and codes too broad to say more
# (record.malformed, internal), are recognized by their words.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], str]]] = [
    (re.compile(r"another harvest of this source is running"), lambda m: _busy()),
    (
        re.compile(r"^interrupted"),
        lambda m: _(
            "The harvest was interrupted (the program stopped or crashed). The next run continues where it stopped."
        ),
    ),
    (re.compile(r"^stopped on request"), lambda m: _("Stopped by a user. The next run continues where it stopped.")),
    (
        re.compile(r"the server answered (\d{3})\b.*? for (.+?)(?:[;,]|$)"),
        lambda m: _status_words(int(m.group(1)), m.group(2)),
    ),
    (re.compile(r"could not connect to (\S+)"), lambda m: _unreachable(m.group(1))),
    (re.compile(r"the connection to (\S+) broke"), lambda m: _broken(m.group(1))),
    (re.compile(r"^the server .* while we asked for|took longer than .* in total"), lambda m: _too_slow()),
    (re.compile(r"is larger than .*; we stopped reading it"), lambda m: _too_large()),
    (re.compile(r"^the source's configuration is not valid"), lambda m: _invalid_settings()),
    (re.compile(r"^indexing failed: .*(another process is writing)"), lambda m: _index_busy()),
    (
        re.compile(r"^indexing failed"),
        lambda m: _(
            "The records were harvested but could not be added to the search index. They are stored, "
            "and the next run tries again."
        ),
    ),
    (
        re.compile(r"the search engine rejected (\d+) records"),
        lambda m: _("The search engine refused %(count)s records; the details below say why.") % {"count": m.group(1)},
    ),
    (
        re.compile(r"^unexpected error"),
        lambda m: _("An unexpected error occurred. The details below help the developers find it."),
    ),
    # quarantine reasons and normalizer messages
    (re.compile(r"the record has no title"), lambda m: _("The record has no title.")),
    (re.compile(r"the record has no (header )?identifier"), lambda m: _("The record has no identifier.")),
    (
        re.compile(r"the record is (\d+) bytes, over the limit of (\d+)"),
        lambda m: (
            _("The record is too large (%(size)s bytes; the limit is %(limit)s).")
            % {"size": m.group(1), "limit": m.group(2)}
        ),
    ),
    (re.compile(r"the record has no metadata"), lambda m: _("The record has no metadata.")),
    (
        re.compile(r"the record could not be read|not well-formed|XML"),
        lambda m: _("The record could not be read: it is not well-formed XML."),
    ),
    (re.compile(r"^no year"), lambda m: _("No year of publication.")),
    (
        re.compile(r"^language guessed from the text: (\S+)"),
        lambda m: _("Language not given; guessed from the text: %(lang)s.") % {"lang": m.group(1)},
    ),
    (re.compile(r"^no language"), lambda m: _("No language given, and the text is too short to guess it.")),
    (re.compile(r"^unknown language (.+)"), lambda m: _("Unknown language code %(code)s.") % {"code": m.group(1)}),
    (
        re.compile(r"^unknown type(.*)"),
        lambda m: _("Unknown record type%(terms)s; it is shown as “other”.") % {"terms": m.group(1)},
    ),
]


def plain(text: str | None, code: str | None = None) -> Plain | None:
    """The librarian's version of a stored message and its code (None for None).

    A known code decides the words; an unknown or missing code (rows stored before codes
    were kept) falls back to recognizing the English text.
    """
    if not text:
        return None
    words = _STORED_BY_CODE.get(code) if code else None
    if words is not None:
        return Plain(words(text), text)
    for pattern, by_words in _RULES:
        m = pattern.search(text)
        if m:
            return Plain(by_words(m), text)
    return Plain(text, None)
