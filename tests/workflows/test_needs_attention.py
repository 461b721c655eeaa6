"""No silent deaths: a playbook step that cannot go on ends in needs_attention, escalated and notified,
and a person takes the case from there (time-skipping server, real event store, real sandboxes)."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from client.api import ComplaintClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Status
from domain.intake import parse_intake
from store.event_store import PostgresEventStore
from tests.conftest import engine
from tests.domain.factories import intake_data
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
MANAGER = Actor(id="manager-wang", role=Role.STORE_MANAGER)
AGENT = Actor(id="agent-zhou", role=Role.AGENT)
# A number of a carrier we have no partner for: China Broadnet's 192, accepted at intake.
BROADNET_NUMBER = "19212345678"
# A well-formed number the billing system has never heard of.
UNKNOWN_TO_BOSS = "13800000417"


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def wait_for_attention(client: ComplaintClient, complaint_id: str) -> CaseView:
    for _ in range(1200):  # up to a minute: the machine may be busy
        view = await client.view(complaint_id)
        if view.state.status is Status.NEEDS_ATTENTION:
            return view
        await asyncio.sleep(0.05)
    raise AssertionError(f"{complaint_id} never came to need attention")


async def outbox(pool: asyncpg.Pool, complaint_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT recipient_role, subject, body FROM notification_outbox WHERE complaint_id = $1 ORDER BY id",
        complaint_id,
    )


async def read_model_status(pool: asyncpg.Pool, complaint_id: str, expected: str | None = None) -> str:
    """The read model's status; given `expected`, waited for: the view shows a commit before its save lands."""
    for _ in range(1200):
        status: str = await pool.fetchval("SELECT status FROM complaints WHERE complaint_id = $1", complaint_id)
        if expected is None or status == expected:
            break
        await asyncio.sleep(0.05)
    return status


async def test_an_unknown_partner_carrier_needs_attention_and_a_person_resolves_it(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake(partner_msisdn=BROADNET_NUMBER)
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        view = await wait_for_attention(client, intake.complaint_id)
        assert await read_model_status(deps.pool, intake.complaint_id, "needs_attention") == "needs_attention"

        # A person acts on it: notes and reassignment are accepted, then a manager resolves it by hand.
        await client.note(intake.complaint_id, "called Broadnet's desk, they cancelled it by phone", signed(AGENT))
        await client.reassign(intake.complaint_id, "manager-wang", signed(AGENT), reason="needs a manager")
        await client.resolve(
            intake.complaint_id, "forwarding_cancelled_by_hand", "Broadnet cancelled it", signed(MANAGER)
        )
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        final = await client.view(intake.complaint_id)

    [attention] = [e for e in view.timeline if isinstance(e, ev.CaseNeedsAttention)]
    assert attention.step == "cancel_forwarding" and attention.error_type == "UnknownPartner"
    assert "china_broadnet" in attention.reason
    assert view.state.attention_reason == attention.reason
    [escalated] = [e for e in view.timeline if isinstance(e, ev.CaseEscalated)]
    assert (escalated.level, escalated.to_role) == (1, Role.STORE_MANAGER)
    assert escalated.seq == attention.seq + 1
    [notice] = await outbox(deps.pool, intake.complaint_id)
    assert notice["recipient_role"] == "store_manager" and "needs attention" in notice["subject"]
    assert "UnknownPartner" not in notice["body"] and "china_broadnet" in notice["body"]

    assert outcome.status == "closed" and outcome.close_reason == "confirmed"
    assert outcome.outcome == "forwarding_cancelled_by_hand"
    types = [e.type for e in final.timeline]
    assert types.index("CaseNeedsAttention") < types.index("NoteAdded") < types.index("ComplaintResolved")
    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert [e.type for e in stored] == types
    assert await read_model_status(deps.pool, intake.complaint_id) == "closed"


async def test_a_number_the_billing_system_does_not_know_needs_attention_and_the_sla_keeps_running(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = parse_intake(
        intake_data(
            complaint_id=f"SPAM-{uuid.uuid4().hex[:10]}",
            category="spam_sms",
            msisdn=UNKNOWN_TO_BOSS,
            description="junk messages every day",
            id_number=None,
            partner_msisdn=None,
        )
    )
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(intake)
        view = await wait_for_attention(client, intake.complaint_id)
        # Nobody acts for five hours: the resolve deadline (4 h) passes and the case climbs another rung.
        await time_skipping_env.sleep(5 * 3600)
        later = await client.view(intake.complaint_id)
        assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
        await client.withdraw(intake.complaint_id, "the customer changed numbers", signed(CUSTOMER))
        outcome = await handle.result()

    [attention] = [e for e in view.timeline if isinstance(e, ev.CaseNeedsAttention)]
    assert attention.error_type == "UnknownCustomer"
    assert later.state.status is Status.NEEDS_ATTENTION
    escalations = [(e.level, e.to_role) for e in later.timeline if isinstance(e, ev.CaseEscalated)]
    assert escalations == [(1, Role.STORE_MANAGER), (2, Role.REGIONAL_SUPPORT)]
    assert [e.clock for e in later.timeline if isinstance(e, ev.SlaBreached)] == ["resolve"]
    roles = [row["recipient_role"] for row in await outbox(deps.pool, intake.complaint_id)]
    assert roles[0] == "store_manager" and "regional_support" in roles
    assert outcome.close_reason == "withdrawn"
