"""The filer and the reopener are verified inside the worker (issue #13): a raw Temporal start, past the client
API, with no token, an expired one or one signed by another key files nothing and ends refused saying why; a
good token is what the case records as its filer, whatever the intake claims (time-skipping server)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.common import WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment

from auth.tokens import SigningKey
from client.api import CaseNotFound, ComplaintClient
from client.tokens import msisdn_token
from domain import events as ev
from domain.actors import Actor, ActorChannel, Role
from domain.intake import ComplaintIntake
from store.event_store import PostgresEventStore
from tests.conftest import TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, run_ended, wait_for_question
from tests.identity import signed
from worker import Dependencies
from workflows.complaint import ComplaintWorkflow
from workflows.messages import ComplaintInput


class Refusal(NamedTuple):
    type: str
    message: str


AGENT_LI = Actor(id="agent-li", role=Role.AGENT)
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
MADE_UP_BOSS = Actor(id="totally-made-up-boss", role=Role.SUPERVISOR)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def _forged_tokens() -> list[tuple[str, str]]:
    """(token, what the refusal says) for each way a filer can fail to prove who they are."""
    stranger = SigningKey.generate("stranger-key")
    an_hour_ago = datetime.now(UTC) - timedelta(hours=2)
    return [
        ("", "no token"),
        (signed(AGENT_LI, now=an_hour_ago, ttl=timedelta(hours=1)), "expired"),
        (signed(AGENT_LI, key=stranger), "does not trust (kid 'stranger-key')"),
        ("not-a-jwt", "not a signed JWT"),
    ]


async def _raw_start(client: ComplaintClient, env: WorkflowEnvironment, start: ComplaintInput) -> Refusal:
    """Start the case's workflow straight through Temporal; the failure it ends with, and its message."""
    handle = await env.client.start_workflow(
        ComplaintWorkflow.run, start, id=start.intake.complaint_id, task_queue=client.options.task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
    )
    last = await run_ended(handle)
    assert last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, "the run was not refused"
    failure = last.workflow_execution_failed_event_attributes.failure
    assert failure.application_failure_info.non_retryable
    return Refusal(failure.application_failure_info.type, failure.message)


def _input(intake: ComplaintIntake, token: str, **fields: object) -> ComplaintInput:
    return ComplaintInput.model_validate({"intake": intake, "msisdn_token": msisdn_token(TOKEN_KEY, intake.msisdn),
                                          "token": token, **fields})


@pytest.mark.parametrize(("forgery", "reason"), _forged_tokens())
async def test_a_raw_filing_whose_token_proves_nobody_is_refused_and_records_nothing(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies, forgery: str, reason: str
) -> None:
    intake = forwarding_intake(filed_by=MADE_UP_BOSS.model_dump(mode="json"))
    async with engine(time_skipping_env, deps) as client:
        refused = await _raw_start(client, time_skipping_env, _input(intake, forgery))
        assert refused.type == "FilingRefused"
        assert f"case {intake.complaint_id} refused: the filer is not proven" in refused.message
        assert reason in refused.message, refused.message
        # The run ended refused, and says so when asked: not a silent death, not a case with a made-up filer.
        with pytest.raises(CaseNotFound, match=r"was not opened: .* the filer is not proven"):
            await client.view(intake.complaint_id)
    assert await PostgresEventStore(deps.pool).load(intake.complaint_id) == []


async def test_the_engine_channel_is_not_a_filers(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        refused = await _raw_start(client, time_skipping_env,
                                   _input(intake, signed(AGENT_LI), channel=ActorChannel.ENGINE))
    assert refused.type == "FilingRefused" and "the engine channel is the engine's own" in refused.message
    assert await PostgresEventStore(deps.pool).load(intake.complaint_id) == []


async def test_the_case_records_the_filer_its_token_proves_not_the_one_the_intake_claims(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake(filed_by=MADE_UP_BOSS.model_dump(mode="json"))
    async with engine(time_skipping_env, deps) as client:
        handle = await time_skipping_env.client.start_workflow(
            ComplaintWorkflow.run, _input(intake, signed(AGENT_LI), channel=ActorChannel.STORE),
            id=intake.complaint_id, task_queue=client.options.task_queue,
        )
        view = await wait_for_question(client, intake.complaint_id)
        await handle.terminate("test over")
    filed = view.timeline[0]
    assert isinstance(filed, ev.ComplaintFiled)
    assert filed.actor == Actor(id="agent-li", role=Role.AGENT, channel=ActorChannel.STORE)
    assert view.state.filed_by.id == "agent-li" and view.state.assignee == "agent-li"


async def test_a_reopening_proves_its_reopener_too(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        filed = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        await run_ended(time_skipping_env.client.get_workflow_handle(intake.complaint_id, run_id=filed.result_run_id))
        closed = await PostgresEventStore(deps.pool).load(intake.complaint_id)

        for forgery, reason in _forged_tokens():
            # The old input's declared reopener, with a token that proves nobody.
            start = _input(intake, forgery, reopening=True, reopen_reason="again",
                           reopened_by=MADE_UP_BOSS.model_dump(mode="json"))
            refused = await _raw_start(client, time_skipping_env, start)
            assert refused.type == "ReopenRefused" and "the reopener is not proven" in refused.message
            assert reason in refused.message, refused.message
        assert await PostgresEventStore(deps.pool).load(intake.complaint_id) == closed

        reopened = await client.reopen(intake.complaint_id, "forwarded again", signed(CUSTOMER))
        again = None
        for _ in range(600):  # until the opening's events are saved
            stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
            if again := next((e for e in stored if isinstance(e, ev.ComplaintReopened)), None):
                break
            await asyncio.sleep(0.05)
        await reopened.terminate("test over")
    assert again is not None, "the proven reopening was not recorded"
    assert (again.actor.id, again.actor.role) == ("customer", Role.CUSTOMER)
