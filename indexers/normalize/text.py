"""Text cleaning shared by the normalizers.

Titles keep their text exactly (markup included: the UI escapes it); only
whitespace is collapsed. Abstracts are often HTML, sometimes escaped twice
(Zenodo's oai_dc sends "&lt;p&gt;"), so an abstract that carries markup is
turned into plain text: entities decoded, tags dropped, paragraphs kept apart.
"""

from __future__ import annotations

import html
import re

from fedsearch.record import clean_text

MAX_TEXT = 20_000  # LangText's limit

_TAG_NAMES = (
    "p|br|div|span|a|b|i|u|em|strong|sub|sup|ul|ol|li|h[1-6]|code|pre|blockquote|table|tr|td|th|tbody|thead"
    "|font|small|big|hr|img|abbr|cite|dl|dt|dd|section|article|jats:[a-z-]+|mml:[a-z]+|inline-formula|italic|bold"
)
_TAG = re.compile(rf"</?(?:{_TAG_NAMES})(?:\s[^<>]*)?/?>", re.I)
_BLOCK_END = re.compile(r"</?(?:p|div|li|ul|ol|h[1-6]|blockquote|tr|pre)(?:\s[^<>]*)?>|<br\s*/?>", re.I)
_ESCAPED_MARKUP = re.compile(rf"&lt;/?(?:{_TAG_NAMES})(?:\s|&gt;|/)", re.I)


def title_text(value: str | None) -> str | None:
    return _truncate(clean_text(value))


# "Title. a textbook": a repository that joins the subtitle with a full stop. A full stop after a word of 5+
# letters before a lower-case word is no sentence end ("и т. д.", "им. Ж.", "Trans. on" stay): it is ISBD's " : ".
_SUBTITLE_STOP = re.compile(r"(?<=[^\W\d_]{5})\.\s+(?!(?:of|on|and|in|for|to|at|by|the)\b)(?=[a-zа-яёөүң])")


def subtitle_colon(title: str | None) -> str | None:
    """'Monitoring of anti-corruption policy. a textbook' -> 'Monitoring of anti-corruption policy : a textbook'."""
    return _SUBTITLE_STOP.sub(" : ", title, count=1) if title else title


def abstract_text(value: str | None) -> str | None:
    """Plain text of an abstract that may be HTML or escaped HTML."""
    if not value:
        return None
    text = value
    for _ in range(2):  # escaped once or twice
        if _ESCAPED_MARKUP.search(text) or "&amp;" in text:
            text = html.unescape(text)
    if _TAG.search(text):
        text = _BLOCK_END.sub("\n\n", text)
        text = _TAG.sub("", text)
        text = html.unescape(text)
    # Paragraph breaks survive as one blank line; other runs of whitespace collapse.
    paragraphs = [clean_text(p) for p in re.split(r"\n\s*\n", text)]
    return _truncate("\n\n".join(p for p in paragraphs if p) or None)


def _truncate(value: str | None, limit: int = MAX_TEXT) -> str | None:
    if value is None or len(value) <= limit:
        return value
    cut = value[: limit - 1].rsplit(" ", 1)[0]
    return cut + "…"


def split_subjects(value: str) -> list[str]:
    """One subject field -> subjects.

    Semicolons always separate. Commas separate keyword lists ("A,B,C",
    CyberLeninka) but not headings with one comma ("History, Modern") or
    subdivided headings ("Kyrgyzstan -- History, 1991-").
    """
    value = clean_text(value) or ""
    if not value:
        return []
    parts = [p for p in re.split(r"\s*;\s*", value) if p]
    out: list[str] = []
    for part in parts:
        if part.count(",") >= 2 and " -- " not in part:
            out.extend(p.strip() for p in part.split(",") if p.strip())
        else:
            out.append(part)
    return [p.strip(" .") for p in out if p.strip(" .")]


def strip_isbd(value: str | None) -> str | None:
    """Drop ISBD punctuation that catalogue subfields end with (' /', ' :', ' =', ' ;', '.', ',')."""
    if value is None:
        return None
    value = clean_text(value) or ""
    value = strip_gmd(value)
    value = re.sub(r"\s*[/:;=,]\s*$", "", value)
    if value.endswith(".") and not re.search(r"(\b[A-ZА-ЯЁ]|\.\.|\b\w{1,3})\.$", value):
        value = value[:-1]
    return value.strip() or None


# General material designations catalogues put into titles: "[Текст]", "[Электронный ресурс]".
_GMD = re.compile(
    r"\s*\[(?:текст|text|электронный ресурс|electronic resource|изоматериал|ноты|карты|микроформа|microform"
    r"|рукопись|звукозапись|видеозапись|комплект|мультимедиа|graphic|sound recording|videorecording)\]",
    re.I,
)


def strip_gmd(value: str) -> str:
    return _GMD.sub("", value).strip()
