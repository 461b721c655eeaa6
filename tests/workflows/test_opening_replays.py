"""A case opens from a local activity (its policy, or its stored events); replaying its history must record
exactly the events that were saved, or the next save would conflict with the event store."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.testing import WorkflowEnvironment

from client.api import ClientOptions
from domain.actors import Actor, Role
from domain.errors import InvalidCommand
from domain.policy import Policy
from store.event_store import PostgresEventStore
from tests.conftest import TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, run_ended, wait_for_question
from tests.identity import TEST_TRUSTED_KEYS, FilingAsIntake, signed
from worker import Dependencies, build_worker
from workflows.complaint import ComplaintWorkflow
from workflows.messages import ComplaintInput

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def test_every_workflow_task_replays_to_the_saved_events(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """No workflow cache: each workflow task replays the history from the start, filing and reopening too."""
    options = ClientOptions(task_queue=f"tq-{uuid.uuid4().hex}")
    async with build_worker(time_skipping_env.client, deps, options.task_queue, max_cached_workflows=0,
                            trusted_keys=TEST_TRUSTED_KEYS):
        client = FilingAsIntake(time_skipping_env.client, options=options, token_key=TOKEN_KEY)
        intake = forwarding_intake()
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        await run_ended(handle)  # not its result: the reopen window is measured on the workflow clock
        reopened = await client.reopen(intake.complaint_id, "forwarded again", signed(CUSTOMER))
        await client.withdraw(intake.complaint_id, "fixed by itself", signed(CUSTOMER))
        outcome = await reopened.result()
        view = await client.view(intake.complaint_id)

    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert stored == view.timeline
    assert outcome.close_reason == "withdrawn" and view.state.reopened == 1


async def test_a_raw_reopen_of_a_case_that_never_was_fails_and_records_nothing(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        handle = await time_skipping_env.client.start_workflow(
            ComplaintWorkflow.run,
            ComplaintInput(intake=intake, msisdn_token="t", token=signed(CUSTOMER), reopen_reason="again",
                           reopened_by=CUSTOMER),
            id=intake.complaint_id,
            task_queue=client.options.task_queue,
        )
        with pytest.raises(WorkflowFailureError) as caught:
            await handle.result()
    assert "no case" in str(caught.value.cause) and "to reopen" in str(caught.value.cause)
    assert await PostgresEventStore(deps.pool).load(intake.complaint_id) == []


async def test_a_raw_reopen_past_the_cases_window_is_refused_by_the_case_itself(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """The client checks the window first; a raw start skips that, and the run checks the recorded policy."""
    intake = forwarding_intake()
    no_reopening = Policy(version="no-reopening", reopen_window_days=0)
    async with engine(time_skipping_env, deps, policy=no_reopening) as client:
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        await handle.result()
        with pytest.raises(InvalidCommand, match="more than 0 days ago"):
            await client.reopen(intake.complaint_id, "again", signed(CUSTOMER))
        again = await time_skipping_env.client.start_workflow(
            ComplaintWorkflow.run,
            ComplaintInput(intake=intake, msisdn_token="t", token=signed(CUSTOMER), reopen_reason="again",
                           reopened_by=CUSTOMER),
            id=intake.complaint_id,
            task_queue=client.options.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        with pytest.raises(WorkflowFailureError) as caught:
            await again.result()
    assert "more than 0 days ago" in str(caught.value.cause)
    stored = await PostgresEventStore(deps.pool).load(intake.complaint_id)
    assert stored[-1].type == "ComplaintClosed" and not any(e.type == "ComplaintReopened" for e in stored)
