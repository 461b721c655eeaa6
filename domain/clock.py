"""The store's time zone and the calendar helpers built on it. Pure: no clock is read here.

Times are stored in UTC and shown in Asia/Shanghai. China has kept UTC+8 without daylight saving
since 1991, so a fixed offset needs no time-zone database: billing days, periods and validity dates
run from Shanghai midnight.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone

SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")


def at_local(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall-clock time at the store, as the UTC instant the database keeps."""
    return datetime.combine(day, time(hour, minute, second), SHANGHAI).astimezone(UTC)


def local_midnight(day: date) -> datetime:
    """The instant a calendar day at the store begins, in UTC."""
    return at_local(day, 0, 0)


def local_day(instant: datetime) -> date:
    """The calendar day at the store of an instant."""
    return instant.astimezone(SHANGHAI).date()


def format_local(instant: datetime) -> str:
    """An instant as people at the counter read it: `2026-11-25 14:05:09`, Asia/Shanghai."""
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
