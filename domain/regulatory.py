"""The regulator's clocks, beside the internal SLA: each with its own rule and calendar. Pure.

Under the MIIT telecom complaint rules (电信用户申诉处理办法):
- the carrier answers within 15 days of filing, or the user may appeal. The days are counted as the rules
  count periods: the day of filing is not counted (the day after it is day 1), and a period ending on a
  holiday or rest day ends on the next workday. Nothing pauses it: a customer's silence does not stop
  the regulator's count.
- a billing dispute about charges older than 5 months is not accepted, and other disputes after 2 years.
The seed adds a 30-minute window for the partner carrier to answer each request, round the clock.
"""

from __future__ import annotations

import calendar as month_days
from datetime import date, datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from domain.business_calendar import BusinessCalendar, next_workday
from domain.cases import Category

MIIT_ANSWER = "miit_answer"
PARTNER_WINDOW = "partner_window"

BILLING_CATEGORIES = frozenset({Category.BILLING_SPIKE, Category.BILL_DISCREPANCY, Category.ARREARS_DISPUTE})


class RegulatoryRules(BaseModel):
    """The regulator's figures, configurable by the deployment's policy (a rule change is a new version)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    answer_days: int = Field(default=15, ge=1, le=90)
    billing_dispute_months: int = Field(default=5, ge=1, le=60)
    other_dispute_years: int = Field(default=2, ge=1, le=20)
    partner_window_minutes: int = Field(default=30, ge=1, le=24 * 60)


class Inadmissible(BaseModel):
    """Why a complaint is not accepted at intake: the rule, by name, and the limit it sets."""

    model_config = ConfigDict(frozen=True)

    rule: str
    oldest_accepted: date
    reason: str


def miit_answer_due(filed_at: datetime, workdays: BusinessCalendar, rules: RegulatoryRules) -> datetime:
    """The end of the last day the carrier may answer on (the next local midnight, as a UTC instant).

    Args:
        filed_at: when the complaint was filed.
        workdays: the calendar whose workdays a deadline may fall on (regulator-days).
        rules: the deployment's regulatory figures.
    """
    last_day = workdays.local_day(filed_at) + timedelta(days=rules.answer_days)
    return workdays.instant(next_workday(workdays, last_day), 24 * 60)


def miit_warn_at(filed_at: datetime, due: datetime, warn_percent: int) -> datetime:
    """The warning before the regulator's deadline: at `warn_percent` of the wall time to it."""
    return filed_at + (due - filed_at) * warn_percent / 100


def partner_window_due(sent_at: datetime, rules: RegulatoryRules) -> datetime:
    """When a partner request's window closes: round the clock, so plain wall time."""
    return sent_at + timedelta(minutes=rules.partner_window_minutes)


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, or the month's last day when it has no such day (31 Jul - 5 months)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, month_days.monthrange(year, month + 1)[1]))


def admissibility(
    category: Category, disputed_since: date | None, filed_on: date, rules: RegulatoryRules
) -> Inadmissible | None:
    """Whether a complaint about something that began on `disputed_since` may be accepted; None if it may.

    A complaint that names no date is accepted: the limit applies to what the customer disputes.
    """
    if disputed_since is None:
        return None
    if category in BILLING_CATEGORIES:
        oldest = months_before(filed_on, rules.billing_dispute_months)
        rule = f"MIIT: billing disputes older than {rules.billing_dispute_months} months are not accepted"
    else:
        oldest = months_before(filed_on, 12 * rules.other_dispute_years)
        rule = f"MIIT: disputes older than {rules.other_dispute_years} years are not accepted"
    if disputed_since >= oldest:
        return None
    return Inadmissible(
        rule=rule,
        oldest_accepted=oldest,
        reason=f"the disputed charges date from {disputed_since.isoformat()}, before {oldest.isoformat()}",
    )
