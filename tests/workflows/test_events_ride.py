"""Events ride with the step after them: a save is an activity of its own only where the case waits or ends."""

from __future__ import annotations

import asyncpg
import pytest
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from activities.event_store import AppendEventsInput
from domain.actors import Actor, Role
from store.event_store import PostgresEventStore
from tests.conftest import engine
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question
from tests.identity import signed
from worker import Dependencies

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def carried(client: Client, event: HistoryEvent) -> list[str]:
    """The event types a scheduled activity's input carried to save (its `pending`, or its whole input)."""
    attributes = event.activity_task_scheduled_event_attributes
    payloads = list(attributes.input.payloads)
    name = attributes.activity_type.name
    if name == "append_events":
        (saved,) = await client.data_converter.decode(payloads, [AppendEventsInput])
    elif len(payloads) == 2:
        _, saved = await client.data_converter.decode(payloads, [dict, AppendEventsInput | None])
    else:
        return []
    return [e.type for e in saved.events] if saved is not None else []


async def test_the_forwarding_story_saves_its_steps_events_with_the_steps(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        await handle.result()
        view = await client.view(intake.complaint_id)
        history = await handle.fetch_history()
        steps = [
            (e.activity_task_scheduled_event_attributes.activity_type.name, await carried(client.temporal, e))
            for e in history.events
            if e.HasField("activity_task_scheduled_event_attributes")
        ]

    # The partner request is durable before the partner is called, in the call's own activity; the same for
    # the confirmation before the notice is cancelled in BOSS.
    assert ("cancel_forwarding", ["IdentityVerified", "PartnerRequestSent"]) in steps
    assert ("cancel_number_change_notice", ["PartnerRequestConfirmed"]) in steps
    saves = [name for name, _ in steps if name == "append_events"]
    # Saves of their own remain only where the case waits or ends: its opening, asking the customer to
    # confirm, the answer, the close (7 before events rode with steps).
    assert len(saves) == 4, steps
    # Every event reached the store once, in order, whichever activity carried it.
    assert await PostgresEventStore(deps.pool).load(intake.complaint_id) == view.timeline
