"""The archive on the real dev server: a closed case's every run lands in PostgreSQL through the archive
queue and the task queue's batch archiver, and history, export and verify read it back after Temporal
has forgotten the case."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from itertools import pairwise
from pathlib import Path

import asyncpg
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from audit.archive_store import PostgresArchiveStore, history_digest
from audit.temporal_history import EncryptedHistory, saved_domain_events
from client.api import ComplaintClient
from client.tokens import msisdn_token
from domain.actors import Actor, ActorChannel, Role
from runtime.logging import configure_logging
from store import archive_queue
from store.archive_queue import ArchiveTicket
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.audit.conftest import AuditDb, preserved_logging
from tests.conftest import TEST_PAYLOAD_KEYS, TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question, wait_until
from tests.identity import signed
from worker import Dependencies, start_archiver
from workflows import search_attributes as sa
from workflows.archiver import archiver_id
from workflows.complaint import ComplaintWorkflow
from workflows.messages import ComplaintInput

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
PERSONAL_NUMBERS = (FORWARDING_CUSTOMER.msisdn, FORWARDING_CUSTOMER.id_number, FORWARDING_CUSTOMER.partner_msisdn)


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


@contextlib.contextmanager
def captured_logs() -> Iterator[io.StringIO]:
    """Everything the process logs meanwhile, at DEBUG, through the project's own (masking) setup."""
    stream = io.StringIO()
    with preserved_logging():
        configure_logging("json", "DEBUG", stream=stream)
        yield stream


async def run_to_close(client: ComplaintClient, handle: WorkflowHandle) -> str:
    """Answer the confirmation question; the closed run's id."""
    await wait_for_question(client, handle.id)
    await client.answer(handle.id, "confirm-resolution", "yes", signed(CUSTOMER))
    return await closed_run(handle)


async def closed_run(handle: WorkflowHandle) -> str:
    outcome = await asyncio.wait_for(handle.result(follow_runs=False), 60)
    assert outcome.status == "closed"
    assert handle.result_run_id is not None
    return handle.result_run_id


async def archived(pool: asyncpg.Pool, complaint_id: str, run_id: str) -> list[str]:
    """Wait until the archiver has stored the run and emptied the case's queue; the case's archived runs."""
    archive = PostgresArchiveStore(pool)
    for _ in range(600):
        done = run_id in await archive.archived_run_ids(complaint_id)
        if done and not await archive_queue.queued(pool, complaint_id):
            return [run.run_id for run in await archive.runs(complaint_id)]
        await asyncio.sleep(0.1)
    raise AssertionError(f"run {run_id} of {complaint_id} was never archived")


async def delete_from_temporal(temporal: Client, complaint_id: str, run_id: str) -> None:
    await temporal.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(
            namespace=temporal.namespace,
            workflow_execution=WorkflowExecution(workflow_id=complaint_id, run_id=run_id),
        )
    )
    # Deletion is asynchronous: a few seconds on the tests' dev server (conftest.QUICK_DELETION), 30 s by default.
    for _ in range(1200):
        try:
            await temporal.get_workflow_handle(complaint_id, run_id=run_id).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return
            raise
        await asyncio.sleep(0.05)
    raise AssertionError(f"{complaint_id} run {run_id} was never deleted")


