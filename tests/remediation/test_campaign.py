"""The remediation campaign on the time-skipping server with a real PostgreSQL: one linked case per harmed
number, nothing new on a rerun, paged and continued as new, paused and resumed only by a supervisor."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.client import WorkflowFailureError
from temporalio.testing import ActivityEnvironment, WorkflowEnvironment
from temporalio.worker import Replayer

from activities.remediation import OpenCaseRequest, OpenedCase, RemediationActivities
from adapters.batches import PostgresBatches
from client.api import CommandRefused, ComplaintClient
from client.remediation import RemediationClient, batch_plan, case_counts
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category
from domain.clock import local_day
from domain.intake import ComplaintIntake
from domain.remediation import RemediationLink, assess, remediation_case_id
from tests.conftest import DATA_CONVERTER, TOKEN_KEY, engine
from tests.helpers import wait_for_question
from tests.identity import signed
from tests.remediation.batches import HARMED_OF_20, small_batch
from worker import WORKFLOW_RUNNER, Dependencies
from workflows.remediation_campaign import CAMPAIGN_FILER, RemediationCampaignWorkflow

SUPERVISOR = Actor(id="sup-wang", role=Role.SUPERVISOR)
AGENT = Actor(id="agent-li", role=Role.AGENT)


@pytest.fixture
async def engine_client(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> AsyncIterator[tuple[ComplaintClient, RemediationClient]]:
    # The cases' search tokens under the same key as the test clients'.
    async with engine(time_skipping_env, dataclasses.replace(deps, msisdn_token_key=TOKEN_KEY)) as client:
        yield client, RemediationClient(client.temporal, task_queue=client.options.task_queue)


async def _cases_saved(pool: asyncpg.Pool, batch_id: str, count: int) -> dict[str, int]:
    for _ in range(600):
        counts = await case_counts(pool, batch_id)
        if sum(counts.values()) >= count:
            return counts
        await asyncio.sleep(0.1)
    raise AssertionError(f"the cases of {batch_id} never reached {count}: {counts}")


async def test_dry_run_plans_one_remedy_per_harmed_number(pool: asyncpg.Pool) -> None:
    batch_id = await small_batch(pool)
    summary = await batch_plan(pool, batch_id, local_day(datetime.now(UTC)))
    assert (summary.numbers, summary.harmed) == (20, HARMED_OF_20)
    assert summary.by_harm == {"shortened": 12, "suspended": 4, "already_past": 2, "topped_up": 2}
    assert summary.by_remedy == {"restore_validity": 12, "restore_validity_and_reactivate": 4}
    assert summary.clawed_back_fen == HARMED_OF_20 * 1000 and summary.refund_fen == 0
    assert (await case_counts(pool, batch_id)) == {}  # a dry run opens nothing


async def test_campaign_opens_one_linked_case_per_harmed_number_and_a_rerun_opens_nothing(
    pool: asyncpg.Pool, engine_client: tuple[ComplaintClient, RemediationClient]
) -> None:
    cases, campaigns = engine_client
    batch_id = await small_batch(pool)
    # Pages of 6, two pages per run: four pages, so the campaign continues as new once.
    handle = await campaigns.start(batch_id, signed(SUPERVISOR), cases_per_minute=60, page_size=6, pages_per_run=2)
    progress = await handle.result()
    assert progress.done and progress.started_by == "sup-wang"
    assert (progress.numbers, progress.assessed, progress.harmed) == (20, 20, HARMED_OF_20)
    assert (progress.opened, progress.already_open) == (HARMED_OF_20, 0)
    assert progress.unaffected == {"already_past": 2, "topped_up": 2}
    assert progress.runs == 2  # continued as new, the counts carried
    # The bounded rate, as the first run's history holds it: after each page a timer of 60 s per case opened
    # at 60 a minute. Page one (positions 1-6) opened six, page two four (9 and 10 are unharmed).
    first_run = campaigns.temporal.get_workflow_handle(handle.id, run_id=handle.first_execution_run_id)
    timers = [e.timer_started_event_attributes.start_to_fire_timeout.ToSeconds()
              async for e in first_run.fetch_history_events() if e.HasField("timer_started_event_attributes")]
    assert timers == [6, 4]
    # Both runs replay against the code as it is: the campaign is deterministic, pause and rate included.
    replayer = Replayer(workflows=[RemediationCampaignWorkflow], data_converter=DATA_CONVERTER,
                        workflow_runner=WORKFLOW_RUNNER)
    for run_id in (handle.first_execution_run_id, None):
        history = await campaigns.temporal.get_workflow_handle(handle.id, run_id=run_id).fetch_history()
        await replayer.replay_workflow(history)

    await _cases_saved(pool, batch_id, HARMED_OF_20)
    # Each case runs the playbook with the campaign's remedy: the validity restored (and a number suspended
    # by the lapse reactivated), then the customer is asked to confirm.
    shortened = await wait_for_question(cases, remediation_case_id(batch_id, 1), "confirm-resolution")
    suspended = await wait_for_question(cases, remediation_case_id(batch_id, 7), "confirm-resolution")
    for done in (shortened, suspended):
        assert done.state.outcome == "validity_restored"
        (adjustment,) = done.state.adjustments.values()
        assert (adjustment.kind, adjustment.amount_fen, adjustment.status) == ("validity_extension", 0, "applied")
    assert any(isinstance(e, ev.BillingActionApplied) and e.action == "reactivate" for e in suspended.timeline)
    assert not any(isinstance(e, ev.BillingActionApplied) for e in shortened.timeline)
    restored = await pool.fetchrow("SELECT status, validity_until FROM boss.customers WHERE msisdn = $1",
                                   suspended.state.msisdn)
    assert restored["status"] == "active" and restored["validity_until"] == suspended.state.adjustments[
        "adj-1"].validity_until
    view = await cases.view(remediation_case_id(batch_id, 1))  # position 1: a shortened number
    filed = view.timeline[0]
    assert isinstance(filed, ev.ComplaintFiled)
    assert (filed.category, filed.description) == (Category.VALIDITY_SHORTENED, f"remediation of batch {batch_id}")
    evidence = next(e for e in view.timeline if isinstance(e, ev.EvidenceRecorded) and e.step == "remediation")
    assert evidence.facts["batch_id"] == batch_id and evidence.facts["harm"] == "shortened"
    (citation,) = evidence.facts["citations"]
    assert citation["kind"] == "balance_change" and citation["record_id"].endswith("/batch_adjustment")
    # Position 9 is already past validity, 10 topped up since: no case for either.
    for unharmed in (9, 10):
        assert not await pool.fetchval("SELECT count(*) FROM complaints WHERE complaint_id = $1",
                                        remediation_case_id(batch_id, unharmed))

    # A rerun opens nothing: every remedied number now runs past its old validity, so none is harmed any more.
    again = await (await campaigns.start(batch_id, signed(SUPERVISOR), page_size=50)).result()
    assert (again.opened, again.already_open, again.harmed) == (0, 0, 0)
    assert again.unaffected == {"already_past": 2, "topped_up": 2 + HARMED_OF_20}
    assert sum((await case_counts(pool, batch_id)).values()) == HARMED_OF_20
    # And a case start repeated (a retry, or a rerun before the remedies landed) finds its case filed.
    activities = RemediationActivities(pool, campaigns.temporal, TOKEN_KEY)
    (member,) = await PostgresBatches(pool).members(batch_id, 0, 1)
    repeat = OpenCaseRequest(
        intake=ComplaintIntake(complaint_id=remediation_case_id(batch_id, 1), category=Category.VALIDITY_SHORTENED,
                               msisdn=member.line.msisdn, customer_name=member.customer_name,
                               description=f"remediation of batch {batch_id}", filed_by=CAMPAIGN_FILER),
        remediation=RemediationLink(batch_id=batch_id, campaign_id=handle.id,
                                    assessment=assess(member.line, local_day(datetime.now(UTC))),
                                    citations=[member.citation]),
        task_queue=cases.options.task_queue,
    )
    assert await ActivityEnvironment().run(activities.open_remediation_case, repeat) == OpenedCase(
        complaint_id=remediation_case_id(batch_id, 1), opened=False)


    # The customer of position 1 walks in about the same batch: the new case is linked to the campaign's.
    msisdn = view.state.msisdn
    walk_in = await cases.file(ComplaintIntake(
        complaint_id=f"WALK-{batch_id}", category=Category.VALIDITY_SHORTENED, msisdn=msisdn,
        customer_name="王先生", description="my validity was cut", filed_by=AGENT,
    ))
    assert walk_in.linked_case_ids == [remediation_case_id(batch_id, 1)]
    # Told where it stands, and nothing restored twice: the campaign's case already gave the validity back.
    told = await wait_for_question(cases, walk_in.complaint_id, "confirm-resolution")
    assert told.state.outcome == "validity_already_restored" and not told.state.adjustments
    resolved = next(e for e in told.timeline if isinstance(e, ev.ComplaintResolved))
    assert f"Case {remediation_case_id(batch_id, 1)} is about the same" in resolved.summary


async def test_only_a_supervisor_pauses_and_resumes_and_a_paused_campaign_opens_nothing(
    pool: asyncpg.Pool,
    engine_client: tuple[ComplaintClient, RemediationClient],
    time_skipping_env: WorkflowEnvironment,
) -> None:
    _, campaigns = engine_client
    batch_id = await small_batch(pool)
    # One case a minute, pages of two: after its first page the campaign waits two (skippable) minutes.
    handle = await campaigns.start(batch_id, signed(SUPERVISOR), cases_per_minute=1, page_size=2)
    for _ in range(600):
        if (await campaigns.status(batch_id)).assessed:
            break
        await asyncio.sleep(0.05)
    with pytest.raises(CommandRefused, match="agent cannot pause"):
        await campaigns.pause(batch_id, signed(AGENT))
    with pytest.raises(CommandRefused, match="not proven"):
        await campaigns.pause(batch_id, "not-a-token")
    with pytest.raises(CommandRefused, match="not paused"):
        await campaigns.resume(batch_id, signed(SUPERVISOR))
    paused = await campaigns.pause(batch_id, signed(SUPERVISOR), reason="billing system maintenance")
    assert paused.paused and paused.paused_by == "sup-wang"

    await time_skipping_env.sleep(timedelta(hours=2))  # far past every page's wait: still it holds
    held = await campaigns.status(batch_id)
    assert held.paused and not held.done and held.assessed <= 4
    with pytest.raises(CommandRefused, match="already paused"):
        await campaigns.pause(batch_id, signed(SUPERVISOR))

    await campaigns.resume(batch_id, signed(SUPERVISOR))
    progress = await handle.result()
    assert progress.done and progress.opened == HARMED_OF_20 and not progress.paused
    # The accepted pause and resume are in its history (the refused ones never reached it), and it replays.
    history = await handle.fetch_history()
    updates = [e.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
               for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")]
    assert updates == ["pause", "resume"]
    await Replayer(workflows=[RemediationCampaignWorkflow], data_converter=DATA_CONVERTER,
                   workflow_runner=WORKFLOW_RUNNER).replay_workflow(history)


async def test_an_agent_cannot_start_a_campaign_nor_anyone_an_unknown_batch(
    pool: asyncpg.Pool, engine_client: tuple[ComplaintClient, RemediationClient]
) -> None:
    _, campaigns = engine_client
    batch_id = await small_batch(pool)
    with pytest.raises(WorkflowFailureError) as refused:
        await (await campaigns.start(batch_id, signed(AGENT))).result()
    assert "cannot start a remediation campaign" in str(refused.value.cause.cause)
    assert (await case_counts(pool, batch_id)) == {}
    with pytest.raises(WorkflowFailureError) as unknown:
        await (await campaigns.start("NO-SUCH-BATCH", signed(SUPERVISOR))).result()
    assert "no batch NO-SUCH-BATCH" in str(unknown.value.cause)
