"""SLA timers in business time on the time-skipping server: a case filed at 17:50 before a holiday is not
breached during it, a make-up Saturday counts as a workday, the warning lands at 80% of business time, and a
holiday published late is repaired into an open case.

The holidays are entered as the deployment's own days (a notice the holiday library does not have yet),
next to the filing date the test server's clock allows (it cannot go back to a past National Day; the
library's real National Days are covered by tests/domain/test_calendars.py).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from client.api import ComplaintClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.calendars import CalendarDays
from domain.cases import Category
from domain.clock import at_local, local_day
from domain.intake import ComplaintIntake
from domain.policy import Policy
from stories.bill_discrepancy import BILL_OVERCHARGE_CUSTOMER
from tests.conftest import engine
from tests.helpers import reset_sandboxes, wait_until
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

AGENT = Actor(id="agent-li", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def overcharge_intake() -> ComplaintIntake:
    """A bill discrepancy whose double refund waits for a supervisor: the case stays open on store hours."""
    return ComplaintIntake(
        complaint_id=f"bill-discrepancy-{uuid.uuid4().hex[:10]}",
        category=Category.BILL_DISCREPANCY,
        msisdn=BILL_OVERCHARGE_CUSTOMER.msisdn,
        customer_name=BILL_OVERCHARGE_CUSTOMER.name,
        description="系统扣费比网站多",
        filed_by=AGENT,
    )


async def next_thursday(env: WorkflowEnvironment) -> date:
    today = local_day(await env.get_current_time())
    return today + timedelta(days=(3 - today.weekday()) % 7 or 7)


async def file_at(
    env: WorkflowEnvironment, client: ComplaintClient, when: datetime, case: ComplaintIntake
) -> CaseView:
    """Let the server's clock run to `when`, file there, and wait until the double refund awaits approval."""
    await env.sleep(when - await env.get_current_time())
    await client.file(case)

    def awaiting_approval(view: CaseView) -> bool:
        return any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values())

    return await wait_until(client, case.complaint_id, awaiting_approval, "a double refund awaiting approval")


def minute(instant: datetime | None) -> datetime | None:
    """To the minute: filing lands a few milliseconds after the instant the test's clock ran to."""
    return None if instant is None else instant.replace(second=0, microsecond=0)


def instants(view: CaseView, event_type: type[ev.Event]) -> list[datetime | None]:
    return [minute(event.at) for event in view.timeline if isinstance(event, event_type)]


