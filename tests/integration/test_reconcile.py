"""Cases whose workflow is terminated or cancelled from outside are reconciled: an event says what Temporal
says happened and who did it, the read model and `list` show it, and `list --stalled` leaves them out.
On the dev server (real visibility), with the reconciler workflow the worker would start."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

import starter
from client.api import ComplaintClient
from client.queries import CaseFilter
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category, Priority, Status
from domain.policy import Policy
from domain.sla import policy_for
from domain.state import fold
from store.event_store import PostgresEventStore
from tests.conftest import TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, set_partner_faults
from tests.identity import prepare_logins, signed
from worker import Dependencies, start_archiver, start_reconciler
from workflows.archiver import archiver_id
from workflows.reconciler import reconciler_id

TERMINATE_REASON = "operator: filed twice, see the other case"
CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


async def eventually(check: Callable[[], object], what: str, attempts: int = 150) -> None:
    for _ in range(attempts):
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"never: {what}")


async def ids(client: ComplaintClient, case_filter: CaseFilter) -> dict[str, str | None]:
    return {row.complaint_id: row.status for row in await client.list_cases(case_filter)}


async def test_a_terminated_and_a_cancelled_case_are_reconciled(
    dev_env: WorkflowEnvironment, deps: Dependencies, partner_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    await set_partner_faults(partner_url, error_rate=1.0)  # the playbook keeps retrying: the cases stall
    tight = policy_for(Category.FORWARDING_CANCEL, Priority.NORMAL).model_copy(
        update={"resolve_within": timedelta(seconds=2), "re_escalate_after": timedelta(minutes=10)}
    )
    policy = Policy(version="tight", sla_overrides={Category.FORWARDING_CANCEL: {Priority.NORMAL: tight}})
    store = PostgresEventStore(deps.pool)
    async with engine(dev_env, deps, policy=policy) as client:
        queue = client.options.task_queue
        terminated, cancelled = forwarding_intake(), forwarding_intake()
        for intake in (terminated, cancelled):
            await client.file(intake)
        ours = {terminated.complaint_id, cancelled.complaint_id}

        async def both_stalled() -> bool:
            return ours <= set(await ids(client, CaseFilter(stalled=True)))

        await eventually(both_stalled, "both cases listed as stalled")

        await dev_env.client.get_workflow_handle(terminated.complaint_id).terminate(reason=TERMINATE_REASON)
        await dev_env.client.get_workflow_handle(cancelled.complaint_id).cancel()
        await start_reconciler(dev_env.client, queue, interval_seconds=1)
        await start_reconciler(dev_env.client, queue, interval_seconds=1)  # idempotent: the same one keeps running
        await start_archiver(dev_env.client, queue, interval_seconds=1)

        async def reconciled() -> bool:
            states = [await store.state(cid) for cid in ours]
            return all(state is not None and not state.is_open for state in states)

        await eventually(reconciled, "both cases reconciled")

        async def listed_as_stopped() -> bool:
            listed = await ids(client, CaseFilter(include_closed=True))
            return listed.get(terminated.complaint_id) == "terminated" and listed.get(
                cancelled.complaint_id) == "canceled"

        await eventually(listed_as_stopped, "list --all shows how they stopped")
        stalled_now = set(await ids(client, CaseFilter(stalled=True)))
        open_now = set(await ids(client, CaseFilter()))
        closed_now = set(await ids(client, CaseFilter(status=Status.CLOSED)))

        monkeypatch.setenv("TEMPORAL_ADDRESS", dev_env.client.service_client.config.target_host)
        monkeypatch.setenv("MSISDN_TOKEN_KEY", TOKEN_KEY)
        logged_in = Path(tempfile.mkdtemp(prefix="complaints-cli-"))  # `list` needs a login
        prepare_logins(logged_in)
        monkeypatch.setenv("COMPLAINTS_DATA_DIR", str(logged_in))
        monkeypatch.setenv("COMPLAINTS_TASK_QUEUE", queue)
        capsys.readouterr()
        assert await asyncio.to_thread(starter.main, ["list", "--stalled", "--json"]) == 0
        cli_stalled = {row["complaint_id"] for row in json.loads(capsys.readouterr().out)}
        assert await asyncio.to_thread(starter.main, ["list", "--all", "--json"]) == 0
        cli_all = {row["complaint_id"]: row["status"] for row in json.loads(capsys.readouterr().out)}

        # The terminated case can be taken up again: a reopened run continues its stream after the reconciliation.
        reopened = await client.reopen(
            terminated.complaint_id, "the customer still cannot receive calls", signed(CUSTOMER)
        )
        after_reopen = await client.view(terminated.complaint_id)
        await client.withdraw(terminated.complaint_id, "solved at the counter", signed(CUSTOMER))
        await reopened.result()

        # The stopped runs' histories are archived for the auditors, as a closed case's are: the reconciler's
        # event queued each for the archiver.
        async def archived() -> bool:
            rows = await deps.pool.fetch(
                "SELECT complaint_id, run_id FROM temporal_run_archive WHERE complaint_id = ANY($1::text[])",
                list(ours),
            )
            return {row["complaint_id"] for row in rows} == ours

        await eventually(archived, "the stopped runs archived")

        reconciler = dev_env.client.get_workflow_handle(reconciler_id(queue))
        runs = [wf async for wf in dev_env.client.list_workflows(f"WorkflowId = '{reconciler_id(queue)}'")]
        await reconciler.terminate("test over")
        await dev_env.client.get_workflow_handle(archiver_id(queue)).terminate("test over")

    assert len(runs) == 1  # started twice, one reconciler
    assert not ours & stalled_now and not ours & open_now and not ours & cli_stalled
    assert ours <= closed_now
    assert cli_all[terminated.complaint_id] == "terminated" and cli_all[cancelled.complaint_id] == "canceled"

    events = await store.load(terminated.complaint_id)
    events = events[: next(i for i, e in enumerate(events) if isinstance(e, ev.CaseReconciled)) + 1]
    last = events[-1]
    assert isinstance(last, ev.CaseReconciled)
    assert last.execution_status == "terminated"
    assert last.identity == dev_env.client.identity and last.reason == TERMINATE_REASON
    assert last.seq == len(events) and last.actor.id == "reconciler"
    state = fold(events)
    assert state is not None and state.status is Status.CLOSED and state.close_reason == "workflow_terminated"
    assert state.attention_reason is not None and TERMINATE_REASON in state.attention_reason

    assert after_reopen.state.is_open and after_reopen.state.reopened == 1
    assert after_reopen.state.attention_reason is None
    assert [e.type for e in after_reopen.timeline[len(events) - 1:len(events) + 1]] == [
        "CaseReconciled", "ComplaintReopened"]

    cancel_event = (await store.load(cancelled.complaint_id))[-1]
    assert isinstance(cancel_event, ev.CaseReconciled)
    assert cancel_event.execution_status == "canceled" and cancel_event.identity == dev_env.client.identity

    async with deps.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT complaint_id, status, state->>'close_reason' AS reason FROM complaints "
            "WHERE complaint_id = ANY($1::text[])",
            list(ours),
        )
        notices = await conn.fetch(
            "SELECT complaint_id, subject FROM notification_outbox "
            "WHERE recipient_role = 'supervisor' AND complaint_id = ANY($1::text[])",
            list(ours),
        )
    assert {(r["complaint_id"], r["status"], r["reason"]) for r in rows} == {
        (terminated.complaint_id, "closed", "withdrawn"),  # reopened, then withdrawn
        (cancelled.complaint_id, "closed", "workflow_canceled"),
    }
    assert {n["complaint_id"] for n in notices} == ours
    assert any(dev_env.client.identity in n["subject"] for n in notices)
