"""billing_spike, arrears_dispute and bill_discrepancy end to end: time-skipping server, real sandboxes.

Each test resets the sandboxes, files the seed's complaint, answers as the customer and the supervisor
would, and checks both the case's evidence and what landed in the billing system.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from adapters.billing import PostgresBillingSystem
from client.api import CommandRefused, ComplaintClient
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category
from domain.clock import at_local
from domain.intake import ComplaintIntake
from sandboxes.boss_rows import current_period_start, period_bounds
from store.event_store import PostgresEventStore
from stories.arrears_dispute import ARREARS_CUSTOMER
from stories.bill_discrepancy import BILL_DISCREPANCY_CUSTOMER, BILL_OVERCHARGE_CUSTOMER, OVERCHARGE_FEN
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from stories.people import StoryCustomer
from tests.conftest import engine
from tests.helpers import reset_sandboxes, wait_for_question, wait_until
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseView

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT = Actor(id="agent-li", role=Role.AGENT)
MANAGER = Actor(id="manager-zhou", role=Role.STORE_MANAGER)
SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def intake(
    category: Category, who: StoryCustomer, description: str, filed_by: Actor = AGENT
) -> ComplaintIntake:
    return ComplaintIntake(
        complaint_id=f"{category.value.replace('_', '-')}-{uuid.uuid4().hex[:10]}",
        category=category,
        msisdn=who.msisdn,
        customer_name=who.name,
        description=description,
        filed_by=filed_by,
    )


async def wait_for_approval(client: ComplaintClient, complaint_id: str) -> CaseView:
    def waiting(view: CaseView) -> bool:
        return any(a.needs_approval and a.status == "proposed" for a in view.state.adjustments.values())

    return await wait_until(client, complaint_id, waiting, "an adjustment waiting for approval")


async def refuse_the_adjustment(client: ComplaintClient, complaint_id: str, reason: str) -> None:
    """The supervisor refuses the one adjustment waiting for approval."""
    waiting = await wait_for_approval(client, complaint_id)
    (adjustment,) = waiting.state.adjustments.values()
    await client.decide(
        complaint_id, adjustment.adjustment_id, approve=False, credential=signed(SUPERVISOR), reason=reason
    )


async def confirm_and_finish(client: ComplaintClient, complaint_id: str, handle: object) -> CaseView:
    await wait_for_question(client, complaint_id, "confirm-resolution")
    await client.answer(complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
    await handle.result()  # type: ignore[attr-defined]
    return await client.view(complaint_id)


def events_of(view: CaseView, event_type: type[ev.Event]) -> list:  # type: ignore[type-arg]
    return [event for event in view.timeline if isinstance(event, event_type)]


def decision(view: CaseView, starting: str) -> ev.DecisionRecorded:
    return next(d for d in events_of(view, ev.DecisionRecorded) if d.decision.startswith(starting))


async def ledger_rows(pool: asyncpg.Pool, complaint_id: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT * FROM boss.adjustment_ledger WHERE complaint_id = $1", complaint_id)


async def rows_keyed_by_case(pool: asyncpg.Pool, table: str, complaint_id: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            f"SELECT * FROM boss.{table} WHERE idempotency_key LIKE $1", f"{complaint_id}:%"
        )


async def anchor_of(pool: asyncpg.Pool) -> date:
    async with pool.acquire() as conn:
        anchor: date = await conn.fetchval("SELECT anchor_date FROM boss.seed_info")
    return anchor


# --- billing_spike ------------------------------------------------------------------------------------


async def test_billing_spike_flags_58_20_of_long_calls_and_the_other_partys_records_agree(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(
        Category.BILLING_SPIKE, BILLING_SPIKE_CUSTOMER, "本月话费是平时的4倍多, 只打了几分钟电话"
    )
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        asked = await wait_for_question(client, case.complaint_id, "compare-with-other-party")
        await client.answer(case.complaint_id, "compare-with-other-party", "yes", signed(CUSTOMER))
        view = await confirm_and_finish(client, case.complaint_id, handle)

    bills, calls = asked.state.evidence["monthly-bills"], asked.state.evidence["call-records"]
    assert bills["spike_percent"] == 434 and bills["usual_fen"] == 3000
    assert calls["flagged_fen"] == 5820 and len(calls["flagged"]) == 3
    counterpart = view.state.evidence["counterpart-records"]
    assert counterpart["all_agree"] is True and counterpart["disputed_fen"] == 0
    no_refund = decision(view, "no refund")
    assert no_refund.evidence_steps == ["call-records", "counterpart-records"]
    assert no_refund.reason.endswith("the calls lasted as billed")  # what the records show, no more
    assert any("flip is closed" in note.text for note in events_of(view, ev.NoteAdded))
    assert view.state.outcome == "charges_explained" and view.state.close_reason == "confirmed"
    assert view.state.money_moved_fen == 0 and await ledger_rows(deps.pool, case.complaint_id) == []
    assert await PostgresEventStore(deps.pool).load(case.complaint_id) == view.timeline


A_CALLER = StoryCustomer("孙小姐", "330105199101010020", "13666779901")
A_CALLEE = StoryCustomer("周先生", "330105198902020031", "13666779902")


async def seed_a_disagreeing_pair(pool: asyncpg.Pool) -> None:
    """A customer of this test alone: yesterday's 48-minute call is a 10-minute one on the other switch."""
    anchor = await anchor_of(pool)
    async with pool.acquire() as conn, conn.transaction():
        for who in (A_CALLER, A_CALLEE):
            await conn.execute(
                """INSERT INTO boss.customers (msisdn, name, id_number, status, account_type, brand, plan_code,
                       sales_channel, opened_at, balance_fen, validity_until, arrears_fen, is_reference, remark)
                   VALUES ($1, $2, $3, 'active', 'prepaid', '神州行轻松卡', 'SZX-QS', 'own_store', $4, 1000, $5,
                           0, false, 'billing_spike workflow test')
                   ON CONFLICT DO NOTHING""",
                who.msisdn,
                who.name,
                who.id_number,
                at_local(anchor - timedelta(days=500), 9, 0),
                anchor + timedelta(days=90),
            )
        calls = []
        for back in (3, 2, 1):
            start, _ = period_bounds(anchor, back)
            calls += [
                (
                    A_CALLER.msisdn,
                    "13588120456",
                    "outgoing",
                    at_local(start + timedelta(days=i), 10, 0),
                    170,
                    180,
                )
                for i in range(10)
            ]
        start = current_period_start(anchor)
        calls += [
            (A_CALLER.msisdn, "13588120456", "outgoing", at_local(start, 9, 0) + timedelta(hours=i), 170, 180)
            for i in range(5)
        ]
        long_call = at_local(anchor - timedelta(days=1), 20, 0)
        calls.append((A_CALLER.msisdn, A_CALLEE.msisdn, "outgoing", long_call, 2870, 2880))
        calls.append((A_CALLEE.msisdn, A_CALLER.msisdn, "incoming", long_call, 595, 0))
        await conn.executemany(
            """INSERT INTO boss.call_records (msisdn, other_party, direction, call_type, started_at,
                   duration_seconds, charge_fen)
               VALUES ($1, $2, $3, 'local', $4, $5, $6) ON CONFLICT DO NOTHING""",
            calls,
        )
        bills = [(A_CALLER.msisdn, *period_bounds(anchor, back), 1800, True) for back in (3, 2, 1)]
        bills.append((A_CALLER.msisdn, *period_bounds(anchor, 0), 5 * 180 + 2880, False))
        await conn.executemany(
            """INSERT INTO boss.monthly_bills (msisdn, period_start, period_end, total_fen, closed)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
            bills,
        )


async def test_billing_spike_refunds_what_the_other_partys_records_do_not_show(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    await seed_a_disagreeing_pair(deps.pool)
    billing = PostgresBillingSystem(deps.pool)
    before = (await billing.get_customer(A_CALLER.msisdn)).balance_fen
    case = intake(Category.BILLING_SPIKE, A_CALLER, "昨天只打了十分钟, 怎么算了四十八分钟")
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await wait_for_question(client, case.complaint_id, "compare-with-other-party")
        await client.answer(case.complaint_id, "compare-with-other-party", "yes", signed(CUSTOMER))
        view = await confirm_and_finish(client, case.complaint_id, handle)

    assert view.state.evidence["call-records"]["flagged_fen"] == 2880
    assert view.state.evidence["counterpart-records"]["disputed_fen"] == 2880 - 600  # 38 of 48 minutes
    assert decision(view, "refund").evidence_steps == ["call-records", "counterpart-records"]
    assert view.state.outcome == "refunded" and view.state.money_moved_fen == 2280
    rows = await ledger_rows(deps.pool, case.complaint_id)
    assert [(r["kind"], r["amount_fen"]) for r in rows] == [("refund", 2280)]
    assert (await billing.get_customer(A_CALLER.msisdn)).balance_fen == before + 2280


# --- arrears_dispute ------------------------------------------------------------------------------------


async def test_arrears_are_explained_and_paid(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(Category.ARREARS_DISPUTE, ARREARS_CUSTOMER, "神州行轻松卡已销户, 不可能欠20多元")
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        asked = await wait_for_question(client, case.complaint_id, "settle-arrears")
        await client.answer(case.complaint_id, "settle-arrears", "pay", signed(CUSTOMER))
        view = await confirm_and_finish(client, case.complaint_id, handle)

    evidence = asked.state.evidence
    assert evidence["account"]["arrears_fen"] == 2340 and evidence["account"]["status"] == "cancelled"
    assert (
        evidence["last-usage"]["last_call_fen"] == 2460 and evidence["last-usage"]["last_call_minutes"] == 41
    )
    assert evidence["balance-history"]["accounted"] is True
    assert decision(view, "show the customer").evidence_steps == ["account", "last-usage", "balance-history"]
    assert (
        view.state.outcome == "arrears_paid"
        and "new number" in events_of(view, ev.ComplaintResolved)[0].summary
    )
    payments = await rows_keyed_by_case(deps.pool, "payments", case.complaint_id)
    assert [p["amount_fen"] for p in payments] == [2340]
    assert (await PostgresBillingSystem(deps.pool).get_customer(ARREARS_CUSTOMER.msisdn)).arrears_fen == 0
    assert view.state.money_moved_fen == 0 and await ledger_rows(deps.pool, case.complaint_id) == []


async def test_a_disputed_arrears_waiver_needs_another_persons_approval(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(
        Category.ARREARS_DISPUTE, ARREARS_CUSTOMER, "号码是女儿用的, 一直没用过", filed_by=MANAGER
    )
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await wait_for_question(client, case.complaint_id, "settle-arrears")
        await client.answer(case.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        waiting = await wait_for_approval(client, case.complaint_id)
        (adjustment,) = waiting.state.adjustments.values()
        with pytest.raises(CommandRefused, match="may not approve"):
            await client.decide(case.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(MANAGER))
        unchanged = await client.view(case.complaint_id)
        await client.decide(
            case.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(SUPERVISOR), reason="ok"
        )
        view = await confirm_and_finish(client, case.complaint_id, handle)

    assert unchanged.state.last_seq == waiting.state.last_seq
    assert unchanged.state.adjustments[adjustment.adjustment_id].status == "proposed"
    assert (adjustment.kind, adjustment.amount_fen) == ("arrears_waiver", 2340)
    approved = events_of(view, ev.AdjustmentApproved)
    assert [a.actor.id for a in approved] == [SUPERVISOR.id]
    assert view.state.outcome == "arrears_waived" and view.state.money_moved_fen == 2340
    rows = await ledger_rows(deps.pool, case.complaint_id)
    assert [(r["kind"], r["amount_fen"], r["arrears_after_fen"]) for r in rows] == [
        ("arrears_waiver", 2340, 0)
    ]


async def test_a_refused_waiver_is_a_recorded_decision_and_the_arrears_stand(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(Category.ARREARS_DISPUTE, ARREARS_CUSTOMER, "不可能欠费")
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await wait_for_question(client, case.complaint_id, "settle-arrears")
        await client.answer(case.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))
        await refuse_the_adjustment(client, case.complaint_id, "the last call is on record: the usage is genuine")
        view = await confirm_and_finish(client, case.complaint_id, handle)

    refused = decision(view, "arrears stand")
    assert refused.reason == "the last call is on record: the usage is genuine"
    assert refused.evidence_steps == ["account", "last-usage", "balance-history"]
    assert view.state.outcome == "waiver_refused" and view.state.money_moved_fen == 0
    assert await ledger_rows(deps.pool, case.complaint_id) == []
    assert (
        await PostgresBillingSystem(deps.pool).get_customer(ARREARS_CUSTOMER.msisdn)
    ).arrears_fen == 2340
    assert await PostgresEventStore(deps.pool).load(case.complaint_id) == view.timeline


# --- bill_discrepancy -------------------------------------------------------------------------------------


async def test_the_terminal_lacks_days_15_to_18_and_an_incident_is_raised(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(
        Category.BILL_DISCREPANCY, BILL_DISCREPANCY_CUSTOMER, "自助终端50多元, 系统100多元, 要求双倍返还"
    )
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        view = await confirm_and_finish(client, case.complaint_id, handle)

    evidence = view.state.evidence
    start = date.fromisoformat(evidence["daily-charges"]["period_start"])
    assert evidence["daily-charges"]["totals_fen"] == {"billing": 10860, "terminal": 5230, "web": 10860}
    assert evidence["day-by-day"]["missing_day_numbers"] == {"terminal": [15, 16, 17, 18]}
    assert evidence["day-by-day"]["missing_days"]["terminal"] == [
        (start + timedelta(days=d)).isoformat() for d in range(14, 18)
    ]
    assert evidence["reference-numbers"]["terminal_sound"] is True
    assert decision(view, "terminal incomplete").evidence_steps == [
        "daily-charges",
        "day-by-day",
        "reference-numbers",
    ]
    assert view.state.outcome == "terminal_incomplete" and view.state.adjustments == {}
    incidents = await rows_keyed_by_case(deps.pool, "incidents", case.complaint_id)
    assert [(i["channel"], i["msisdn"]) for i in incidents] == [
        ("terminal", BILL_DISCREPANCY_CUSTOMER.msisdn)
    ]
    assert "lacks days 15-18" in incidents[0]["description"]
    assert await ledger_rows(deps.pool, case.complaint_id) == []


async def test_an_overcharge_is_refunded_twice_over_once_after_approval(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    billing = PostgresBillingSystem(deps.pool)
    before = (await billing.get_customer(BILL_OVERCHARGE_CUSTOMER.msisdn)).balance_fen
    case = intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER, "系统扣费比网站多")
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        waiting = await wait_for_approval(client, case.complaint_id)
        (adjustment,) = waiting.state.adjustments.values()
        with pytest.raises(CommandRefused, match="approvals need one of"):
            await client.decide(case.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(AGENT))
        await client.decide(case.complaint_id, adjustment.adjustment_id, approve=True, credential=signed(SUPERVISOR))
        view = await confirm_and_finish(client, case.complaint_id, handle)

    assert (adjustment.kind, adjustment.amount_fen) == ("double_refund", 2 * OVERCHARGE_FEN)
    overcharge = view.state.evidence["day-by-day"]
    assert overcharge["overcharge_fen"] == 1200 and overcharge["overcharge_days"][0]["day_of_period"] == 9
    assert "double refund due" in [d.decision for d in events_of(view, ev.DecisionRecorded)]
    assert view.state.outcome == "double_refunded" and view.state.money_moved_fen == 2400
    rows = await ledger_rows(deps.pool, case.complaint_id)
    assert [(r["kind"], r["amount_fen"]) for r in rows] == [("double_refund", 2400)]
    assert (await billing.get_customer(BILL_OVERCHARGE_CUSTOMER.msisdn)).balance_fen == before + 2400
    assert await rows_keyed_by_case(deps.pool, "incidents", case.complaint_id) == []


async def test_a_refused_double_refund_moves_no_money(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake(Category.BILL_DISCREPANCY, BILL_OVERCHARGE_CUSTOMER, "系统扣费比网站多")
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await refuse_the_adjustment(client, case.complaint_id, "day 9 holds a roaming package bought that day")
        view = await confirm_and_finish(client, case.complaint_id, handle)

    refused = decision(view, "no double refund")
    assert refused.reason == "day 9 holds a roaming package bought that day"
    assert refused.evidence_steps == ["daily-charges", "day-by-day", "reference-numbers"]
    assert view.state.outcome == "double_refund_refused" and view.state.money_moved_fen == 0
    assert await ledger_rows(deps.pool, case.complaint_id) == []
