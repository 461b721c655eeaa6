"""forwarding_cancel on the time-skipping server, with the real event store and sandboxes."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from activities.event_store import AppendEventsInput
from adapters.billing import PostgresBillingSystem
from domain.actors import Actor, Role
from domain.intake import ComplaintIntake, parse_intake
from store.event_store import PostgresEventStore
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.people import STRANGER_ID_NUMBER
from tests.conftest import engine
from tests.domain.factories import intake_data
from tests.helpers import reset_sandboxes, wait_for_question
from tests.identity import signed
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


def forwarding_intake(**overrides: object) -> ComplaintIntake:
    return parse_intake(intake_data(complaint_id=f"FWD-{uuid.uuid4().hex[:10]}", **overrides))


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def partner_stats(partner_url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{partner_url}/admin/stats") as response:
        return await response.json()


async def steps_and_their_events(client: Client, handle: WorkflowHandle[Any, Any]) -> list[tuple[str, list[str]]]:
    """Each activity the run scheduled, with the types of the events its input carried to the event store."""
    steps = []
    for event in (await handle.fetch_history()).events:
        if event.HasField("activity_task_scheduled_event_attributes"):
            attributes = event.activity_task_scheduled_event_attributes
            payloads = list(attributes.input.payloads)
            name = attributes.activity_type.name
            saved: AppendEventsInput | None = None
            if name == "append_events":
                (saved,) = await client.data_converter.decode(payloads, [AppendEventsInput])
            elif len(payloads) == 2:  # a step's pending events (activities.pending)
                _, saved = await client.data_converter.decode(payloads, [dict, AppendEventsInput | None])
            steps.append((name, [e.type for e in saved.events] if saved is not None else []))
    return steps


async def test_forwarding_is_cancelled_and_the_case_closes_on_confirmation(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)
        steps = await steps_and_their_events(client.temporal, handle)

    assert outcome.status == "closed" and outcome.close_reason == "confirmed"
    assert outcome.outcome == "forwarding_cancelled"
    stats = await partner_stats(partner_url)
    assert stats["by_msisdn"][FORWARDING_CUSTOMER.partner_msisdn]["effective"] == 1
    customer = await PostgresBillingSystem(deps.pool).get_customer(FORWARDING_CUSTOMER.msisdn)
    assert customer.number_change_notice_active is False
    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert stored == view.timeline
    types = [e.type for e in view.timeline]
    assert types.index("IdentityVerified") < types.index("PartnerRequestConfirmed") < types.index(
        "BillingActionApplied"
    ) < types.index("ComplaintResolved") < types.index("ComplaintClosed")
    # The events ride with the step after them: the partner request is durable before the partner is called, in
    # the call's own activity, and the confirmation before the notice is cancelled in BOSS.
    assert ("cancel_forwarding", ["IdentityVerified", "PartnerRequestSent"]) in steps
    assert ("cancel_number_change_notice", ["PartnerRequestConfirmed"]) in steps
    # The opening rides with the first step. Saves of their own remain only where the case waits or ends: asking
    # the customer to confirm, and the answer with the close it leads to, in one (7 before events rode with steps,
    # 4 before saves gathered).
    assert ("open_cases_like", ["ComplaintFiled", "SlaClockStarted", "SlaClockStarted", "ComplaintAcknowledged",
                                "SlaClockStopped"]) in steps
    assert [events for name, events in steps if name == "append_events"] == [
        ["BillingActionApplied", "ComplaintResolved", "SlaClockStopped", "CustomerAsked"],
        ["CustomerAnswered", "ComplaintClosed"],
    ], steps


async def test_a_wrong_id_number_stops_the_cancel_and_says_why(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    intake = forwarding_intake(id_number=STRANGER_ID_NUMBER)
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        view = await client.view(intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "no", signed(CUSTOMER))
        outcome = await handle.result()

    rejected = [e for e in view.timeline if e.type == "IdentityRejected"]
    assert rejected and "ID number does not match" in rejected[0].reason
    assert STRANGER_ID_NUMBER not in rejected[0].reason
    assert "PartnerRequestSent" not in [e.type for e in view.timeline]
    assert outcome.outcome == "identity_not_verified"
    stats = await partner_stats(partner_url)
    assert stats["cancel_requests"] == 0


async def test_the_sla_escalates_at_the_30_minute_deadline(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    """The partner is down for good: warned at 24 min, breached and escalated at 30, all in skipped time."""
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{partner_url}/admin/faults", json={"error_rate": 1.0}) as response:
            response.raise_for_status()
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await time_skipping_env.sleep(31 * 60)
        view = await client.view(intake.complaint_id)
        await handle.terminate("test over")

    filed_at = view.state.filed_at
    warned = [e for e in view.timeline if e.type == "SlaWarned" and e.clock == "resolve"]
    breached = [e for e in view.timeline if e.type == "SlaBreached" and e.clock == "resolve"]
    escalated = [e for e in view.timeline if e.type == "CaseEscalated"]
    assert len(warned) == 1 and round((warned[0].at - filed_at).total_seconds() / 60) == 24
    assert len(breached) == 1 and round((breached[0].at - filed_at).total_seconds() / 60) == 30
    assert escalated[0].level == 1 and escalated[0].to_role is Role.STORE_MANAGER
    assert view.state.escalation_level == 1

