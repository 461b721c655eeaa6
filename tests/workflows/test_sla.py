"""SLA timers on the time-skipping server: warnings, escalations, reminders, pauses and reopening."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain.actors import Actor, Role
from domain.cases import Status
from tests.conftest import engine
from tests.helpers import (
    forwarding_intake,
    minutes_after,
    reset_sandboxes,
    set_partner_faults,
    wait_for_question,
)
from tests.identity import signed
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
MANAGER = Actor(id="manager-wang", role=Role.STORE_MANAGER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def test_warning_breach_and_second_escalation_fire_on_time(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    """The partner stays down: warned at 24 min, escalated at 30 (store manager) and 45 (regional support)."""
    await set_partner_faults(partner_url, error_rate=1.0)
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await time_skipping_env.sleep(46 * 60)
        view = await client.view(intake.complaint_id)
        await handle.terminate("test over")
        history = await handle.fetch_history()

    filed = view.state.filed_at
    assert minutes_after(view, "SlaWarned", filed) == [24.0]
    resolve_breaches = [e for e in view.timeline if e.type == "SlaBreached" and e.clock == "resolve"]
    assert [round((e.at - filed).total_seconds() / 60, 2) for e in resolve_breaches] == [30.0, 45.0]
    escalations = [e for e in view.timeline if e.type == "CaseEscalated"]
    assert [(e.level, e.to_role) for e in escalations] == [(1, Role.STORE_MANAGER), (2, Role.REGIONAL_SUPPORT)]
    assert view.state.escalation_level == 2
    # The unanswered partner request's own 30-minute window goes to the partner desk, not up our ladder.
    (sent,) = [e for e in view.timeline if e.type == "PartnerRequestSent"]
    (window,) = [e for e in view.timeline if e.type == "SlaBreached" and e.clock.startswith("partner_window:")]
    assert window.clock == f"partner_window:{sent.request_key}" and window.due_at == sent.at + timedelta(minutes=30)
    async with deps.pool.acquire() as conn:
        outbox = await conn.fetch(
            "SELECT recipient_role FROM notification_outbox WHERE complaint_id = $1 ORDER BY id", intake.complaint_id
        )
    assert [row["recipient_role"] for row in outbox] == ["agent", "store_manager", "partner_desk", "regional_support"]
    # Each notice rode with the events that led to it: one activity each, no separate save before it.
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.HasField("activity_task_scheduled_event_attributes")
    ]
    assert activities.count("save_and_notify") == 4 and "notify" not in activities


async def test_a_silent_customer_is_reminded_then_the_case_closes_unconfirmed(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        asked = (await wait_for_question(client, intake.complaint_id)).state.pending_question
        assert asked is not None
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)

    assert outcome.close_reason == "unconfirmed"
    assert minutes_after(view, "CustomerReminded", asked.asked_at) == [10.0]
    assert minutes_after(view, "ComplaintClosed", asked.asked_at) == [120.0]


async def test_a_case_reopened_within_the_window_runs_its_clock_again(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        # The case closes on the answer, no timer needed: waiting without time skipping keeps the test
        # server's clock from running on, once nothing is left to run, past the 7-day reopen window.
        with time_skipping_env.auto_time_skipping_disabled():
            await handle.result()

        reopened = await client.reopen(intake.complaint_id, "calls are forwarded again", signed(CUSTOMER))
        view = await client.view(intake.complaint_id)
        assert view.state.status is Status.INVESTIGATING and view.state.reopened == 1
        assert view.state.sla_due_at is not None
        await client.resolve(intake.complaint_id, "forwarding_cancelled_again", "cancelled by phone", signed(MANAGER))
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await reopened.result()
        view = await client.view(intake.complaint_id)

    assert outcome.outcome == "forwarding_cancelled_again" and outcome.close_reason == "confirmed"
    types = [e.type for e in view.timeline]
    assert types.count("ComplaintClosed") == 2 and "ComplaintReopened" in types
    stored = await deps_store(deps).load(intake.complaint_id)
    assert [e.seq for e in stored] == list(range(1, len(view.timeline) + 1))
    assert await deps_store(deps).verify(intake.complaint_id) is None


async def test_reopening_an_open_case_is_refused(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    from domain.errors import InvalidCommand

    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        with pytest.raises(InvalidCommand, match="still open"):
            await client.reopen(intake.complaint_id, "again", signed(CUSTOMER))
        await handle.terminate("test over")


async def test_reassign_moves_the_case_and_its_warnings(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    await set_partner_faults(partner_url, error_rate=1.0)
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await client.reassign(intake.complaint_id, "agent-zhou", signed(MANAGER), reason="li is off today")
        await time_skipping_env.sleep(25 * 60)
        view = await client.view(intake.complaint_id)
        await handle.terminate("test over")
    assert view.state.assignee == "agent-zhou"
    async with deps.pool.acquire() as conn:
        recipient = await conn.fetchval(
            "SELECT recipient FROM notification_outbox WHERE complaint_id = $1 AND recipient_role = 'agent'",
            intake.complaint_id,
        )
    assert recipient == "agent-zhou"


def deps_store(deps: Dependencies):
    from store.event_store import PostgresEventStore

    return PostgresEventStore(deps.pool)


async def test_waiting_on_the_customer_moves_the_deadline_by_exactly_the_wait(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """arrears_dispute: two hours of silence on the settle question, then a waiver that waits for a
    supervisor nobody sends. The clock (one working day, 8 store hours) warns and breaches later than
    unpaused by exactly the business part of the wait: none of it if the store was closed."""
    import uuid
    from datetime import timedelta

    from domain.business_calendar import add_business, business_between
    from domain.intake import ComplaintIntake
    from stories.arrears_dispute import ARREARS_CUSTOMER

    intake = ComplaintIntake(
        complaint_id=f"ARREARS-{uuid.uuid4().hex[:10]}",
        category="arrears_dispute",
        msisdn=ARREARS_CUSTOMER.msisdn,
        customer_name=ARREARS_CUSTOMER.name,
        description="神州行轻松卡已销户, 不可能欠费",
        filed_by=Actor(id="agent-li", role=Role.AGENT),
    )
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        asked = await wait_for_question(client, intake.complaint_id)
        assert asked.state.sla_due_at is None  # paused: not running while we wait
        await time_skipping_env.sleep(2 * 60 * 60)
        await client.answer(intake.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        # Long enough for 8 store hours to pass over a weekend and a holiday.
        await time_skipping_env.sleep(6 * 24 * 60 * 60)
        view = await client.view(intake.complaint_id)
        await handle.terminate("test over")

    resolve = view.state.clocks["resolve"]
    resumed = next(e for e in view.timeline if e.type == "SlaClockResumed")
    paused = next(e for e in view.timeline if e.type == "SlaClockPaused")
    pause = timedelta(milliseconds=resumed.paused_ms)
    assert pause == resumed.at - paused.at
    assert pause >= timedelta(hours=2)
    calendar = resolve.calendar
    assert calendar is not None and calendar.name == "store-hours"
    business_pause = business_between(calendar, paused.at, resumed.at)
    assert resolve.paused_ms == business_pause // timedelta(milliseconds=1)
    warned = next(e for e in view.timeline if e.type == "SlaWarned" and e.clock == "resolve")
    breached = next(e for e in view.timeline if e.type == "SlaBreached" and e.clock == "resolve")
    budget = timedelta(hours=8)
    assert warned.due_at == breached.due_at == add_business(calendar, resolve.started_at, budget + business_pause)
    # The events carry the time the timer fired at, a few milliseconds after the mark it was set for.
    warn_mark = add_business(calendar, resolve.started_at, budget * 80 / 100 + business_pause)
    assert timedelta(0) <= warned.at - warn_mark < timedelta(seconds=1)
    assert timedelta(0) <= breached.at - breached.due_at < timedelta(seconds=1)
    first = next(e for e in view.timeline if e.type == "CaseEscalated")
    assert (first.level, first.to_role) == (1, Role.STORE_MANAGER)
