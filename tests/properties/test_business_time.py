"""Business-time arithmetic against a brute-force count, minute by minute, across holidays, make-up
workdays, lunch breaks, weekends and the end of a year the library does not know yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from domain.business_calendar import DAY_MINUTES, BusinessCalendar, add_business, business_between
from domain.calendars import STORE_HOURS, CalendarDays, build_calendar

SETTINGS = settings(max_examples=150, deadline=None)
MINUTE = timedelta(minutes=1)

# A deployment day in the year the library does not know (2027), beside the library's 2025-2026.
STORE = build_calendar(STORE_HOURS, [2025, 2026, 2027], CalendarDays(days={date(2027, 1, 4): "holiday"}))
# From before National Day 2025 to past the first week of 2027 (a fallback year).
FIRST = datetime(2025, 9, 20, tzinfo=UTC)
SPAN_MINUTES = int((datetime(2027, 1, 12, tzinfo=UTC) - FIRST) / MINUTE)


def brute_working(calendar: BusinessCalendar, minute_start: datetime) -> bool:
    """Whether the minute starting at `minute_start` is worked, by reading the calendar's definition."""
    local = minute_start.astimezone(calendar.zone)
    day = local.date()
    if calendar.observes_holidays and day in calendar.holidays:
        return False
    weekday_hours = calendar.hours[day.weekday()]
    if calendar.observes_holidays and day in calendar.workdays and not weekday_hours:
        # A make-up day works Monday's hours, or those of the first weekday that has any.
        weekday_hours = next(hours for hours in calendar.hours if hours)
    elif not weekday_hours:
        return False
    minute = local.hour * 60 + local.minute
    return any(start <= minute < end for start, end in weekday_hours)


def brute_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    count, at = 0, start
    while at < end:
        count += brute_working(calendar, at)
        at += MINUTE
    return count * MINUTE


hours_of_a_day = st.lists(st.integers(0, DAY_MINUTES), max_size=6, unique=True).map(
    lambda cuts: [(a, b) for a, b in zip(sorted(cuts)[::2], sorted(cuts)[1::2], strict=False)]
)


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    """The store's calendar, or random weekly hours (split shifts, weekend hours) with the same days."""
    if draw(st.booleans()):
        return STORE
    hours = draw(st.lists(hours_of_a_day, min_size=7, max_size=7).filter(any))
    return STORE.model_copy(update={"hours": tuple(hours)})


instants = st.integers(0, SPAN_MINUTES).map(lambda m: FIRST + m * MINUTE)
durations = st.integers(0, 5 * DAY_MINUTES).map(lambda m: m * MINUTE)


@SETTINGS
@given(calendar=calendars(), start=instants, length=st.integers(0, 6 * DAY_MINUTES))
# Filed 17:50 on the last workday before National Day 2025 (Sep 30), into the holiday week.
@example(calendar=STORE, start=datetime(2025, 9, 30, 9, 50, tzinfo=UTC), length=9 * DAY_MINUTES)
def test_business_time_between_two_instants_is_the_count_of_working_minutes(
    calendar: BusinessCalendar, start: datetime, length: int
) -> None:
    end = start + length * MINUTE
    assert business_between(calendar, start, end) == brute_between(calendar, start, end)


@SETTINGS
@given(calendar=calendars(), start=instants, duration=durations)
@example(calendar=STORE, start=datetime(2025, 9, 30, 9, 50, tzinfo=UTC), duration=timedelta(hours=8))
@example(calendar=STORE, start=datetime(2026, 12, 31, 9, 0, tzinfo=UTC), duration=timedelta(hours=8))
def test_adding_business_time_lands_on_the_first_instant_that_has_it(
    calendar: BusinessCalendar, start: datetime, duration: timedelta
) -> None:
    due = add_business(calendar, start, duration)
    assert business_between(calendar, start, due) == duration
    if duration > timedelta(0):
        # No earlier instant has it: the last minute before the deadline was worked.
        assert brute_working(calendar, due - MINUTE)
        assert brute_between(calendar, start, due) == duration


@SETTINGS
@given(calendar=calendars(), start=instants, first=durations, second=durations.filter(bool))
def test_adding_in_two_steps_is_adding_once(
    calendar: BusinessCalendar, start: datetime, first: timedelta, second: timedelta
) -> None:
    """What a pause relies on: the rest of a deadline, added after part of it, lands where the whole would."""
    whole = add_business(calendar, start, first + second)
    assert add_business(calendar, add_business(calendar, start, first), second) == whole


@SETTINGS
@given(start=instants, duration=durations)
def test_a_round_the_clock_calendar_is_wall_time(start: datetime, duration: timedelta) -> None:
    calendar = build_calendar("24x7", [2026])
    assert add_business(calendar, start, duration) == start + duration
    assert business_between(calendar, start, start + duration) == duration
