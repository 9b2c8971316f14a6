"""Source schedules: an interval ("30m", "6h", "1d") from the start of the last run, or a cron expression.

A cron expression has five fields and is read in the server's local time zone. A
source never harvested is due at once; a missed run is due once, not once per
missed slot (the next time is always computed from the last run's start).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from croniter import croniter

from fedsearch.config import SourceConfig
from fedsearch.errors import FedsearchError
from rawstore.models import parse_time
from rawstore.store import RawStore

_INTERVAL = re.compile(r"^\s*(\d{1,5})\s*([mhd])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


class InvalidSchedule(FedsearchError, ValueError):
    error_code = "schedule.invalid"


def utcnow() -> datetime:
    return datetime.now(UTC)


def parse_schedule(text: str) -> timedelta | str:
    """An interval as a timedelta, or a cron expression as given; InvalidSchedule if neither."""
    m = _INTERVAL.match(text or "")
    if m:
        delta = timedelta(**{_UNITS[m.group(2)]: int(m.group(1))})
        if delta < timedelta(minutes=1):
            raise InvalidSchedule("the interval must be at least 1 minute")
        return delta
    expr = " ".join((text or "").split())
    if len(expr.split(" ")) == 5 and croniter.is_valid(expr):
        return expr
    raise InvalidSchedule(
        f"{text!r} is neither an interval (a number and m, h or d: 30m, 6h, 1d) "
        'nor a five-field cron expression (minute hour day month weekday, e.g. "0 3 * * *")'
    )


def next_run(schedule: str | None, last_started: datetime | None, now: datetime | None = None) -> datetime | None:
    """When a source with this schedule runs next (UTC); None without a schedule.

    From the last run's start: a missed run is due at once, and only once.
    """
    if not schedule:
        return None
    rule = parse_schedule(schedule)
    if last_started is None:
        return now or utcnow()
    if isinstance(rule, timedelta):
        return last_started + rule
    local = last_started.astimezone()  # cron reads the server's local time
    return croniter(rule, local).get_next(datetime).astimezone(UTC)


def source_next_run(source: SourceConfig, store: RawStore, now: datetime | None = None) -> datetime | None:
    """The next scheduled run of a source (None: disabled or no schedule); InvalidSchedule for a bad one."""
    if not source.enabled or not source.schedule:
        return None
    last = store.last_run(source.id)
    return next_run(source.schedule, parse_time(last.started_at) if last else None, now)
