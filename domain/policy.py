"""The deployment's rules for cases: approval limit, SLA deadlines, warning share, reopen window. Pure data.

Policy belongs to the server, never to whoever files a case: the worker loads it from its own
configuration (settings or a versioned policy file), and each case records, in its first event, the
version and the content it runs under. A case keeps that policy for its whole life, through reopening
and through later versions the deployment publishes, the way in-flight cases keep their entitlement
version when the rules change.
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.business_calendar import BusinessCalendar
from domain.calendars import REGULATOR_DAYS, CalendarDays, build_calendar, case_years
from domain.cases import Category, Priority
from domain.regulatory import RegulatoryRules
from domain.sla import SlaPolicy, policy_for

# The policy's defaults, the one home of these figures (runtime/settings.py reads them from here).
# Adjustments above 50 yuan wait for a supervisor.
DEFAULT_APPROVAL_LIMIT_FEN = 5000
# A warning comes at this share of an SLA deadline.
DEFAULT_WARN_PERCENT = 80
# A case reopened within this window picks its clocks up again instead of being filed anew.
DEFAULT_REOPEN_WINDOW_DAYS = 7


class CasePolicy(BaseModel):
    """The rules one case runs under, as recorded in its first event."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=64)
    approval_limit_fen: int = Field(ge=0)
    warn_percent: int = Field(gt=0, lt=100)
    reopen_window_days: int = Field(ge=0, le=365)
    sla: SlaPolicy
    # The calendar the SLA clocks run on, with the days of the filing year and the next; None: wall time
    # (cases recorded before calendars, and policies handed out without a filing date).
    calendar: BusinessCalendar | None = None
    # The workdays the regulator's day counts use (where a deadline may fall).
    regulator_calendar: BusinessCalendar | None = None
    regulatory: RegulatoryRules = Field(default_factory=RegulatoryRules)

    @property
    def calendar_fallback_years(self) -> list[int]:
        """Years of this case's calendar without the State Council's days: weekdays stand in for them."""
        if self.calendar is None or not self.calendar.observes_holidays:
            return []
        return sorted(self.calendar.years - self.calendar.known_years)

    @property
    def reopen_window(self) -> timedelta:
        """How long after closing a customer may reopen a case."""
        return timedelta(days=self.reopen_window_days)


class Policy(BaseModel):
    """The deployment's policy: one version of the rules for every case filed while it is current.

    `sla_overrides` replaces domain.sla's table for some categories and priorities, keyed by category
    and then priority; what it does not name keeps the table's defaults.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    approval_limit_fen: int = Field(default=DEFAULT_APPROVAL_LIMIT_FEN, ge=0)
    warn_percent: int = Field(default=DEFAULT_WARN_PERCENT, gt=0, lt=100)
    reopen_window_days: int = Field(default=DEFAULT_REOPEN_WINDOW_DAYS, ge=0, le=365)
    sla_overrides: dict[Category, dict[Priority, SlaPolicy]] = Field(default_factory=dict)
    # The deployment's days over the holiday library's (a notice not released yet, a late correction).
    calendar_days: CalendarDays = Field(default_factory=CalendarDays)
    regulatory: RegulatoryRules = Field(default_factory=RegulatoryRules)

    def for_case(self, category: Category, priority: Priority, filed_on: date | None = None) -> CasePolicy:
        """The rules a case of this category and priority runs under.

        With `filed_on` (the store's day of filing) the rules carry the calendars of that year and the
        next, so the case's deadlines never depend on what the deployment publishes later.
        """
        sla = self.sla_overrides.get(category, {}).get(priority) or policy_for(category, priority)
        calendar = regulator = None
        if filed_on is not None:
            years = case_years(filed_on)
            calendar = build_calendar(sla.calendar, years, self.calendar_days)
            regulator = build_calendar(REGULATOR_DAYS, years, self.calendar_days)
        return CasePolicy(
            version=self.version,
            approval_limit_fen=self.approval_limit_fen,
            warn_percent=self.warn_percent,
            reopen_window_days=self.reopen_window_days,
            sla=sla,
            calendar=calendar,
            regulator_calendar=regulator,
            regulatory=self.regulatory,
        )



def content_version(
    approval_limit_fen: int = DEFAULT_APPROVAL_LIMIT_FEN,
    warn_percent: int = DEFAULT_WARN_PERCENT,
    reopen_window_days: int = DEFAULT_REOPEN_WINDOW_DAYS,
) -> str:
    """A version name for a policy given by settings alone: it changes exactly when a value changes."""
    content = f"{approval_limit_fen}/{warn_percent}/{reopen_window_days}"
    return "settings-" + hashlib.sha256(content.encode()).hexdigest()[:12]


def settings_policy(approval_limit_fen: int, warn_percent: int, reopen_window_days: int) -> Policy:
    """The policy of a deployment that has no policy file: the settings' values and domain.sla's table."""
    return Policy(
        version=content_version(approval_limit_fen, warn_percent, reopen_window_days),
        approval_limit_fen=approval_limit_fen,
        warn_percent=warn_percent,
        reopen_window_days=reopen_window_days,
    )


# What cases recorded before policies were versioned ran under: the defaults every deployment had.
LEGACY_POLICY = Policy(version="legacy")
