"""SLA repair: when the deployment corrects its calendar days, which open cases' deadlines move. Pure.

A case keeps its policy version (its figures), but its calendars are rebuilt with the corrected days for
the years it carries. The change is recorded as an `SlaRecalculated` event by the case's own workflow,
with the reason and the actor: history is never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.business_calendar import BusinessCalendar
from domain.calendars import REGULATOR_DAYS, CalendarDays, build_calendar, case_years
from domain.clock import local_day
from domain.state import ComplaintState


@dataclass(frozen=True)
class Recalculation:
    """The corrected calendars of one case, and where its earliest running deadline goes."""

    complaint_id: str
    calendar: BusinessCalendar
    regulator_calendar: BusinessCalendar
    due_before: datetime | None
    due_after: datetime | None


def _same_days(a: BusinessCalendar | None, b: BusinessCalendar) -> bool:
    return a is not None and (a.holidays, a.workdays, a.known_years) == (b.holidays, b.workdays, b.known_years)


def recalculation(state: ComplaintState, days: CalendarDays) -> Recalculation | None:
    """The case's calendars rebuilt with `days`; None if nothing changes (or it runs on wall time only)."""
    recorded = state.rules.calendar
    if recorded is None or not recorded.observes_holidays or not state.is_open:
        return None
    years = sorted(recorded.years) or list(case_years(local_day(state.filed_at)))
    calendar = build_calendar(recorded.name, years, days)
    regulator = build_calendar(REGULATOR_DAYS, years, days)
    if _same_days(recorded, calendar) and _same_days(state.rules.regulator_calendar, regulator):
        return None
    after = state.model_copy(
        update={"clocks": {
            name: clock.model_copy(update={"calendar": calendar}) if clock.calendar is not None else clock
            for name, clock in state.clocks.items()
        }}
    )
    return Recalculation(state.complaint_id, calendar, regulator, state.sla_due_at, after.sla_due_at)
