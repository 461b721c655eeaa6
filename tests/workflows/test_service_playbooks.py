"""validity_shortened, spam_sms and tariff_dispute end to end on the time-skipping server, with the
real event store, the BOSS sandbox in PostgreSQL and the partner sandbox, using the seed's figures."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import aiohttp
import asyncpg
import pytest
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from adapters.billing import PostgresBillingSystem
from client.api import ComplaintClient
from domain.actors import Actor, Role
from domain.intake import ComplaintIntake, parse_intake
from domain.playbooks.validity_shortened import follow_up_due_at
from domain.state import Question
from store.event_store import PostgresEventStore
from stories.spam_sms import HOROSCOPE_SP, SPAM_SENDERS, SPAM_SMS_CUSTOMER, WEATHER_SP
from stories.tariff_dispute import TARIFF_CUSTOMER
from stories.validity_shortened import VALIDITY_CUSTOMER
from tests.conftest import engine
from tests.domain.factories import intake_data
from tests.helpers import reset_sandboxes, wait_for_question
from tests.identity import signed
from worker import Dependencies
from workflows.messages import CaseOutcome, CaseView
from workflows.validity_follow_up import (
    ValidityFollowUpInput,
    ValidityFollowUpResult,
    ValidityFollowUpWorkflow,
)

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def intake(category: str, prefix: str, who: Any) -> ComplaintIntake:
    return parse_intake(
        intake_data(
            complaint_id=f"{prefix}-{uuid.uuid4().hex[:10]}",
            category=category,
            msisdn=who.msisdn,
            customer_name=who.name,
            description="the seed's complaint",
            id_number=None,
            partner_msisdn=None,
        )
    )


async def anchor(pool: asyncpg.Pool) -> date:
    value: date = await pool.fetchval("SELECT anchor_date FROM boss.seed_info")
    return value


async def ledger(pool: asyncpg.Pool, complaint_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM boss.adjustment_ledger WHERE complaint_id = $1 ORDER BY id", complaint_id
    )


async def run_case(
    client: ComplaintClient, case: ComplaintIntake, answers: list[tuple[str, str]]
) -> tuple[CaseOutcome, CaseView, dict[str, Question]]:
    """File, answer each question in turn, confirm; the outcome, the final view and the questions asked."""
    handle = await client.file(case)
    asked: dict[str, Question] = {}
    for question_id, answer in [*answers, ("confirm-resolution", "yes")]:
        view = await wait_for_question(client, case.complaint_id, question_id)
        assert view.state.pending_question is not None
        asked[question_id] = view.state.pending_question
        await client.answer(case.complaint_id, question_id, answer, signed(CUSTOMER))
    outcome = await handle.result()
    return outcome, await client.view(case.complaint_id), asked


def decisions_rest_on_evidence(view: CaseView) -> None:
    """Every decision names evidence steps, and each of them was recorded before the decision."""
    seen: set[str] = set()
    decisions = 0
    for event in view.timeline:
        if event.type == "EvidenceRecorded":
            seen.add(event.step)
        if event.type == "DecisionRecorded":
            decisions += 1
            assert event.evidence_steps, f"decision {event.decision!r} names no evidence"
            assert set(event.evidence_steps) <= seen, (
                f"{event.decision!r} rests on unrecorded {event.evidence_steps}"
            )
    assert decisions > 0


def of_type(view: CaseView, type_name: str) -> list[Any]:
    return [event for event in view.timeline if event.type == type_name]


# --- validity_shortened ------------------------------------------------------------------------------


async def test_validity_deferred_remedy_schedules_the_follow_up(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    day0 = await anchor(deps.pool)
    before, after = day0 + timedelta(days=575), day0 + timedelta(days=30)
    case = intake("validity_shortened", "VAL", VALIDITY_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        # Time stands still until the case is closed: skipped time would fire the follow-up at once.
        with time_skipping_env.auto_time_skipping_disabled():
            outcome, view, asked = await run_case(client, case, [("validity-remedy", "extend-if-suspended")])
        scheduled = of_type(view, "FollowUpScheduled")
        follow_up = time_skipping_env.client.get_workflow_handle(f"validity-follow-up-{case.complaint_id}")
        # The case is closed; the follow-up outlives it, asleep until the validity runs out.
        assert (await follow_up.describe()).status is WorkflowExecutionStatus.RUNNING
        started = (await follow_up.fetch_history()).events[0].workflow_execution_started_event_attributes
        [handed] = await time_skipping_env.client.data_converter.decode(
            started.input.payloads, [ValidityFollowUpInput]
        )

    # The evidence: the -10 yuan batch adjustment and both validity dates.
    cut = view.state.evidence["balance-history"]["cut"]
    assert cut["amount_fen"] == -1000 and cut["kind"] == "batch_adjustment"
    assert cut["reason"] == "充值送饮料多返充"
    assert cut["validity_before"] == before.isoformat() and cut["validity_after"] == after.isoformat()
    assert cut["days_lost"] == 545
    assert asked["validity-remedy"].options == ["restore-now", "extend-if-suspended"]
    assert "-¥10.00" in asked["validity-remedy"].question
    decisions_rest_on_evidence(view)

    assert outcome.outcome == "extension_promised" and outcome.close_reason == "confirmed"
    assert outcome.money_moved_fen == 0
    assert len(scheduled) == 1
    assert scheduled[0].follow_up == "extend-validity-if-suspended"
    assert scheduled[0].workflow_id == f"validity-follow-up-{case.complaint_id}"
    assert scheduled[0].due_at == follow_up_due_at(after)
    assert handed == ValidityFollowUpInput(
        complaint_id=case.complaint_id,
        msisdn=VALIDITY_CUSTOMER.msisdn,
        due_at=follow_up_due_at(after),
        extend_to=before,
        reason=handed.reason,
    )
    # Nothing changes in BOSS until the validity runs out.
    assert (
        await PostgresBillingSystem(deps.pool).get_customer(VALIDITY_CUSTOMER.msisdn)
    ).validity_until == after
    assert await ledger(deps.pool, case.complaint_id) == []


async def run_follow_up(
    env: WorkflowEnvironment, client: ComplaintClient, complaint_id: str, day0: date
) -> tuple[ValidityFollowUpResult, timedelta]:
    """The follow-up as the case schedules it, started directly; its result and the virtual time it took.

    Started from the test's client rather than from a closed case: the time-skipping test server stops
    skipping time once a workflow has closed right after starting an abandoned child, so a follow-up
    started by a case could not be driven to its timer here.
    """
    started = await env.get_current_time()
    handle = await env.client.start_workflow(
        ValidityFollowUpWorkflow.run,
        ValidityFollowUpInput(
            complaint_id=complaint_id,
            msisdn=VALIDITY_CUSTOMER.msisdn,
            due_at=follow_up_due_at(day0 + timedelta(days=30)),
            extend_to=day0 + timedelta(days=575),
            reason="validity cut by the 充值送饮料多返充 adjustment: extended as promised",
        ),
        id=f"validity-follow-up-{complaint_id}",
        task_queue=client.options.task_queue,
    )
    result = await handle.result()
    return result, await env.get_current_time() - started


async def test_the_follow_up_extends_and_reactivates_a_number_suspended_at_expiry(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    day0 = await anchor(deps.pool)
    complaint_id = f"VAL-{uuid.uuid4().hex[:10]}"
    billing = PostgresBillingSystem(deps.pool)
    # BOSS suspends the number as its validity runs out.
    await billing.set_status(VALIDITY_CUSTOMER.msisdn, "suspended", f"test-suspend-{complaint_id}")
    async with engine(time_skipping_env, deps) as client:
        result, took = await run_follow_up(time_skipping_env, client, complaint_id, day0)

    assert took > timedelta(days=29)  # the month-long timer ran, in skipped time
    assert result.action == "extended" and result.reactivated is True
    assert result.status_seen == "suspended" and result.validity_seen == day0 + timedelta(days=30)
    assert result.validity_after == day0 + timedelta(days=575) and result.ledger_id is not None
    customer = await billing.get_customer(VALIDITY_CUSTOMER.msisdn)
    assert customer.validity_until == day0 + timedelta(days=575) and customer.status == "active"
    rows = await ledger(deps.pool, complaint_id)
    assert [(r["kind"], r["amount_fen"], r["validity_until"]) for r in rows] == [
        ("validity_extension", 0, day0 + timedelta(days=575))
    ]
    assert rows[0]["idempotency_key"] == f"{complaint_id}:follow-up:validity-extension"
    # The follow-up never writes to the case's event stream: its own history is the record.
    assert await PostgresEventStore(deps.pool).load(complaint_id) == []


async def test_validity_restored_now(time_skipping_env: WorkflowEnvironment, deps: Dependencies) -> None:
    day0 = await anchor(deps.pool)
    before = day0 + timedelta(days=575)
    case = intake("validity_shortened", "VAL", VALIDITY_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        outcome, view, _ = await run_case(client, case, [("validity-remedy", "restore-now")])
        with pytest.raises(RPCError):
            await time_skipping_env.client.get_workflow_handle(
                f"validity-follow-up-{case.complaint_id}"
            ).describe()

    assert outcome.outcome == "validity_restored" and outcome.money_moved_fen == 0
    [applied] = of_type(view, "AdjustmentApplied")
    assert applied.kind == "validity_extension" and applied.effective
    assert view.state.adjustments[applied.adjustment_id].validity_until == before
    assert of_type(view, "FollowUpScheduled") == []
    decisions_rest_on_evidence(view)
    rows = await ledger(deps.pool, case.complaint_id)
    assert [(r["kind"], r["validity_until"]) for r in rows] == [("validity_extension", before)]
    customer = await PostgresBillingSystem(deps.pool).get_customer(VALIDITY_CUSTOMER.msisdn)
    assert customer.validity_until == before


async def test_the_follow_up_does_nothing_for_a_number_still_active(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    day0 = await anchor(deps.pool)
    complaint_id = f"VAL-{uuid.uuid4().hex[:10]}"
    async with engine(time_skipping_env, deps) as client:
        result, took = await run_follow_up(time_skipping_env, client, complaint_id, day0)

    assert took > timedelta(days=29)
    assert result.action == "nothing" and result.status_seen == "active" and result.ledger_id is None
    assert await ledger(deps.pool, complaint_id) == []
    customer = await PostgresBillingSystem(deps.pool).get_customer(VALIDITY_CUSTOMER.msisdn)
    assert customer.validity_until == day0 + timedelta(days=30) and customer.status == "active"


# --- spam_sms ------------------------------------------------------------------------------------


async def spam_reports(pool: asyncpg.Pool, complaint_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT * FROM boss.spam_reports WHERE idempotency_key LIKE $1 || ':%'", complaint_id
    )


async def subscription_status(pool: asyncpg.Pool) -> dict[str, str]:
    rows = await PostgresBillingSystem(pool).sp_subscriptions(SPAM_SMS_CUSTOMER.msisdn)
    return {row.sp_code: row.status for row in rows}


async def test_spam_with_consent_to_block(time_skipping_env: WorkflowEnvironment, deps: Dependencies) -> None:
    case = intake("spam_sms", "SPAM", SPAM_SMS_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        outcome, view, asked = await run_case(client, case, [("block-web-sms", "block")])

    assert outcome.outcome == "spam_handled" and outcome.money_moved_fen == 0
    question = asked["block-web-sms"]
    assert question.options == ["block", "keep"] and "天气预报" in question.question
    decisions_rest_on_evidence(view)
    # The SP never ordered is ended; the weather forecast the customer ordered stays.
    assert await subscription_status(deps.pool) == {HOROSCOPE_SP: "unsubscribed", WEATHER_SP: "active"}
    [unsubscribed] = of_type(view, "AdjustmentApplied")
    assert unsubscribed.kind == "sp_unsubscription"
    assert [(r["kind"], r["sp_code"]) for r in await ledger(deps.pool, case.complaint_id)] == [
        ("sp_unsubscription", HOROSCOPE_SP)
    ]
    [report] = await spam_reports(deps.pool, case.complaint_id)
    assert sorted(report["senders"]) == sorted(SPAM_SENDERS) and report["reported_to"] == "10086999"
    customer = await PostgresBillingSystem(deps.pool).get_customer(SPAM_SMS_CUSTOMER.msisdn)
    assert customer.web_sms_blocked is True
    block = [e for e in of_type(view, "BillingActionApplied") if e.action == "block_web_sms"]
    assert block[0].effective and block[0].details["also_stops"] == ["天气预报"]


async def test_spam_without_consent_keeps_web_sms(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    case = intake("spam_sms", "SPAM", SPAM_SMS_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        outcome, view, _ = await run_case(client, case, [("block-web-sms", "keep")])

    assert outcome.outcome == "spam_handled"
    decisions_rest_on_evidence(view)
    assert "keep web-originated SMS" in view.state.decisions
    assert "block web-originated SMS" not in view.state.decisions
    assert [e.action for e in of_type(view, "BillingActionApplied")] == ["report_spam"]
    customer = await PostgresBillingSystem(deps.pool).get_customer(SPAM_SMS_CUSTOMER.msisdn)
    assert customer.web_sms_blocked is False
    assert await subscription_status(deps.pool) == {HOROSCOPE_SP: "unsubscribed", WEATHER_SP: "active"}
    assert len(await spam_reports(deps.pool, case.complaint_id)) == 1


async def test_spam_silence_is_not_consent(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """The customer never answers: reminded after a day, nothing blocked, closed unconfirmed (skipped time)."""
    case = intake("spam_sms", "SPAM", SPAM_SMS_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        handle = await client.file(case)
        await wait_for_question(client, case.complaint_id, "block-web-sms")
        outcome = await handle.result()
        view = await client.view(case.complaint_id)

    assert outcome.outcome == "spam_handled" and outcome.close_reason == "unconfirmed"
    assert [e.question_id for e in of_type(view, "CustomerReminded")] == [
        "block-web-sms",
        "confirm-resolution",
    ]
    assert "keep web-originated SMS" in view.state.decisions
    customer = await PostgresBillingSystem(deps.pool).get_customer(SPAM_SMS_CUSTOMER.msisdn)
    assert customer.web_sms_blocked is False


# --- tariff_dispute ------------------------------------------------------------------------------


async def partner_stats(partner_url: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session, session.get(f"{partner_url}/admin/stats") as response:
        stats: dict[str, Any] = await response.json()
        return stats


async def test_tariff_verified_with_the_agent_store_and_the_remedy_applied(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str
) -> None:
    case = intake("tariff_dispute", "TAR", TARIFF_CUSTOMER)
    async with engine(time_skipping_env, deps) as client:
        outcome, view, _ = await run_case(client, case, [])

    assert outcome.outcome == "agent_remedy_applied" and outcome.close_reason == "confirmed"
    assert outcome.money_moved_fen == 3000
    assert view.state.evidence["customer"]["sales_channel"] == "agent_store"
    assert view.state.evidence["customer"]["agent_code"] == "AG-HZ-017"
    assert view.state.evidence["tariff-plan"]["code"] == "SZX-58"
    assert view.state.evidence["joint-verification"]["tariff_explained"] is False
    decisions_rest_on_evidence(view)
    [sent] = of_type(view, "PartnerRequestSent")
    [confirmed] = of_type(view, "PartnerRequestConfirmed")
    assert sent.partner == confirmed.partner == "AG-HZ-017" and sent.request_key == confirmed.request_key
    types = [e.type for e in view.timeline]
    assert (
        types.index("PartnerRequestConfirmed")
        < types.index("AdjustmentApplied")
        < types.index("ComplaintResolved")
    )
    assert (await partner_stats(partner_url))["joint_verifications"] == 1
    rows = await ledger(deps.pool, case.complaint_id)
    assert [(r["kind"], r["amount_fen"]) for r in rows] == [("refund", 3000)]
    customer = await PostgresBillingSystem(deps.pool).get_customer(TARIFF_CUSTOMER.msisdn)
    assert customer.plan_code == "SZX-18" and customer.balance_fen == 1200 + 3000
