"""Admissibility at opening (time-skipping server, real event store): a billing dispute about charges older than
5 months is filed and rejected with the rule named, its playbook never runs; one 4 months old is worked."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from domain import events as ev
from domain.cases import Category, Status
from domain.clock import local_day
from domain.intake import ComplaintIntake, parse_intake
from domain.policy import Policy
from domain.regulatory import RegulatoryRules, months_before
from store.event_store import PostgresEventStore
from stories.billing_spike import BILLING_SPIKE_CUSTOMER
from tests.conftest import engine
from tests.domain.factories import intake_data
from tests.helpers import reset_sandboxes, wait_until
from worker import Dependencies

BILLING_RULE = "MIIT: billing disputes older than 5 months are not accepted"


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def months_ago(months: int) -> date:
    # The test server's clock starts at the machine's: the case is filed today, Shanghai time.
    return months_before(local_day(datetime.now(UTC)), months)


def spike_intake(disputed_since: date) -> ComplaintIntake:
    return parse_intake(intake_data(
        complaint_id=f"ADM-{uuid.uuid4().hex[:10]}", category="billing_spike",
        msisdn=BILLING_SPIKE_CUSTOMER.msisdn, customer_name=BILLING_SPIKE_CUSTOMER.name,
        description="话费比平时高四倍", id_number=None, partner_msisdn=None,
        disputed_since=disputed_since.isoformat(),
    ))


async def test_a_billing_dispute_about_six_month_old_charges_is_rejected_naming_the_rule(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = spike_intake(months_ago(6))
    async with engine(time_skipping_env, deps, policy=Policy(version="p-admit")) as client:
        receipt = await client.file(intake)
        outcome = await receipt.result()
        view = await client.view(intake.complaint_id)

    assert (outcome.status, outcome.close_reason, outcome.events) == ("closed", "rejected", 2)
    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert stored == view.timeline
    assert [e.type for e in stored] == ["ComplaintFiled", "ComplaintRejected"]
    filed, rejected = stored
    assert isinstance(filed, ev.ComplaintFiled) and filed.disputed_since == months_ago(6)
    assert filed.policy is not None and filed.policy.version == "p-admit"
    assert isinstance(rejected, ev.ComplaintRejected) and rejected.rule == BILLING_RULE
    assert rejected.oldest_accepted == months_ago(5) and months_ago(6).isoformat() in rejected.reason
    assert view.state.status is Status.CLOSED and view.state.rejection is not None
    # Nothing of the playbook ran: no lookup of open cases, no evidence, no clock.
    assert receipt.linked_case_ids is None and not view.state.evidence and not view.state.clocks


async def test_a_billing_dispute_about_four_month_old_charges_is_accepted_and_worked(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = spike_intake(months_ago(4))
    async with engine(time_skipping_env, deps, policy=Policy(version="p-admit")) as client:
        receipt = await client.file(intake)
        view = await wait_until(client, intake.complaint_id, lambda v: bool(v.state.evidence), "its first evidence")
        await receipt.terminate("test over")

    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert "ComplaintRejected" not in [e.type for e in stored]
    filed = stored[0]
    assert isinstance(filed, ev.ComplaintFiled) and filed.disputed_since == months_ago(4)
    assert view.state.category is Category.BILLING_SPIKE and view.state.rejection is None
    # Worked: its clocks run and its playbook looked for the number's other open cases (there may be some).
    assert {"acknowledge", "resolve"} <= set(view.state.clocks) and "LinkedToCase" in [e.type for e in stored]


async def test_the_rule_comes_from_the_workers_policy_recorded_with_the_case(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """A deployment whose rules say 3 months rejects the 4-month-old dispute the default accepts."""
    strict = Policy(version="p-3m", regulatory=RegulatoryRules(billing_dispute_months=3))
    intake = spike_intake(months_ago(4))
    async with engine(time_skipping_env, deps, policy=strict) as client:
        outcome = await (await client.file(intake)).result()

    assert outcome.close_reason == "rejected"
    filed, rejected = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert isinstance(filed, ev.ComplaintFiled) and filed.policy is not None
    assert filed.policy.version == "p-3m" and filed.policy.regulatory.billing_dispute_months == 3
    assert isinstance(rejected, ev.ComplaintRejected) and "3 months" in rejected.rule
