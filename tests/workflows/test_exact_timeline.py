"""The timeline says only what happened, end to end: the issue's reproductions with real Temporal
(time-skipping), the BOSS sandbox in PostgreSQL and the partner sandbox.

- Two arrears complaints answered "pay" at once: one payment; the other case says the arrears were
  already paid, not that the customer paid them.
- A second forwarding complaint after the first was handled: the forwarding was already off and the
  number-change notice already cancelled, and the summary says so.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from client.api import ComplaintClient, FilingReceipt
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category
from domain.intake import ComplaintIntake
from stories.arrears_dispute import ARREARS_CUSTOMER
from tests.conftest import engine
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT = Actor(id="agent-li", role=Role.AGENT)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def confirm_and_close(client: ComplaintClient, filed: FilingReceipt) -> CaseView:
    await wait_for_question(client, filed.complaint_id, "confirm-resolution")
    await client.answer(filed.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await filed.result()
    return await client.view(filed.complaint_id)


def resolved(view: CaseView) -> ev.ComplaintResolved:
    return next(e for e in view.timeline if isinstance(e, ev.ComplaintResolved))


async def test_two_arrears_cases_paid_at_once_record_one_payment_and_one_already_paid(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intakes = [
        ComplaintIntake(
            complaint_id=f"ARR-{uuid.uuid4().hex[:8]}",
            category=Category.ARREARS_DISPUTE,
            msisdn=ARREARS_CUSTOMER.msisdn,
            customer_name=ARREARS_CUSTOMER.name,
            description="销户的号码怎么还欠费",
            filed_by=AGENT,
        )
        for _ in range(2)
    ]
    async with engine(time_skipping_env, deps) as client:
        filed = [await client.file(intake) for intake in intakes]
        for case in filed:
            await wait_for_question(client, case.complaint_id, "settle-arrears")
        await asyncio.gather(
            *(client.answer(case.complaint_id, "settle-arrears", "pay", signed(CUSTOMER)) for case in filed)
        )
        views = [await confirm_and_close(client, case) for case in filed]

    outcomes = sorted(v.state.outcome or "" for v in views)
    assert outcomes == ["arrears_already_paid", "arrears_paid"]
    paid = next(v for v in views if v.state.outcome == "arrears_paid")
    already = next(v for v in views if v.state.outcome == "arrears_already_paid")
    assert "The customer paid ¥23.40 (PAY-" in resolved(paid).summary
    assert "already been paid" in resolved(already).summary and "The customer paid" not in resolved(already).summary
    payments = await deps.pool.fetch(
        "SELECT amount_fen FROM boss.payments WHERE split_part(idempotency_key, ':', 1) = ANY($1::text[])",
        [i.complaint_id for i in intakes],
    )
    assert [p["amount_fen"] for p in payments] == [2340]


async def test_a_second_forwarding_complaint_says_the_forwarding_and_notice_were_already_cancelled(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    async with engine(time_skipping_env, deps) as client:
        first = await confirm_and_close(client, await client.file(forwarding_intake()))
        second = await confirm_and_close(client, await client.file(forwarding_intake()))

    assert "cancelled at china_unicom, and the number-change notice cancelled in BOSS" in resolved(first).summary
    text = resolved(second).summary
    assert "was already off at china_unicom" in text and "no number-change notice was active" in text
    assert "cancelled in BOSS" not in text
    (notice,) = [e for e in second.timeline if isinstance(e, ev.BillingActionApplied)]
    assert notice.details == {"notice_was_active": False}
