"""What-if and the compliance report read histories and change nothing: the same facts under other rules."""

from __future__ import annotations

from datetime import date, timedelta

from domain import events as ev
from domain.cases import Category, Priority
from domain.clock import at_local
from domain.policy import LEGACY_POLICY, Policy
from domain.sla_replay import replay, what_if
from domain.sla_report import compliance, percentile
from tests.domain.factories import Stream

FILED = at_local(date(2025, 9, 30), 17, 50)  # the last workday before National Day 2025
NOW = at_local(date(2025, 12, 1), 9, 0)


def billing_history(complaint_id: str, resolved_after: timedelta, *, paused: timedelta | None = None) -> list[ev.Event]:
    """A billing dispute recorded under the wall-clock rules (24 h), resolved `resolved_after` filing."""
    stream = Stream(complaint_id)
    stream.at = FILED
    legacy = LEGACY_POLICY.for_case(Category.BILLING_SPIKE, Priority.NORMAL).model_copy(
        update={"sla": LEGACY_POLICY.for_case(Category.BILLING_SPIKE, Priority.NORMAL).sla.model_copy(
            update={"calendar": "24x7", "resolve_within": timedelta(hours=24)}
        )}
    )
    events: list[ev.Event] = [
        stream.filed(category=Category.BILLING_SPIKE, policy=legacy),
        stream.next(ev.SlaClockStarted, clock="resolve", budget_seconds=24 * 3600, warn_percent=80),
    ]
    if paused is not None:
        events.append(stream.next(ev.SlaClockPaused, after=timedelta(minutes=10), clock="resolve", reason="customer"))
        events.append(stream.next(ev.SlaClockResumed, after=paused, clock="resolve",
                                  paused_ms=paused // timedelta(milliseconds=1)))
    stream.at = FILED + resolved_after
    events.append(stream.next(ev.SlaClockStopped, clock="resolve"))
    events.append(stream.next(ev.ComplaintResolved, outcome="refund", summary="refunded"))
    return events


def test_a_dispute_breached_over_the_holiday_by_wall_time_is_met_in_store_hours() -> None:
    history = billing_history("CASE-A", at_local(date(2025, 10, 9), 12, 0) - FILED)
    recorded = replay(history)
    store_hours = replay(history, Policy(version="v2"))
    assert recorded is not None and store_hours is not None
    assert recorded.breached(NOW) and recorded.policy_version == "legacy"
    assert not store_hours.breached(NOW) and store_hours.policy_version == "v2"
    # 10 minutes on 30 September and 3 hours on 9 October, in store hours.
    assert store_hours.time_to_resolve == timedelta(hours=3, minutes=10)


def test_what_if_counts_per_category_and_lists_the_cases_that_flip() -> None:
    holiday = billing_history("CASE-A", at_local(date(2025, 10, 9), 12, 0) - FILED)
    quick = billing_history("CASE-B", timedelta(minutes=5))
    rows, flips = what_if([holiday, quick], Policy(version="v2"), NOW)
    (row,) = rows
    assert (row.category, row.cases, row.breached_before, row.breached_after) == (Category.BILLING_SPIKE, 2, 1, 0)
    assert row.compliance_change_points == 50.0
    assert [(f.complaint_id, f.before, f.after) for f in flips] == [("CASE-A", "breached", "met")]


def test_a_pause_overnight_costs_a_store_hours_deadline_nothing() -> None:
    # Paused from 18:00 until 09:00 the next workday after the holiday: no store hours pass in it.
    overnight = at_local(date(2025, 10, 9), 9, 0) - FILED - timedelta(minutes=10)
    history = billing_history("CASE-C", at_local(date(2025, 10, 9), 17, 49) - FILED, paused=overnight)
    outcome = replay(history, Policy(version="v2"))
    assert outcome is not None and not outcome.breached(NOW)
    (run,) = outcome.runs
    assert run.due_at == at_local(date(2025, 10, 9), 17, 50)


def test_the_report_groups_counts_and_times_to_resolve() -> None:
    outcomes = [
        replay(billing_history("CASE-A", at_local(date(2025, 10, 9), 12, 0) - FILED)),
        replay(billing_history("CASE-B", timedelta(minutes=5))),
    ]
    (row,) = compliance([o for o in outcomes if o is not None], "category", NOW)
    assert (row.group, row.cases, row.met, row.breached, row.met_percent) == ("billing_spike", 2, 1, 1, 50.0)
    # Recorded on the wall clock: the holiday case took its full wall time.
    assert row.p90_to_resolve == at_local(date(2025, 10, 9), 12, 0) - FILED
    (week,) = compliance([o for o in outcomes if o is not None], "week", NOW)
    assert week.group == "2025-W40"
    assert percentile([timedelta(minutes=m) for m in range(1, 11)], 0.9) == timedelta(minutes=9)
