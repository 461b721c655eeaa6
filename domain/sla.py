"""Service levels per category and priority, and the escalation ladder. Data, not code paths.

Defaults, and why:
Each deadline is business time on the calendar its category names (domain/calendars.py):
- forwarding_cancel resolves within 30 minutes, round the clock (24x7): the seed's customer cannot
  receive calls and threatens to go back to Unicom (churn risk), so it is the tightest deadline.
- Money disputes (billing_spike, bill_discrepancy, arrears_dispute) get one working day (8 store hours)
  to resolve: the evidence is in our own systems, and the people who check it work store hours, so a
  dispute filed before a holiday is due after it.
- spam_sms gets 4 hours round the clock: unsubscribing and reporting are quick, and every hour brings
  more junk.
- tariff_dispute gets 3 working days (24 store hours): it needs the agent store (a partner) to verify
  jointly.
- validity_shortened gets 2 working days (16 store hours): the balance history needs the support team.
- Every case must be acknowledged within 15 minutes of filing (5 for forwarding_cancel), in its
  calendar's time.
- Higher priorities shrink every deadline: high to half, urgent to a quarter.
- A customer who does not answer gets a reminder after 24 hours (wall time: the customer's, not ours)
  and the case closes as unconfirmed after 72; forwarding_cancel asks again after 10 minutes and closes
  after 2 hours, since the customer is travelling and the fix either works now or the case must be
  picked up again.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from domain.actors import Role
from domain.calendars import ROUND_THE_CLOCK, STORE_HOURS, CalendarName
from domain.cases import Category, Priority

ACKNOWLEDGE = "acknowledge"
RESOLVE = "resolve"

# The ladder a stalled case climbs, one rung per breach; the last rung repeats.
ESCALATION_LADDER: tuple[Role, ...] = (
    Role.AGENT,
    Role.STORE_MANAGER,
    Role.REGIONAL_SUPPORT,
    Role.SUPERVISOR,
)


class SlaPolicy(BaseModel):
    """The deadlines of one category at one priority, in business time on the calendar it names."""

    model_config = ConfigDict(frozen=True)

    # Policies recorded before calendars existed ran round the clock: the default keeps them so.
    calendar: CalendarName = ROUND_THE_CLOCK
    acknowledge_within: timedelta
    resolve_within: timedelta
    remind_customer_after: timedelta
    close_unconfirmed_after: timedelta
    # After a breach, how long the case may stay stalled before climbing the next rung.
    re_escalate_after: timedelta


def _policy(
    acknowledge: timedelta,
    resolve: timedelta,
    remind: timedelta = timedelta(hours=24),
    close: timedelta = timedelta(hours=72),
    calendar: CalendarName = STORE_HOURS,
) -> SlaPolicy:
    return SlaPolicy(
        calendar=calendar,
        acknowledge_within=acknowledge,
        resolve_within=resolve,
        remind_customer_after=remind,
        close_unconfirmed_after=close,
        re_escalate_after=resolve / 2,
    )


_MINUTES = timedelta(minutes=1)
_HOURS = timedelta(hours=1)
# One working day of the store-hours calendar.
_WORKING_DAY = 8 * _HOURS

NORMAL_PRIORITY_POLICIES: dict[Category, SlaPolicy] = {
    Category.FORWARDING_CANCEL: _policy(
        5 * _MINUTES, 30 * _MINUTES, 10 * _MINUTES, 2 * _HOURS, calendar=ROUND_THE_CLOCK
    ),
    Category.BILLING_SPIKE: _policy(15 * _MINUTES, _WORKING_DAY),
    Category.ARREARS_DISPUTE: _policy(15 * _MINUTES, _WORKING_DAY),
    Category.BILL_DISCREPANCY: _policy(15 * _MINUTES, _WORKING_DAY),
    Category.VALIDITY_SHORTENED: _policy(15 * _MINUTES, 2 * _WORKING_DAY),
    Category.SPAM_SMS: _policy(15 * _MINUTES, 4 * _HOURS, calendar=ROUND_THE_CLOCK),
    Category.TARIFF_DISPUTE: _policy(15 * _MINUTES, 3 * _WORKING_DAY),
}

_PRIORITY_FACTOR: dict[Priority, tuple[int, int]] = {
    Priority.NORMAL: (1, 1),
    Priority.HIGH: (1, 2),
    Priority.URGENT: (1, 4),
}


def policy_for(category: Category, priority: Priority) -> SlaPolicy:
    """The deadlines that apply to a case.

    Customer waits are not shortened by priority: they are the customer's time, not ours.
    """
    base = NORMAL_PRIORITY_POLICIES[category]
    numerator, denominator = _PRIORITY_FACTOR[priority]

    def scaled(duration: timedelta) -> timedelta:
        return duration * numerator / denominator

    return base.model_copy(
        update={
            "acknowledge_within": scaled(base.acknowledge_within),
            "resolve_within": scaled(base.resolve_within),
            "re_escalate_after": scaled(base.re_escalate_after),
        }
    )


def escalation_role(level: int) -> Role:
    """Who a case escalated `level` times answers to."""
    return ESCALATION_LADDER[min(level, len(ESCALATION_LADDER) - 1)]
