"""Hostile answers, approvals and notes sent to real cases, through the workflow's update validators.

A refused command must change nothing (no event, no state change); an accepted one must store the
person's words intact. The approval rules (an approver role, never the filer) hold inside the
workflow itself: the updates are also sent directly, around the CLI and the client's checks.
Few examples each: every one is a round trip to a real (time-skipping) Temporal server.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest
import pytest_asyncio
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from client.api import CommandRefused, ComplaintClient
from domain.actors import APPROVER_ROLES, Actor, ActorChannel, Role
from domain.cases import Category
from domain.intake import parse_intake
from store.event_store import PostgresEventStore
from stories.arrears_dispute import ARREARS_CUSTOMER
from tests.conftest import engine
from tests.domain.factories import intake_data
from tests.helpers import reset_sandboxes, wait_until
from tests.identity import signed
from tests.properties.strategies import free_text
from worker import Dependencies
from workflows.complaint import ComplaintWorkflow
from workflows.messages import ApprovalDecision

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
FILER = Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
MANAGER = Actor(id="store-manager-wang", role=Role.STORE_MANAGER, channel=ActorChannel.STORE)
CONFIRM = "confirm-resolution"
FEW = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@dataclass
class OpenCase:
    client: ComplaintClient
    complaint_id: str
    last_seq: int

    async def unchanged(self) -> None:
        view = await self.client.view(self.complaint_id)
        assert view.state.last_seq == self.last_seq, [e.type for e in view.timeline[self.last_seq :]]


async def _wait(client: ComplaintClient, complaint_id: str, condition: Any, what: str) -> int:
    view = await wait_until(client, complaint_id, lambda view: condition(view.state), what, closed_fails=False)
    return view.state.last_seq


@pytest_asyncio.fixture
async def awaiting_confirmation(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str, pool: asyncpg.Pool
) -> AsyncIterator[OpenCase]:
    """A forwarding case resolved and waiting for the customer to confirm."""
    await reset_sandboxes(partner_url, pool)
    intake = parse_intake(intake_data(complaint_id="PROP-CONFIRM-" + _suffix()))
    async with engine(time_skipping_env, deps) as client:
        await client.file(intake)
        seq = await _wait(
            client, intake.complaint_id, lambda s: s.pending_question is not None, "never asked"
        )
        yield OpenCase(client, intake.complaint_id, seq)


@pytest_asyncio.fixture
async def awaiting_approval(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, partner_url: str, pool: asyncpg.Pool
) -> AsyncIterator[OpenCase]:
    """An arrears case whose customer disputes: the waiver (adj-1) waits for a supervisor."""
    await reset_sandboxes(partner_url, pool)
    intake = parse_intake(
        {
            "complaint_id": "PROP-WAIVER-" + _suffix(),
            "category": Category.ARREARS_DISPUTE.value,
            "msisdn": ARREARS_CUSTOMER.msisdn,
            "customer_name": ARREARS_CUSTOMER.name,
            "description": "号码已销户, 不可能欠20多元",
            "filed_by": FILER.model_dump(),
        }
    )
    async with engine(time_skipping_env, deps) as client:
        await client.file(intake)
        await _wait(client, intake.complaint_id, lambda s: s.pending_question is not None, "never asked")
        await client.answer(intake.complaint_id, "settle-arrears", "dispute", signed(CUSTOMER))

        def waiting(state: object) -> bool:
            adjustment = state.adjustments.get("adj-1")  # type: ignore[attr-defined]
            return adjustment is not None and adjustment.status == "proposed"

        seq = await _wait(client, intake.complaint_id, waiting, "no waiver waiting for approval")
        yield OpenCase(client, intake.complaint_id, seq)


def _suffix() -> str:
    import uuid

    return uuid.uuid4().hex[:10]


# --- answers -----------------------------------------------------------------------------------------


@FEW
@given(
    question_id=st.one_of(
        st.just(CONFIRM), st.sampled_from(["settle-arrears", "", " confirm-resolution"]), st.text(max_size=40)
    ),
    answer=st.one_of(
        st.sampled_from(["YES", "Yes", " yes", "yes ", "是", "ok", "", "no'; DROP TABLE x; --", "y\u0435s"]),
        st.text(max_size=40),
    ),
)
async def test_an_answer_to_a_question_not_asked_or_not_an_option_is_refused(
    awaiting_confirmation: OpenCase, question_id: str, answer: str
) -> None:
    assume(not (question_id == CONFIRM and answer in ("yes", "no")))
    case = awaiting_confirmation
    with pytest.raises(CommandRefused):
        await case.client.answer(case.complaint_id, question_id, answer, signed(CUSTOMER))
    await case.unchanged()


# --- approvals ---------------------------------------------------------------------------------------


@FEW
@given(
    adjustment_id=st.one_of(
        st.just("adj-1"), st.sampled_from(["adj-2", "ADJ-1", "adj-1 ", "adj-0", ""]), st.text(max_size=12)
    ),
    role=st.sampled_from(list(Role)),
    approver_id=st.one_of(
        st.just(FILER.id), st.just("sup-zhou"), st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True)
    ),
    approve=st.booleans(),
    reason=st.sampled_from(["", "  ", "checked", "'); DROP TABLE boss.adjustment_ledger; --"]),
)
async def test_an_approval_by_the_wrong_person_or_for_the_wrong_adjustment_is_refused(
    awaiting_approval: OpenCase, adjustment_id: str, role: Role, approver_id: str, approve: bool, reason: str
) -> None:
    allowed = (
        adjustment_id == "adj-1"
        and role in APPROVER_ROLES
        and approver_id != FILER.id
        and (approve or reason.strip())
    )
    assume(not allowed)
    case = awaiting_approval
    with pytest.raises(CommandRefused):
        await case.client.decide(
            case.complaint_id,
            adjustment_id,
            approve=approve,
            reason=reason,
            credential=signed(Actor(id=approver_id, role=role)),
        )
    await case.unchanged()


async def test_the_approval_rules_hold_inside_the_workflow_not_only_in_the_cli(
    awaiting_approval: OpenCase, pool: asyncpg.Pool
) -> None:
    """The update sent straight to Temporal (no CLI, no ComplaintClient): the validator refuses."""
    case = awaiting_approval
    handle = case.client.temporal.get_workflow_handle(case.complaint_id)
    bad_approvers = [
        (Actor(id=FILER.id, role=Role.STORE_MANAGER), "filed case"),  # the filer, claiming a manager's role
        (Actor(id="agent-zhang", role=Role.AGENT), "approvals need one of"),
        (Actor(id="customer", role=Role.CUSTOMER), "approvals need one of"),
        (Actor(id="auditor-1", role=Role.AUDITOR), "approvals need one of"),
    ]
    for approver, why in bad_approvers:
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                ComplaintWorkflow.decide_adjustment,
                ApprovalDecision(adjustment_id="adj-1", approve=True, reason="", token=signed(approver)),
            )
        assert why in str(refused.value.cause), refused.value.cause
    await case.unchanged()
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM boss.adjustment_ledger WHERE complaint_id = $1", case.complaint_id
        )
        == 0
    )

    # The control: a manager who did not file the case may approve, and the waiver is applied once.
    await handle.execute_update(
        ComplaintWorkflow.decide_adjustment,
        ApprovalDecision(adjustment_id="adj-1", approve=True, reason="checked", token=signed(MANAGER)),
    )
    await _wait(
        case.client, case.complaint_id, lambda s: s.adjustments["adj-1"].status == "applied", "not applied"
    )
    assert (
        await pool.fetchval(
            "SELECT count(*) FROM boss.adjustment_ledger WHERE complaint_id = $1", case.complaint_id
        )
        == 1
    )


# --- notes -------------------------------------------------------------------------------------------


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=free_text(4000))
async def test_a_note_is_stored_exactly_as_written(
    awaiting_confirmation: OpenCase, pool: asyncpg.Pool, text: str
) -> None:
    case = awaiting_confirmation
    seq = await case.client.note(case.complaint_id, text, signed(MANAGER))
    stored = (await PostgresEventStore(pool).load(case.complaint_id))[seq - 1]
    assert stored.type == "NoteAdded" and stored.text == text  # type: ignore[attr-defined]
    case.last_seq = seq


async def test_a_note_with_a_nul_character_is_refused_and_leaves_the_case_working(
    awaiting_confirmation: OpenCase,
) -> None:
    case = awaiting_confirmation
    try:
        with pytest.raises(CommandRefused):
            await asyncio.wait_for(case.client.note(case.complaint_id, "before\x00after", signed(MANAGER)), 5)
        await case.unchanged()
    finally:
        await case.client.temporal.get_workflow_handle(case.complaint_id).terminate("wedged by the NUL test")
