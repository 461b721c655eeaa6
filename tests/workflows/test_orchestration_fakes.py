"""ComplaintWorkflow's orchestration with same-named fake activities: no PostgreSQL, no partner sandbox.

The worker registers tests/fakes/activities.py's fakes under the real activities' names; the fakes act on
the in-memory ports (tests/fakes/), which the contract suites (tests/contracts/) hold to the same rules as
the real adapters. What is tested here is the workflow: which steps run, in which order, what is recorded
and what a person must do. The real parts stay in the integration tests beside this file.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import date

from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.trust import TrustActivities
from auth import trust
from client.api import ClientOptions, ComplaintClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Status
from stories.arrears_dispute import ARREARS_CUSTOMER, ARREARS_FEN
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.conftest import TOKEN_KEY
from tests.fakes.activities import FakeActivities
from tests.helpers import arrears_dispute_intake, forwarding_intake, wait_for_question, wait_until
from tests.identity import TEST_TRUSTED_KEYS, FilingAsIntake, signed
from worker import WORKFLOW_RUNNER
from workflows.complaint import ComplaintWorkflow
from workflows.messages import CaseView

ANCHOR = date(2026, 11, 20)
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT = Actor(id="agent-zhou", role=Role.AGENT)
MANAGER = Actor(id="manager-wang", role=Role.STORE_MANAGER)
SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)
BROADNET_NUMBER = "19212345678"  # a carrier we have no partner for


@contextlib.asynccontextmanager
async def fake_engine(env: WorkflowEnvironment, fakes: FakeActivities) -> AsyncIterator[ComplaintClient]:
    """A worker with the real workflow and the fake activities, on a task queue of its own (the filer's token is
    verified by the real trust activity: it reads no port)."""
    trust.install(TEST_TRUSTED_KEYS)
    options = ClientOptions(task_queue=f"tq-{uuid.uuid4().hex}")
    async with Worker(
        env.client,
        task_queue=options.task_queue,
        workflows=[ComplaintWorkflow],
        activities=[*fakes.all(), TrustActivities().prove_actor],
        workflow_runner=WORKFLOW_RUNNER,
    ):
        yield FilingAsIntake(env.client, options=options, token_key=TOKEN_KEY)


def types(view: CaseView) -> list[str]:
    return [event.type for event in view.timeline]


async def test_forwarding_cancel_runs_its_playbook_end_to_end(time_skipping_env: WorkflowEnvironment) -> None:
    fakes = FakeActivities(ANCHOR)
    intake = forwarding_intake()
    async with fake_engine(time_skipping_env, fakes) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id, "confirm-resolution")
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)

    assert (outcome.status, outcome.outcome, outcome.close_reason) == ("closed", "forwarding_cancelled", "confirmed")
    order = types(view)
    assert order.index("IdentityVerified") < order.index("PartnerRequestSent") < order.index(
        "PartnerRequestConfirmed"
    ) < order.index("BillingActionApplied") < order.index("ComplaintResolved") < order.index("ComplaintClosed")
    # What the workflow committed is what the store holds, in one unbroken chain.
    assert await fakes.store.load(intake.complaint_id) == view.timeline
    assert await fakes.store.verify(intake.complaint_id) is None
    # The side effects happened once, at the ports the playbook names.
    assert fakes.partners.state.stats.by_msisdn[FORWARDING_CUSTOMER.partner_msisdn]["effective"] == 1
    customer = await fakes.billing.get_customer(FORWARDING_CUSTOMER.msisdn)
    assert customer.number_change_notice_active is False
    assert fakes.called.index("get_customer") < fakes.called.index("cancel_forwarding") < fakes.called.index(
        "cancel_number_change_notice"
    )


async def test_a_step_that_cannot_go_on_needs_attention_and_a_person_resolves_it(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fakes = FakeActivities(ANCHOR)
    intake = forwarding_intake(partner_msisdn=BROADNET_NUMBER)
    async with fake_engine(time_skipping_env, fakes) as client:
        handle = await client.file(intake)
        attention = await wait_until(
            client, intake.complaint_id, lambda view: view.state.status is Status.NEEDS_ATTENTION, "needs attention"
        )
        await client.resolve(intake.complaint_id, "forwarding_cancelled_by_hand", "Broadnet did it", signed(MANAGER))
        await wait_for_question(client, intake.complaint_id, "confirm-resolution")
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()

    (needs,) = [e for e in attention.timeline if isinstance(e, ev.CaseNeedsAttention)]
    assert needs.error_type == "UnknownPartner"
    (escalated,) = [e for e in attention.timeline if isinstance(e, ev.CaseEscalated)]
    assert escalated.level == 1
    # The rung it was escalated to is told, once.
    assert [n.recipient_role for n in fakes.notifier.sent if n.idempotency_key.endswith("attention-1")] == [
        escalated.to_role.value
    ]
    assert "cancel_number_change_notice" not in fakes.called  # the playbook stopped at the failed step
    assert (outcome.status, outcome.outcome) == ("closed", "forwarding_cancelled_by_hand")
    assert await fakes.store.verify(intake.complaint_id) is None


async def test_a_disputed_waiver_waits_for_a_supervisors_approval_then_moves_the_money_once(
    time_skipping_env: WorkflowEnvironment,
) -> None:
    fakes = FakeActivities(ANCHOR)
    intake = arrears_dispute_intake(MANAGER)
    async with fake_engine(time_skipping_env, fakes) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id, "settle-arrears")
        await client.answer(intake.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        waiting = await wait_until(
            client,
            intake.complaint_id,
            lambda view: any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values()),
            "a waiver waiting for approval",
        )
        assert "apply_adjustment" not in fakes.called  # nothing moves before the approval
        (adjustment,) = waiting.state.adjustments.values()
        await client.decide(
            intake.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(SUPERVISOR), reason="ok"
        )
        await wait_for_question(client, intake.complaint_id, "confirm-resolution")
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        view = await client.view(intake.complaint_id)

    assert (adjustment.kind, adjustment.amount_fen) == ("arrears_waiver", ARREARS_FEN)
    assert [e.actor.id for e in view.timeline if isinstance(e, ev.AdjustmentApproved)] == [SUPERVISOR.id]
    assert (outcome.outcome, outcome.money_moved_fen) == ("arrears_waived", ARREARS_FEN)
    assert [(entry.kind, entry.amount_fen) for entry in await fakes.billing.ledger()] == [
        ("arrears_waiver", ARREARS_FEN)
    ]
    assert (await fakes.billing.get_customer(ARREARS_CUSTOMER.msisdn)).arrears_fen == 0
    assert fakes.called.count("apply_adjustment") == 1
