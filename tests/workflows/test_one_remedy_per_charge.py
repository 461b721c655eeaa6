"""One remedy per charge, ever, and duplicate complaints seen at filing: the issue's reproductions.

Real Temporal (time-skipping test server), real PostgreSQL (the BOSS sandbox and the event store), the
real partner sandbox. Several complaints about one charge, one after the other and at the same moment,
must leave exactly one ledger row; the others resolve saying where and when the charge was remedied.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid

import asyncpg
import pytest
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.billing import PostgresBillingSystem
from client.api import ComplaintClient, FilingReceipt
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category, Status
from domain.intake import ComplaintIntake
from stories.bill_discrepancy import BILL_OVERCHARGE_CUSTOMER, OVERCHARGE_FEN
from stories.people import StoryCustomer
from stories.tariff_dispute import TARIFF_CUSTOMER
from tests.conftest import engine
from tests.helpers import reset_sandboxes, wait_until
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT = Actor(id="agent-li", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def intake(category: Category, who: StoryCustomer) -> ComplaintIntake:
    return ComplaintIntake(
        complaint_id=f"DUP-{category.value.replace('_', '-')}-{uuid.uuid4().hex[:8]}",
        category=category,
        msisdn=who.msisdn,
        customer_name=who.name,
        description="the same complaint again",
        filed_by=AGENT,
    )

QUERY_ATTEMPTS = 3


def _waiting_for_approval(view: CaseView) -> bool:
    return any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values())


def _asked_to_confirm(view: CaseView) -> bool:
    pending = view.state.pending_question
    return pending is not None and pending.question_id == "confirm-resolution"


async def approve(client: ComplaintClient, filed: FilingReceipt) -> None:
    """Approve the case's one adjustment once it waits for a supervisor."""
    view = await wait_until(client, filed.complaint_id, _waiting_for_approval, "an approval")
    (adjustment,) = view.state.adjustments.values()
    await client.decide(filed.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(SUPERVISOR))


async def approve_and_close(client: ComplaintClient, filed: FilingReceipt) -> CaseView:
    """Approve the case's one adjustment, let the customer confirm, and return the closed case."""
    await approve(client, filed)
    return await confirm_and_close(client, filed)


async def confirm_and_close(client: ComplaintClient, filed: FilingReceipt) -> CaseView:
    await wait_until(client, filed.complaint_id, _asked_to_confirm, "the confirmation question")
    await client.answer(filed.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await filed.result()
    return await closed_view(client, filed.complaint_id)


async def closed_view(client: ComplaintClient, complaint_id: str) -> CaseView:
    """The view of a case whose run has ended. The query replays the whole history on a worker; on the
    time-skipping server, with the suite's load, that first answer can miss the server's query deadline
    ("Timeout expired"), so it is asked again: the answer itself never changes, the run is over."""
    for _ in range(QUERY_ATTEMPTS - 1):
        try:
            return await client.view(complaint_id)
        except RPCError as error:
            if "Timeout expired" not in str(error):
                raise
    return await client.view(complaint_id)


async def ledger_of(pool: asyncpg.Pool, complaint_ids: list[str]) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM boss.adjustment_ledger WHERE complaint_id = ANY($1::text[]) ORDER BY id", complaint_ids
    )


def ours(linked: list[str] | None, ids: list[str]) -> list[str]:
    assert linked is not None, "the case did not say which cases it is linked to"
    return [complaint_id for complaint_id in linked if complaint_id in ids]


def resolved(view: CaseView) -> ev.ComplaintResolved:
    return next(e for e in view.timeline if isinstance(e, ev.ComplaintResolved))


async def test_three_complaints_about_one_12_yuan_overcharge_pay_24_yuan_once(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    billing = PostgresBillingSystem(deps.pool)
    before = (await billing.get_customer(BILL_OVERCHARGE_CUSTOMER.msisdn)).balance_fen
    views = []
    async with engine(time_skipping_env, deps) as client:
        for n in range(3):
            filed = await client.file(intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER))
            # Only the first waits for a supervisor: the later ones find the charge already refunded
            # before asking anyone to approve it.
            views.append(await (approve_and_close if n == 0 else confirm_and_close)(client, filed))

    first, *later = views
    rows = await ledger_of(deps.pool, [v.state.complaint_id for v in views])
    assert [(r["complaint_id"], r["amount_fen"]) for r in rows] == [(first.state.complaint_id, 2 * OVERCHARGE_FEN)]
    assert (await billing.get_customer(BILL_OVERCHARGE_CUSTOMER.msisdn)).balance_fen == before + 2400
    assert first.state.outcome == "double_refunded" and first.state.money_moved_fen == 2400
    ledger_id = f"ADJ-{rows[0]['id']:06d}"
    for view in later:
        assert view.state.outcome == "already_refunded" and view.state.money_moved_fen == 0
        summary = resolved(view).summary
        assert f"already refunded on case {first.state.complaint_id} on " in summary and ledger_id in summary
        (adjustment,) = view.state.adjustments.values()
        assert adjustment.status == "already_remedied" and adjustment.remedied_by == first.state.complaint_id
        assert not [e for e in view.timeline if isinstance(e, (ev.AdjustmentApplied, ev.AdjustmentApproved))]
    # The cited charge is the billing system's row of the overcharged day; the other channels are evidence.
    (applied,) = [e for e in first.timeline if isinstance(e, ev.AdjustmentApplied)]
    charged = [c for c in applied.citations if c.role == "charge"]
    assert [c.kind for c in charged] == ["daily_charge"] and "/billing/" in charged[0].record_id
    assert {c.record_id.split("/")[1] for c in applied.citations} == {"billing", "terminal", "web"}
    assert all(r.matches for r in await billing.cited_records(applied.citations))