async def test_a_case_filed_at_17_50_before_a_holiday_is_due_on_the_first_workday_after_it(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    thursday = await next_thursday(time_skipping_env)
    friday, monday, tuesday = (thursday + timedelta(days=n) for n in (1, 4, 5))
    holidays = CalendarDays(days={friday: "holiday", monday: "holiday"}, note="a late notice: Fri and Mon off")
    policy = Policy(version="holiday-notice", calendar_days=holidays)
    case = overcharge_intake()
    async with engine(time_skipping_env, deps, policy=policy) as client:
        filed = await file_at(time_skipping_env, client, at_local(thursday, 17, 50), case)
        # Into the long weekend: nothing warns or breaches while the store is closed.
        await time_skipping_env.sleep(at_local(tuesday, 9, 0) - await time_skipping_env.get_current_time())
        during = await client.view(case.complaint_id)
        await time_skipping_env.sleep(at_local(tuesday, 18, 0) - await time_skipping_env.get_current_time())
        after = await client.view(case.complaint_id)

    assert minute(filed.state.filed_at) == at_local(thursday, 17, 50)
    resolve = filed.state.clocks["resolve"]
    assert resolve.calendar is not None and resolve.calendar.name == "store-hours"
    # 8 store hours: 10 minutes on Thursday, 7 h 50 on Tuesday (09:00-12:00, 13:00-17:50).
    assert minute(filed.state.sla_due_at) == at_local(tuesday, 17, 50)
    assert instants(during, ev.SlaWarned) == [] and instants(during, ev.SlaBreached) == []
    # The warning at 80%: 6 h 24 of business time, 10 minutes on Thursday and 6 h 14 on Tuesday.
    assert instants(after, ev.SlaWarned) == [at_local(tuesday, 16, 14)]
    assert instants(after, ev.SlaBreached) == [at_local(tuesday, 17, 50)]
    # The case records what it runs under: the policy version and the deployment's days.
    assert after.state.rules.version == "holiday-notice"
    assert after.state.rules.calendar is not None and friday in after.state.rules.calendar.holidays


async def test_a_make_up_saturday_counts_as_a_workday(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    thursday = await next_thursday(time_skipping_env)
    friday, saturday = thursday + timedelta(days=1), thursday + timedelta(days=2)
    swap = CalendarDays(days={friday: "holiday", saturday: "workday"}, note="Friday off, worked on Saturday")
    case = overcharge_intake()
    async with engine(time_skipping_env, deps, policy=Policy(version="make-up-day", calendar_days=swap)) as client:
        filed = await file_at(time_skipping_env, client, at_local(thursday, 17, 50), case)
        await time_skipping_env.sleep(at_local(saturday, 18, 0) - await time_skipping_env.get_current_time())
        after = await client.view(case.complaint_id)

    assert minute(filed.state.sla_due_at) == at_local(saturday, 17, 50)
    assert instants(after, ev.SlaWarned) == [at_local(saturday, 16, 14)]
    assert instants(after, ev.SlaBreached) == [at_local(saturday, 17, 50)]


async def test_a_holiday_published_late_is_repaired_into_an_open_case_with_the_reason_and_the_actor(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    thursday = await next_thursday(time_skipping_env)
    friday, monday = thursday + timedelta(days=1), thursday + timedelta(days=4)
    published: list[Policy] = [Policy(version="v1")]
    case = overcharge_intake()
    async with engine(time_skipping_env, deps, policy=lambda: published[-1]) as client:
        filed = await file_at(time_skipping_env, client, at_local(thursday, 17, 50), case)
        assert minute(filed.state.sla_due_at) == at_local(friday, 17, 50)
        # Before the deadline, the deployment corrects its days: Friday is a holiday after all.
        published.append(Policy(version="v2", calendar_days=CalendarDays(days={friday: "holiday"})))
        outcome = await client.repair_sla(case.complaint_id, "Friday declared a holiday", signed(SUPERVISOR))
        again = await client.repair_sla(case.complaint_id, "once more", signed(SUPERVISOR))
        repaired = await client.view(case.complaint_id)
        await time_skipping_env.sleep(at_local(monday, 18, 0) - await time_skipping_env.get_current_time())
        after = await client.view(case.complaint_id)

    assert (outcome, again) == ("recalculated", "unchanged")
    (event,) = [e for e in repaired.timeline if isinstance(e, ev.SlaRecalculated)]
    assert (event.reason, event.actor.id, event.policy_version) == ("Friday declared a holiday", SUPERVISOR.id, "v2")
    # The case keeps its policy version; only its days moved, and its deadline with them.
    assert repaired.state.rules.version == "v1"
    assert minute(repaired.state.sla_due_at) == at_local(monday, 17, 50)
    assert instants(after, ev.SlaBreached) == [at_local(monday, 17, 50)]


async def test_the_miit_answer_deadline_warns_then_escalates_to_regional_support(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    thursday = await next_thursday(time_skipping_env)
    case = overcharge_intake()
    async with engine(time_skipping_env, deps, policy=Policy(version="v1")) as client:
        filed = await file_at(time_skipping_env, client, at_local(thursday, 17, 50), case)
        due = filed.state.miit_answer_due
        assert due is not None
        await time_skipping_env.sleep(due + timedelta(minutes=1) - await time_skipping_env.get_current_time())
        after = await client.view(case.complaint_id)

    # Day 1 is the day after filing; the deadline is the end of day 15, or of the first workday after it.
    assert local_day(due - timedelta(microseconds=1)) >= thursday + timedelta(days=15)
    assert due.astimezone(at_local(thursday, 0, 0).tzinfo).hour == 16  # local midnight is 16:00 UTC
    warned = [e for e in after.timeline if isinstance(e, ev.SlaWarned) and e.clock == "miit_answer"]
    breached = [e for e in after.timeline if isinstance(e, ev.SlaBreached) and e.clock == "miit_answer"]
    assert [e.due_at for e in warned] == [due] and [e.due_at for e in breached] == [due]
    filed_at = filed.state.filed_at
    assert minute(warned[0].at) == minute(filed_at + (due - filed_at) * 80 / 100)
    assert minute(breached[0].at) == minute(due)
    escalation = next(e for e in after.timeline if isinstance(e, ev.CaseEscalated) and "MIIT" in e.reason)
    assert escalation.to_role is Role.REGIONAL_SUPPORT
