"""The worker's policy, handed to a case once, when it is filed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.logging import activity_log
from domain.calendars import CalendarDays
from domain.cases import Category, Priority
from domain.policy import CasePolicy, Policy


class PolicyRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    category: Category
    priority: Priority
    # The store's day of filing: the case's calendars carry that year's days and the next's.
    filed_on: date | None = None


class CalendarDaysAnswer(BaseModel):
    """The deployment's calendar days now, and the policy version they belong to."""

    model_config = ConfigDict(frozen=True)

    policy_version: str
    days: CalendarDays


class PolicyActivities:
    def __init__(self, current: Callable[[], Policy]) -> None:
        # A callable, not a value: a deployment that publishes a new policy version has it apply to cases
        # filed from then on, without a restart (see runtime.policy.PolicySource).
        self._current = current

    @activity.defn
    async def current_policy(self, request: PolicyRequest) -> CasePolicy:
        """The rules a new case of this category and priority runs under, from the worker's configuration."""
        policy = self._current().for_case(request.category, request.priority, request.filed_on)
        log = activity_log()
        log.debug("policy assigned", policy_version=policy.version)
        if policy.calendar_fallback_years:
            # Not an error: the deadlines are computed on plain weekdays for those years, and the case
            # records the calendar it got (known_years) in its first event.
            log.warning(
                "calendar falls back to weekdays",
                calendar=policy.sla.calendar,
                years=policy.calendar_fallback_years,
                policy_version=policy.version,
            )
        return policy

    @activity.defn
    async def current_calendar_days(self) -> CalendarDaysAnswer:
        """The deployment's own calendar days, for an SLA repair: the server's, never the caller's."""
        policy = self._current()
        return CalendarDaysAnswer(policy_version=policy.version, days=policy.calendar_days)
