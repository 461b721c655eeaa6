"""No personal data in clear in Temporal: a real case's raw history, read as the server stores it.

The forwarding story carries everything personal the engine handles: the customer's name, 18-digit ID number,
phone number and the partner-carrier number. After the case has run to its end on the real dev server, the
raw history of its workflow and of its archiver (as `temporal workflow show --output json` or the archive
in PostgreSQL would give it) holds none of them, in any payload or anywhere else; decoded with the key
ring, the same history does hold them, so the search would find them if they were there.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.api.history.v1 import History, HistoryEvent
from temporalio.client import Client, WorkflowHistory
from temporalio.testing import WorkflowEnvironment

from audit.archive_store import PostgresArchiveStore
from client.api import ClientOptions
from codec.aes_gcm import ENCODING, KEY_ID_METADATA, KeyRing, decrypt_payload, encrypted_data_converter
from domain.actors import Actor, Role
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.conftest import TEST_PAYLOAD_KEYS, TOKEN_KEY, engine
from tests.helpers import forwarding_intake, reset_sandboxes, wait_for_question
from tests.identity import TEST_TRUSTED_KEYS, FilingAsIntake, signed
from worker import Dependencies, build_worker, start_archiver
from workflows.archiver import archiver_id
from workflows.complaint import ComplaintWorkflow

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
PERSONAL = {
    "name": FORWARDING_CUSTOMER.name,
    "ID number": FORWARDING_CUSTOMER.id_number,
    "phone number": FORWARDING_CUSTOMER.msisdn,
    "partner number": FORWARDING_CUSTOMER.partner_msisdn,
}


@pytest.fixture(autouse=True)
async def fresh_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    await reset_sandboxes(partner_url, pool)


def _payloads(message: Message) -> list[Payload]:
    """Every Payload the codec handles anywhere inside a protobuf message: inputs, results, update arguments,
    memos, failure details. Search attributes are left out: they are plain by design (keyed tokens only), and
    the raw-bytes search covers them like everything else."""
    if isinstance(message, Payload):
        return [message]
    found: list[Payload] = []
    for field, value in message.ListFields():
        if field.message_type is None or field.name in ("search_attributes", "header"):
            continue
        if isinstance(value, Message):
            items = [value]
        elif field.message_type.GetOptions().map_entry:
            items = list(value.values())
        else:
            items = list(value)
        for item in items:
            if isinstance(item, Message):
                found.extend(_payloads(item))
    return found


def _user_payloads(event: HistoryEvent) -> list[Payload]:
    """The payloads of an event, without the SDK's own bookkeeping, which its core writes without the codec: a
    local activity's marker's `data` detail (its sequence number, attempt and activity type), and a patch
    marker (`workflow.patched`: the patch's id)."""
    payloads = _payloads(event)
    if event.HasField("marker_recorded_event_attributes"):
        if event.marker_recorded_event_attributes.marker_name == "core_patch":
            return []
        bookkeeping = event.marker_recorded_event_attributes.details.get("data")
        if bookkeeping is not None:
            payloads = [p for p in payloads if p not in bookkeeping.payloads]
    return payloads


def _personal_data_in(raw: bytes) -> list[str]:
    return [what for what, value in PERSONAL.items() if value.encode() in raw]


async def test_a_case_history_holds_no_personal_data_in_clear(
    dev_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    intake = forwarding_intake()
    async with engine(dev_env, deps) as client:
        await start_archiver(dev_env.client, client.options.task_queue, interval_seconds=1)
        archiver = dev_env.client.get_workflow_handle(archiver_id(client.options.task_queue))
        handle = await client.file(intake)
        await wait_for_question(client, intake.complaint_id)
        await client.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await handle.result()
        assert handle.result_run_id is not None
        await _archived(deps.pool, intake.complaint_id, handle.result_run_id)
        await archiver.terminate("test over")
    assert outcome.outcome == "forwarding_cancelled"

    for workflow_id in (intake.complaint_id, archiver.id):
        # fetch_history gives the history as the server stores it: payloads are not decoded.
        history = await dev_env.client.get_workflow_handle(workflow_id).fetch_history()
        raw = history_bytes(history)
        assert _personal_data_in(raw) == [], f"{workflow_id}: personal data in clear in the raw history"
        assert _personal_data_in(history.to_json().encode()) == []
        payloads = [p for event in history.events for p in _payloads(event)]
        assert payloads, "the history has payloads"
        plain = [(event.event_id, p.data[:60]) for event in history.events for p in _user_payloads(event)
                 if p.metadata.get("encoding") != ENCODING]
        assert plain == [], "every payload the workflow or a client wrote is encrypted"
        assert {p.metadata[KEY_ID_METADATA] for e in history.events for p in _user_payloads(e)} == {
            TEST_PAYLOAD_KEYS.active.encode()
        }

    # The control: decoded with the key ring, the case's history does hold all of it.
    history = await handle.fetch_history()
    decoded = b"".join(decrypt_payload(TEST_PAYLOAD_KEYS, p).data for event in history.events for p in _payloads(event))
    assert _personal_data_in(decoded) == list(PERSONAL)

    # And so does the archive the auditors read years later: it keeps the encrypted payloads.
    async with deps.pool.acquire() as conn:
        archived = await conn.fetch(
            "SELECT history::text AS history FROM temporal_run_archive WHERE complaint_id = $1", intake.complaint_id
        )
    assert archived
    for row in archived:
        assert _personal_data_in(history_bytes(WorkflowHistory.from_json(intake.complaint_id, row["history"]))) == []


async def _archived(pool: asyncpg.Pool, complaint_id: str, run_id: str) -> None:
    """Wait until the task queue's archiver has stored the run's history."""
    archive = PostgresArchiveStore(pool)
    for _ in range(300):
        if run_id in await archive.archived_run_ids(complaint_id):
            return
        await asyncio.sleep(0.2)
    raise AssertionError(f"run {run_id} of {complaint_id} was never archived")


def history_bytes(history: WorkflowHistory) -> bytes:
    return History(events=history.events).SerializeToString()


async def test_a_history_written_under_key_a_reads_after_key_b_becomes_active(
    dev_env: WorkflowEnvironment, deps: Dependencies
) -> None:
    """Rotation: a case filed and run under key A is finished by a new worker and client whose active key is B;
    the new worker replays A's part of the history (no sticky cache: it is a new worker) and goes on under B."""
    under_a = KeyRing.generate("rotation-a")
    rotated = under_a.with_active("rotation-b", KeyRing.generate().keys["k1"])
    options = ClientOptions(task_queue=f"tq-rotation-{uuid.uuid4().hex}")
    intake = forwarding_intake()

    temporal_a = _client_with(dev_env.client, under_a)
    async with build_worker(temporal_a, deps, options.task_queue, trusted_keys=TEST_TRUSTED_KEYS):
        client_a = FilingAsIntake(temporal_a, options=options, token_key=TOKEN_KEY)
        handle = await client_a.file(intake)
        await wait_for_question(client_a, intake.complaint_id)

    temporal_b = _client_with(dev_env.client, rotated)
    async with build_worker(temporal_b, deps, options.task_queue, trusted_keys=TEST_TRUSTED_KEYS):
        client_b = FilingAsIntake(temporal_b, options=options, token_key=TOKEN_KEY)
        view = await client_b.view(intake.complaint_id)  # a query answered by replaying A's history
        assert view.state.pending_question is not None
        await client_b.answer(intake.complaint_id, "confirm-resolution", "yes", signed(CUSTOMER))
        outcome = await temporal_b.get_workflow_handle_for(
            ComplaintWorkflow.run, intake.complaint_id, run_id=handle.run_id
        ).result()
    assert outcome.outcome == "forwarding_cancelled"

    history = await handle.fetch_history()
    key_ids = {p.metadata[KEY_ID_METADATA] for event in history.events for p in _user_payloads(event)}
    assert key_ids == {b"rotation-a", b"rotation-b"}
    assert _personal_data_in(history_bytes(history)) == []


def _client_with(client: Client, keys: KeyRing) -> Client:
    """The same connection, with the data converter of another key ring."""
    config = client.config()
    config["data_converter"] = encrypted_data_converter(keys)
    return Client(**config)
