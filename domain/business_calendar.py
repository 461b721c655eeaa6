"""Business calendars as data, and business-time arithmetic on them. Pure: no clock, no I/O.

A calendar is the working hours of each weekday (a lunch break is two intervals), a time zone, and the
days the State Council moves: public holidays (a weekday off) and make-up workdays (调休, a Saturday or
Sunday worked). A make-up day keeps Monday's hours, as stores and offices do.

The days are complete only for `known_years`, the years whose notice the calendar has. For any other
year the calendar falls back to plain weekdays (plus any day it was given), and says so
(`fallback_years`) so the case and the logs can record it: a deadline is still computed, never refused.

Business time between two instants is the part of the interval that falls inside working hours; adding
business time walks working intervals forward. A 24x7 calendar (every minute works) is plain wall time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import cached_property
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_serializer, model_validator

from domain.clock import SHANGHAI

DAY_MINUTES = 24 * 60
# How far `add_business` walks before giving up on a calendar with no working time in reach: ten years.
_MAX_DAYS = 3660


class BusinessCalendar(BaseModel):
    """Working hours per weekday in a time zone, with holidays and make-up workdays for the years it knows.

    `hours[weekday]` lists the working intervals of that weekday (Monday is 0) as minutes after local
    midnight, e.g. `[(540, 720), (780, 1080)]` for 09:00-12:00 and 13:00-18:00.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    time_zone: str = "Asia/Shanghai"
    hours: tuple[
        list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]],
        list[tuple[int, int]], list[tuple[int, int]], list[tuple[int, int]],
    ]
    # Whether public holidays and make-up days apply at all (a 24x7 desk ignores them).
    observes_holidays: bool = True
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    # The years the calendar was built for, and those among them whose notice it has in full.
    years: frozenset[int] = frozenset()
    known_years: frozenset[int] = frozenset()
    # Where the days came from, for people reading a case: library name and version, deployment file.
    source: str = ""

    @model_validator(mode="after")
    def _hours_are_ordered(self) -> BusinessCalendar:
        for intervals in self.hours:
            previous_end = 0
            for start, end in intervals:
                if not previous_end <= start < end <= DAY_MINUTES:
                    raise ValueError(f"working intervals must be ordered, disjoint and within a day: {intervals}")
                previous_end = end
        if not any(self.hours):
            raise ValueError("a calendar needs working hours on at least one weekday")
        return self

    @field_serializer("holidays", "workdays", "years", "known_years")
    def _sorted(self, days: frozenset[date] | frozenset[int]) -> list[date | int]:
        # A set's order follows the process's hash seed: unsorted, the same calendar saved by one process
        # and read back by another (a case's history against its event store) would differ.
        return sorted(days)

    @cached_property
    def zone(self) -> tzinfo:
        """The time zone the calendar's business hours are in."""
        # China keeps UTC+8 without daylight saving: the fixed offset needs no time-zone database.
        return SHANGHAI if self.time_zone == "Asia/Shanghai" else ZoneInfo(self.time_zone)

    @property
    def is_round_the_clock(self) -> bool:
        """Every minute of every day works: business time is wall time."""
        return not self.observes_holidays and all(h == [(0, DAY_MINUTES)] for h in self.hours)

    def knows(self, day: date) -> bool:
        """Whether the holidays and make-up days of `day`'s year are known (else: plain weekdays)."""
        return not self.observes_holidays or day.year in self.known_years

    def is_workday(self, day: date) -> bool:
        """Whether `day` is worked: a weekday that is no holiday, or a make-up day."""
        # Days the calendar was given apply even in a year it does not know in full (a deployment may
        # enter one holiday early); the rest of such a year falls back to weekdays.
        if self.observes_holidays:
            if day in self.holidays:
                return False
            if day in self.workdays:
                return True
        return bool(self.hours[day.weekday()])

    def intervals(self, day: date) -> list[tuple[int, int]]:
        """The working intervals of `day`, in minutes after local midnight."""
        if not self.is_workday(day):
            return []
        if self.hours[day.weekday()]:
            return self.hours[day.weekday()]
        # A make-up day on a day that normally rests works a Monday.
        return self.hours[0] or next(h for h in self.hours if h)

    def fallback_years(self, start: datetime, end: datetime) -> list[int]:
        """The years between two instants whose days this calendar does not know."""
        if not self.observes_holidays:
            return []
        first, last = self.local_day(min(start, end)).year, self.local_day(max(start, end)).year
        return [year for year in range(first, last + 1) if year not in self.known_years]

    def local_day(self, instant: datetime) -> date:
        """The calendar day `instant` falls on in the calendar's time zone."""
        return instant.astimezone(self.zone).date()

    def instant(self, day: date, minute: int) -> datetime:
        """The UTC instant of `minute` after local midnight of `day` (1440 is the next midnight)."""
        if minute >= DAY_MINUTES:
            day, minute = day + timedelta(days=1), minute - DAY_MINUTES
        local = datetime.combine(day, time(minute // 60, minute % 60), self.zone)
        return local.astimezone(UTC)

    def working_spans(self, day: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of `day` as UTC instants."""
        return [(self.instant(day, start), self.instant(day, end)) for start, end in self.intervals(day)]


def add_business(calendar: BusinessCalendar | None, start: datetime, duration: timedelta) -> datetime:
    """The instant when `duration` of business time has passed after `start` (None: wall time).

    A start outside working hours counts from the next working minute; a zero duration then is that
    minute. The result is the end of the last working span used, never inside a break.
    """
    if calendar is None or calendar.is_round_the_clock:
        return start + duration
    if duration < timedelta(0):
        raise ValueError("business time cannot be negative")
    remaining = duration
    day = calendar.local_day(start)
    for _ in range(_MAX_DAYS):
        for span_start, span_end in calendar.working_spans(day):
            if span_end <= start:
                continue
            begin = max(span_start, start)
            available = span_end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        day += timedelta(days=1)
    # Unreachable for a valid calendar (every year it does not know falls back to weekdays with hours).
    raise ValueError(f"calendar {calendar.name!r} has no working time within ten years of {start.isoformat()}")


def business_between(calendar: BusinessCalendar | None, start: datetime, end: datetime) -> timedelta:
    """The business time from `start` to `end` (zero when `end` is not after `start`; None: wall time)."""
    if end <= start:
        return timedelta(0)
    if calendar is None or calendar.is_round_the_clock:
        return end - start
    total = timedelta(0)
    day, last = calendar.local_day(start), calendar.local_day(end)
    while day <= last:
        for span_start, span_end in calendar.working_spans(day):
            overlap = min(span_end, end) - max(span_start, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def next_workday(calendar: BusinessCalendar, day: date) -> date:
    """`day` itself if it is worked, else the first workday after it."""
    for _ in range(_MAX_DAYS):
        if calendar.is_workday(day):
            return day
        day += timedelta(days=1)
    raise ValueError(f"calendar {calendar.name!r} has no workday within ten years of {day.isoformat()}")