async def test_two_complaints_about_one_charge_at_the_same_moment_write_one_ledger_row(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    async with engine(time_skipping_env, deps) as client:
        filed = await asyncio.gather(
            *(client.file(intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER)) for _ in range(2))
        )
        for case in filed:
            await wait_until(client, case.complaint_id, _waiting_for_approval, "an approval")
        # Both approved at once: both workflows apply their refund concurrently.
        await asyncio.gather(*(approve(client, case) for case in filed))
        # Closed one after the other: each result() unlocks the time-skipping server's clock while it waits,
        # and two awaited at the same moment failed CI once ("Application error processing RPC" from
        # unlock_time_skipping, at a711682). The race this test is for is the refunds', above.
        views = [await confirm_and_close(client, case) for case in filed]

    ids = [case.complaint_id for case in filed]
    rows = await ledger_of(deps.pool, ids)
    assert len(rows) == 1 and rows[0]["amount_fen"] == 2400
    assert sorted(v.state.outcome or "" for v in views) == ["already_refunded", "double_refunded"]
    assert sum(v.state.money_moved_fen for v in views) == 2400
    # Filed together, each looked for the other: at least one of them found it open, and said so.
    # (Cases left open by earlier tests on this session's database may be linked too: ignore those.)
    links = {case.complaint_id: ours(case.linked_case_ids, ids) for case in filed}
    assert links[ids[0]] == [ids[1]] or links[ids[1]] == [ids[0]]
    for view in views:
        assert ours(view.state.linked_cases, ids) == links[view.state.complaint_id]


async def test_repeated_tariff_complaints_about_one_sale_pay_30_yuan_once(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    billing = PostgresBillingSystem(deps.pool)
    before = (await billing.get_customer(TARIFF_CUSTOMER.msisdn)).balance_fen
    views = []
    async with engine(time_skipping_env, deps) as client:
        for _ in range(3):
            filed = await client.file(intake(Category.TARIFF_DISPUTE, TARIFF_CUSTOMER))
            views.append(await confirm_and_close(client, filed))

    first, *later = views
    rows = await ledger_of(deps.pool, [v.state.complaint_id for v in views])
    assert [(r["complaint_id"], r["amount_fen"]) for r in rows] == [(first.state.complaint_id, 3000)]
    assert (await billing.get_customer(TARIFF_CUSTOMER.msisdn)).balance_fen == before + 3000
    assert first.state.outcome == "agent_remedy_applied"
    for view in later:
        assert view.state.outcome == "agent_remedy_already_applied" and view.state.money_moved_fen == 0
        assert f"already refunded on case {first.state.complaint_id}" in resolved(view).summary
    (proposed,) = [e for e in first.timeline if isinstance(e, ev.AdjustmentProposed)]
    assert [c.kind for c in proposed.citations if c.role == "charge"] == ["sale"]


async def test_a_second_open_complaint_is_linked_to_the_first_and_not_blocked(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    async with engine(time_skipping_env, deps) as client:
        first = await client.file(intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER))
        await wait_until(client, first.complaint_id, _waiting_for_approval, "an approval")
        second = await client.file(intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER))
        other_category = await client.file(intake(Category.BILLING_SPIKE, BILL_OVERCHARGE_CUSTOMER))
        await wait_until(client, second.complaint_id, _waiting_for_approval, "an approval")
        view = await client.view(second.complaint_id)
        for case in (first, second, other_category):
            with contextlib.suppress(RPCError):
                await case.terminate(reason="test over")

    ids = [first.complaint_id, second.complaint_id, other_category.complaint_id]
    assert ours(first.linked_case_ids, ids) == []
    assert ours(second.linked_case_ids, ids) == [first.complaint_id]
    assert other_category.linked_case_ids is not None
    assert ours(other_category.linked_case_ids, ids) == []  # another category is another complaint
    (link,) = [e for e in view.timeline if isinstance(e, ev.LinkedToCase)]
    assert ours(link.linked_complaint_ids, ids) == [first.complaint_id]
    assert view.state.linked_cases == link.linked_complaint_ids
    assert view.state.status is Status.AWAITING_APPROVAL  # filing went on
