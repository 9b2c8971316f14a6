"""Publication dates as partners write them -> year, ISO date and its precision.

Rules (docs/normalization.md, "Dates"):
- "2019", "c2005", "[2010]", "1999 г.", "2005?" -> year 2019 ...; precision year.
- "2019-05", "May 2019", "мая 2019" -> month; "2019-05-03", "03.05.2019", "3 мая 2019 г." -> day.
- "2010-2012", "2010–12", "1804-1807" -> year 2010, date "2010/2012" (an ISO interval), precision range.
- "199-?", "199-", "199?", "199u" -> no year (we never invent one), date "199X"
  (ISO 8601-2 unspecified digit), precision decade.
- "19--", "XIX в." and text without a year -> nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date as _date
from functools import lru_cache

from fedsearch.record import DatePrecision

MIN_YEAR, MAX_YEAR = 1000, 2100

MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        ("jan", "january", "январь", "января", "янв", "январ", "janvier", "januar"),
        ("feb", "february", "февраль", "февраля", "фев", "февр", "fevrier", "februar"),
        ("mar", "march", "март", "марта", "мар", "mars", "märz", "marz"),
        ("apr", "april", "апрель", "апреля", "апр", "avril"),
        ("may", "май", "мая", "mai"),
        ("jun", "june", "июнь", "июня", "июн", "juin", "juni"),
        ("jul", "july", "июль", "июля", "июл", "juillet", "juli"),
        ("aug", "august", "август", "августа", "авг", "aout", "août"),
        ("sep", "sept", "september", "сентябрь", "сентября", "сен", "сент", "septembre"),
        ("oct", "october", "октябрь", "октября", "окт", "octobre", "oktober"),
        ("nov", "november", "ноябрь", "ноября", "ноя", "нояб", "novembre"),
        ("dec", "december", "декабрь", "декабря", "дек", "decembre", "décembre", "dezember"),
    ),
    start=1,
):
    for _name in _names:
        MONTHS[_name] = _n


@dataclass(frozen=True)
class ParsedDate:
    year: int | None
    date: str | None  # ISO 8601 (interval "2010/2012", or "199X" for a decade)
    precision: DatePrecision

    @property
    def sort_key(self) -> str:
        return (self.date or "").replace("X", "0")


def _valid_year(y: int) -> bool:
    return MIN_YEAR <= y <= MAX_YEAR


def _ymd(y: int, m: int | None = None, d: int | None = None) -> ParsedDate | None:
    if not _valid_year(y):
        return None
    if m is None:
        return ParsedDate(y, f"{y:04d}", DatePrecision.year)
    if not 1 <= m <= 12:
        return ParsedDate(y, f"{y:04d}", DatePrecision.year)
    if d is None:
        return ParsedDate(y, f"{y:04d}-{m:02d}", DatePrecision.month)
    try:
        _date(y, m, d)
    except ValueError:
        return ParsedDate(y, f"{y:04d}-{m:02d}", DatePrecision.month)
    return ParsedDate(y, f"{y:04d}-{m:02d}-{d:02d}", DatePrecision.day)


_ISO = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?(?:[T ][\d:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")
_SLASH_YMD = re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[./](\d{1,2})[./](\d{4})$")
_MY = re.compile(r"^(\d{1,2})[./](\d{4})$")
_RANGE = re.compile(r"^(\d{4})\s*(?:[–—]|-{1,2}|/|\.\.)\s*(\d{2}|\d{4})$")
_DECADE = re.compile(r"^(\d{3})(?:-|\?|u|x)\??$", re.I)
_CENTURY = re.compile(r"^\d{2}(?:--|\?\?|uu|xx)\??$", re.I)
# Marks around a year that only say "approximately", "copyright", "printed" or "year".
_NOISE = re.compile(
    r"^(?:c|©|℗|p|cop\.?|copyright|ca\.?|circa|около|ок\.|s\.?\s?a\.?|print\.?|печ\.?)\s*"
    r"|\s*(?:г\.?|гг\.?|год[а]?|ж\.?|жыл[ы]?|y\.?|yil)\s*$",
    re.I,
)
_WORD = re.compile(r"[^\W\d_]+\.?", re.U)


@lru_cache(maxsize=20_000)  # the same date strings repeat; ParsedDate is frozen
def parse_date(text: str | None) -> ParsedDate | None:
    """One date statement -> ParsedDate; None when it holds no usable date."""
    if not text:
        return None
    s = text.strip()
    if not s or s.lower().startswith("info:eu-repo/date/embargoend"):
        return None
    if s.lower().startswith("info:eu-repo/date/"):
        s = s.rsplit("/", 1)[-1]
    s = s.strip(" .,;:")
    # Brackets and question marks mark a cataloguer's inference: keep the value.
    s = re.sub(r"^\[(.*)\]$", r"\1", s).strip()
    s = re.sub(r"[\[\]]", "", s).strip()
    for _ in range(2):
        s = _NOISE.sub("", s).strip(" .,;:")
    if not s:
        return None

    m = _DECADE.match(s)
    if m:
        return ParsedDate(None, f"{m.group(1)}X", DatePrecision.decade) if _valid_year(int(m.group(1)) * 10) else None
    if _CENTURY.match(s):
        return None
    s = s.rstrip("?").strip()

    m = _ISO.match(s)
    if m:
        y, mo, d = (int(g) if g else None for g in m.groups())
        return _ymd(y, mo, d)
    m = _SLASH_YMD.match(s)
    if m:
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _DMY.match(s)
    if m:
        return _ymd(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    m = _MY.match(s)
    if m:
        return _ymd(int(m.group(2)), int(m.group(1)))
    m = _RANGE.match(s)
    if m:
        start, end = int(m.group(1)), m.group(2)
        end_year = int(end) if len(end) == 4 else start // 100 * 100 + int(end)
        if _valid_year(start) and _valid_year(end_year) and end_year > start:
            return ParsedDate(start, f"{start:04d}/{end_year:04d}", DatePrecision.range)
        if _valid_year(start) and end_year == start:
            return _ymd(start)
    named = _named_month(s)
    if named:
        return named
    # Anything else: the first plausible year in the text ("1998, c1995", "Vol. 5 (2019)").
    for y in re.findall(r"(?<!\d)(\d{4})(?!\d)", s):
        if _valid_year(int(y)):
            return _ymd(int(y))
    return None


def _named_month(s: str) -> ParsedDate | None:
    """'May 2019', '3 May 2019', 'May 3, 2019', '3 мая 2019', 'сентябрь 2019'."""
    years = re.findall(r"(?<!\d)(\d{4})(?!\d)", s)
    if len(years) != 1:
        return None
    month = None
    for w in _WORD.findall(s.lower()):
        w = w.rstrip(".")
        if w in MONTHS:
            month = MONTHS[w]
            break
    if month is None:
        return None
    rest = s.replace(years[0], " ")
    days = [int(d) for d in re.findall(r"(?<!\d)(\d{1,2})(?!\d)", rest)]
    day = days[0] if len(days) == 1 and 1 <= days[0] <= 31 else None
    return _ymd(int(years[0]), month, day)


def choose_date(candidates: list[ParsedDate]) -> ParsedDate | None:
    """The publication date among several (DSpace sends issued, available, accessioned).

    The earliest dated one wins: later dates are accession, availability or
    embargo dates. A year-bearing date beats a decade-only one.
    """
    with_year = [c for c in candidates if c.year is not None]
    pool = with_year or candidates
    if not pool:
        return None
    return min(pool, key=lambda c: (c.sort_key[:4], c.sort_key, -len(c.date or "")))