async def test_every_run_is_archived_and_readable_after_temporal_forgets_the_case(
    dev_env: WorkflowEnvironment, deps: Dependencies, database_url: str, cli, tmp_path: Path, audit_db: AuditDb
) -> None:
    intake = forwarding_intake()
    case_id = intake.complaint_id
    archive = PostgresArchiveStore(deps.pool)
    temporal = dev_env.client

    with captured_logs() as logs:
        async with engine(dev_env, deps) as client:
            queue = client.options.task_queue
            await start_archiver(temporal, queue, interval_seconds=1)
            await start_archiver(temporal, queue, interval_seconds=1)  # idempotent: the running one is kept
            first = await client.file(intake)
            await wait_for_question(client, case_id)
            description = await temporal.get_workflow_handle(case_id).describe()
            first_run = await run_to_close(client, first)
            assert await archived(deps.pool, case_id, first_run) == [first_run]

            # Archived the complete history: the same events Temporal returns, close event included.
            runs = await archive.runs(case_id, with_history=True)
            assert [(r.run_id, r.status) for r in runs] == [(first_run, "completed")]
            fetched = await temporal.get_workflow_handle(case_id, run_id=first_run).fetch_history()
            assert runs[0].history == json.loads(fetched.to_json())
            assert runs[0].history_sha256 == history_digest(runs[0].history)
            assert runs[0].history["events"][-1]["eventType"] == "EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED"

            # Archiving the same run again is a no-op: queued once more, taken, and nothing stored twice.
            async with deps.pool.acquire() as conn:
                await archive_queue.enqueue(conn, case_id, ArchiveTicket(first_run, queue))
            assert await archived(deps.pool, case_id, first_run) == [first_run]
            assert await archive.runs(case_id) == [replace(r, history=None) for r in runs]  # archived_at too

            # The customer comes back: a new run of the same workflow id, archived with the first.
            second = await temporal.start_workflow(
                ComplaintWorkflow.run,
                ComplaintInput(
                    intake=intake,
                    msisdn_token=msisdn_token(TOKEN_KEY, intake.msisdn),
                    token=signed(CUSTOMER),
                    channel=CUSTOMER.channel,
                    reopening=True,
                    reopen_reason="calls went to the old number again",
                    reopened_by=CUSTOMER,
                ),
                id=case_id,
                task_queue=client.options.task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            )
            await wait_until(client, case_id, lambda view: view.state.is_open, "reopened", closed_fails=False)
            # A reopened case is worked by hand; here the customer withdraws it, which closes it too.
            await client.withdraw(case_id, "the calls reach me again after all", signed(CUSTOMER))
            second_run = await closed_run(second)
            assert await archived(deps.pool, case_id, second_run) == [first_run, second_run]

    stored_runs = await archive.runs(case_id)
    assert [r.run_id for r in stored_runs] == [first_run, second_run]

    # No phone or ID number in visibility: the MsisdnToken is a keyed token, nothing else holds one.
    values = {name: str(value) for name, value in description.search_attributes.items()}
    assert values[sa.MSISDN_TOKEN.name] == str([msisdn_token(TOKEN_KEY, intake.msisdn)])
    assert not [name for name, value in values.items() for number in PERSONAL_NUMBERS if number in value]
    # ... nor in anything the engine logged while running the case (its log is not empty).
    log_text = logs.getvalue()
    assert case_id in log_text and "events saved" in log_text
    assert not [number for number in PERSONAL_NUMBERS if number in log_text]

    await asyncio.gather(*(delete_from_temporal(temporal, case_id, run) for run in (first_run, second_run)))

    run = cli(database_url)
    history = await run("history", case_id)
    assert history.code == 0, history.err
    assert f"Case {case_id}  [forwarding_cancel, normal]  status closed" in history.out
    assert "Reopened: calls went to the old number again" in history.out
    assert "Withdrawn: the calls reach me again after all" in history.out
    assert "customer (customer, store)" in history.out and "engine (system, engine)" in history.out
    assert "Temporal runs archived: 2" in history.out
    assert not [number for number in PERSONAL_NUMBERS if number in history.out]

    raw = await run("history", case_id, "--raw")
    assert raw.code == 0, raw.err
    assert raw.out.count("\nRun ") == 2
    assert "WorkflowExecutionStarted" in raw.out and "ComplaintWorkflow on task queue" in raw.out
    assert "append_events (activity" in raw.out and "cancel_forwarding" in raw.out
    assert "StartChildWorkflowExecutionInitiated" not in raw.out  # no archiver child per case any more
    assert "update answer" in raw.out and "WorkflowExecutionCompleted" in raw.out

    bundle_path = tmp_path / "bundle.json"
    exported = await run("export", case_id, "-o", str(bundle_path))
    assert exported.code == 0, exported.err
    bundle = json.loads(bundle_path.read_text(encoding="utf-8"))
    events = bundle["events"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
    assert all(e["prev_hash"] == p["hash"] for p, e in pairwise(events))
    assert bundle["chain_head"] == {"seq": events[-1]["seq"], "hash": events[-1]["hash"]}
    assert [r["run_id"] for r in bundle["temporal_runs"]] == [first_run, second_run]
    assert all(history_digest(r["history"]) == r["history_sha256"] for r in bundle["temporal_runs"])
    assert bundle["verification"]["intact"] is True, json.dumps(bundle["verification"], ensure_ascii=False)
    # The auditors' copy holds the personal data the events hold.
    filed = events[0]["event"]
    assert (filed["msisdn"], filed["id_number"]) == (FORWARDING_CUSTOMER.msisdn, FORWARDING_CUSTOMER.id_number)

    verified = await run("verify", case_id)
    assert verified.code == 0, verified.out
    assert f"checked 1 case(s), {len(events)} event(s), 2 archived Temporal run(s)" in verified.out
    # That check compared something: the archived histories are encrypted, and through the payload keys
    # they hold every event the store holds (sealed there, opened for the comparison).
    with_history = await archive.runs(case_id, with_history=True)
    with pytest.raises(EncryptedHistory):
        list(saved_domain_events(with_history[0]))
    saved = {
        data["seq"] for archived_run in with_history for data in saved_domain_events(archived_run, TEST_PAYLOAD_KEYS)
    }
    assert saved == {e["seq"] for e in events}

    # What the workflow stored holds no personal value in clear: only sealed, opened on read (above).
    at_rest = await deps.pool.fetchval(
        """SELECT string_agg(t::text, E'\\n') FROM (
               SELECT payload::text FROM complaint_events WHERE complaint_id = $1
               UNION ALL SELECT c::text FROM complaints c WHERE complaint_id = $1
               UNION ALL SELECT o::text FROM notification_outbox o WHERE complaint_id = $1) t""",
        case_id,
    )
    assert "pii:v1:" in at_rest
    assert not [value for value in (*PERSONAL_NUMBERS, FORWARDING_CUSTOMER.name) if value in at_rest]

    # Erased, the case's chain and its agreement with both archived runs still verify. The case is copied
    # to a database of its own first: the session's database holds other open cases of the same number.
    await copy_case(deps.pool, audit_db.pool, case_id)
    erase = cli(audit_db.url)
    erased = await erase("erase", "--msisdn", FORWARDING_CUSTOMER.msisdn, "--reason", "the customer asked",
                         "--as", "sup-zhang")
    assert erased.code == 0, erased.err
    assert f"on 1 case(s): {case_id} (event {len(events) + 1})" in erased.out
    after = await erase("verify", case_id)
    assert after.code == 0, after.out
    assert f"checked 1 case(s), {len(events) + 1} event(s), 2 archived Temporal run(s)" in after.out
    erased_history = json.loads((await erase("history", case_id, "--json")).out)
    assert erased_history["state"]["msisdn"] == "[erased]" and erased_history["state"]["customer_name"] == "[erased]"


async def copy_case(source: asyncpg.Pool, target: asyncpg.Pool, case_id: str) -> None:
    """The case's rows, as stored, from one database into another (its keys and archived runs too)."""
    for table, query in (
        ("customer_keys",
         "SELECT * FROM customer_keys WHERE key_id IN (SELECT key_id FROM complaint_keys WHERE complaint_id = $1)"),
        ("complaint_keys", "SELECT * FROM complaint_keys WHERE complaint_id = $1"),
        ("complaint_events", "SELECT * FROM complaint_events WHERE complaint_id = $1"),
        ("chain_heads", "SELECT * FROM chain_heads WHERE complaint_id = $1"),
        ("complaints", "SELECT * FROM complaints WHERE complaint_id = $1"),
        ("temporal_run_archive", "SELECT * FROM temporal_run_archive WHERE complaint_id = $1"),
    ):
        rows = await source.fetch(query, case_id)
        assert rows, table
        await target.copy_records_to_table(table, records=[tuple(row) for row in rows], columns=list(rows[0].keys()))


async def test_the_archive_works_without_visibility_on_the_time_skipping_server(
    time_skipping_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """The test server has no visibility store: the triggering run is archived all the same."""
    intake = forwarding_intake()
    async with engine(time_skipping_env, deps) as client:
        await start_archiver(time_skipping_env.client, client.options.task_queue, interval_seconds=1)
        handle = await client.file(intake)
        run_id = await run_to_close(client, handle)
        assert await archived(deps.pool, intake.complaint_id, run_id) == [run_id]
        await time_skipping_env.client.get_workflow_handle(archiver_id(client.options.task_queue)).terminate(
            "test over")
    runs = await PostgresArchiveStore(deps.pool).runs(intake.complaint_id)
    assert [(run.run_id, run.status) for run in runs] == [(run_id, "completed")]
