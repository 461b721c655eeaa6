"""The deployment's named calendars, built from the holiday library plus the deployment's own days.

Holidays and make-up workdays come from `chinese-calendar`, which follows the State Council's yearly
notice and knows exactly the years announced when it was released (1.11.0: 2004-2026; it raises for
2027). `holidays` (python-holidays) agrees with it day for day on 2024-2026, but for a year not yet
announced it invents statutory days without the make-up Saturdays, which would be silently wrong; here
a year the library does not know is known to be unknown, and the calendar falls back to weekdays.

The deployment adds what the library does not have yet (next year's notice, entered the day it is
published) or corrects it, in the policy's `calendar` section (`CalendarDays`). Reading the library's
bundled tables is pure: no I/O, no clock.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from datetime import date
from importlib import metadata
from typing import Literal

import chinese_calendar
from pydantic import BaseModel, ConfigDict, Field

from domain.business_calendar import DAY_MINUTES, BusinessCalendar

CalendarName = Literal["24x7", "store-hours", "regulator-days"]
ROUND_THE_CLOCK: CalendarName = "24x7"
STORE_HOURS: CalendarName = "store-hours"
# The regulator counts whole days (workdays matter only for where a deadline may fall).
REGULATOR_DAYS: CalendarName = "regulator-days"

# Offices and the store desk: 09:00-12:00 and 13:00-18:00, Monday to Friday, eight working hours a day.
_OFFICE_DAY = [(9 * 60, 12 * 60), (13 * 60, 18 * 60)]
_WHOLE_DAY = [(0, DAY_MINUTES)]

_WEEKLY_HOURS: dict[str, tuple[list[tuple[int, int]], ...]] = {
    ROUND_THE_CLOCK: (_WHOLE_DAY,) * 7,
    STORE_HOURS: (_OFFICE_DAY,) * 5 + ([], []),
    REGULATOR_DAYS: (_WHOLE_DAY,) * 5 + ([], []),
}
CALENDAR_NAMES = tuple(_WEEKLY_HOURS)


class CalendarDays(BaseModel):
    """The deployment's own days, over the library's: a holiday added late, a notice not yet released.

    `days` maps a date to `holiday` (not worked) or `workday` (worked, e.g. a make-up Saturday).
    `known_years` are years the deployment vouches for in full (its notice entered): their days are
    used as given instead of falling back to weekdays.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    days: dict[date, Literal["holiday", "workday"]] = Field(default_factory=dict)
    known_years: frozenset[int] = frozenset()
    note: str = Field(default="", max_length=200)


def library_version() -> str:
    """The holiday library and its version, as calendars name their source."""
    try:
        return f"chinese-calendar {metadata.version('chinese-calendar')}"
    except metadata.PackageNotFoundError:  # pragma: no cover - the dependency is pinned
        return "chinese-calendar"


def library_years() -> range:
    """The years whose State Council notice the library has."""
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def build_calendar(name: str, years: Iterable[int], extra: CalendarDays | None = None) -> BusinessCalendar:
    """The calendar `name` with the days of `years`: the library's, then the deployment's over them.

    Raises:
        KeyError: `name` is not one of CALENDAR_NAMES.
    """
    # Memoised: every case filed in a year gets the same calendar, and what-if builds one per case.
    return _build(name, tuple(sorted(set(years))), (extra or CalendarDays()).model_dump_json())


@functools.lru_cache(maxsize=256)
def _build(name: str, years: tuple[int, ...], extra_json: str) -> BusinessCalendar:
    extra = CalendarDays.model_validate_json(extra_json)
    hours = _WEEKLY_HOURS[name]
    if name == ROUND_THE_CLOCK:
        return BusinessCalendar(name=name, hours=tuple(list(h) for h in hours), observes_holidays=False)  # type: ignore[arg-type]
    wanted = set(years)
    known = {year for year in wanted if year in library_years()} | (extra.known_years & wanted)
    holidays = {day for day in chinese_calendar.holidays if day.year in wanted}
    # The library's `workdays` table also lists ordinary weekdays; only weekend make-up days matter here.
    workdays = {day for day in chinese_calendar.workdays if day.year in wanted and day.weekday() >= 5}
    for day, kind in extra.days.items():
        if day.year not in wanted:
            continue
        (holidays if kind == "holiday" else workdays).add(day)
        (workdays if kind == "holiday" else holidays).discard(day)
    source = library_version() + (f" + deployment days ({extra.note or len(extra.days)})" if extra.days else "")
    return BusinessCalendar(
        name=name,
        hours=tuple(list(h) for h in hours),  # type: ignore[arg-type]
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        years=frozenset(wanted),
        known_years=frozenset(known),
        source=source,
    )


def case_years(filed_on: date) -> range:
    """The years a case's calendar carries: its filing year and the next (deadlines run weeks, not years)."""
    return range(filed_on.year, filed_on.year + 2)
