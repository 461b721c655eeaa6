"""The hub over HTTP: TMF621 POST/GET/DELETE /hub with bearer tokens, the secret shown once, the query filter
applied by the relay, and the dead-letter routes a supervisor uses."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from temporalio.client import Client

from api.app import create_app
from api.context import ApiContext
from client.api import ClientOptions, ComplaintClient
from delivery.relay import Relay
from domain.actors import Actor, Role
from domain.tmf_events import STATUS_CHANGE
from store.event_store import PostgresEventStore
from tests.audit.conftest import AuditDb
from tests.conftest import TOKEN_KEY
from tests.delivery.cases import outbox_ids, rounds_until, standard_signature, stored_case
from tests.delivery.conftest import FAST, WebhookListener
from tests.identity import TEST_TRUSTED_KEYS, signed

HUB = "/tmf-api/troubleTicket/v5/hub"
SUPERVISOR = {"Authorization": f"Bearer {signed(Actor(id='sup-hub', role=Role.SUPERVISOR))}"}
AGENT = {"Authorization": f"Bearer {signed(Actor(id='agent-hub', role=Role.AGENT))}"}


@pytest_asyncio.fixture
async def api(audit_db: AuditDb) -> AsyncIterator[httpx.AsyncClient]:
    # The hub never calls Temporal: a lazy client that is never connected stands in the context.
    temporal = await Client.connect("127.0.0.1:1", lazy=True)
    complaints = ComplaintClient(temporal, options=ClientOptions(task_queue="unused"), token_key=TOKEN_KEY)
    context = ApiContext(complaints=complaints, pool=audit_db.pool, store=PostgresEventStore(audit_db.pool),
                         trusted_keys=lambda: TEST_TRUSTED_KEYS)
    transport = httpx.ASGITransport(app=create_app(context))
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client


async def test_only_a_supervisor_manages_listeners(api: httpx.AsyncClient, listener: WebhookListener) -> None:
    body = {"callback": listener.url}
    anonymous = await api.post(HUB, json=body)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "401" and anonymous.json()["reason"] == "Unauthorized"
    assert (await api.post(HUB, json=body, headers=AGENT)).status_code == 403
    assert (await api.get(f"{HUB}/x", headers=AGENT)).status_code == 403
    assert (await api.delete(f"{HUB}/x")).status_code == 401


async def test_register_read_and_delete_a_listener(api: httpx.AsyncClient, listener: WebhookListener) -> None:
    created = await api.post(HUB, json={"callback": listener.url, "query": "eventType=" + STATUS_CHANGE},
                             headers=SUPERVISOR)
    assert created.status_code == 201, created.text
    hub = created.json()
    assert hub["secret"].startswith("whsec_")
    assert hub["@type"] == "WebhookHub" and hub["@baseType"] == "Hub" and hub["status"] == "active"
    assert created.headers["location"] == f"{HUB}/{hub['id']}" == hub["href"]

    read = await api.get(f"{HUB}/{hub['id']}", headers=SUPERVISOR)
    assert read.status_code == 200
    assert "secret" not in read.json()  # shown once, at registration
    assert read.json()["query"] == "eventType=" + STATUS_CHANGE

    assert (await api.delete(f"{HUB}/{hub['id']}", headers=SUPERVISOR)).status_code == 204
    assert (await api.get(f"{HUB}/{hub['id']}", headers=SUPERVISOR)).status_code == 404
    assert (await api.delete(f"{HUB}/{hub['id']}", headers=SUPERVISOR)).status_code == 404


async def test_bad_registrations_are_refused(api: httpx.AsyncClient) -> None:
    for body in ({"callback": "ftp://example.test/x"}, {"callback": "not a url"},
                 {"callback": "http://127.0.0.1/x", "query": "=oops"}, {"query": "eventType=x"}):
        answer = await api.post(HUB, json=body, headers=SUPERVISOR)
        assert answer.status_code == 400, (body, answer.text)
        assert answer.json()["code"] == "400"


async def test_a_listener_gets_what_its_query_selects_signed_with_its_secret(
    api: httpx.AsyncClient, audit_db: AuditDb, listener: WebhookListener
) -> None:
    created = await api.post(HUB, json={"callback": listener.url, "query": "eventType=" + STATUS_CHANGE},
                             headers=SUPERVISOR)
    secret = created.json()["secret"]
    complaint_id = await stored_case(audit_db.pool)
    status_changes = await audit_db.pool.fetch(
        "SELECT event_id FROM tmf_event_outbox WHERE complaint_id = $1 AND event_type = $2 ORDER BY seq, ordinal",
        complaint_id, STATUS_CHANGE,
    )
    assert 0 < len(status_changes) < len(await outbox_ids(audit_db.pool, complaint_id))

    async def done() -> bool:
        return len(listener.received) == len(status_changes)

    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, done, "every status change delivered")
        for _ in range(3):
            await relay.run_once()
    assert [r.event_id for r in listener.received] == [row["event_id"] for row in status_changes]
    assert all(r.json["eventType"] == STATUS_CHANGE for r in listener.received)
    assert all(r.headers["webhook-signature"] == standard_signature(secret, r) for r in listener.received)


async def test_a_supervisor_sees_and_replays_dead_letters(
    api: httpx.AsyncClient, audit_db: AuditDb, listener: WebhookListener
) -> None:
    await api.post(HUB, json={"callback": listener.url}, headers=SUPERVISOR)
    listener.answer = lambda request, nth: 503
    complaint_id = await stored_case(audit_db.pool)

    async def dead() -> bool:
        return len((await api.get("/delivery/v1/deadLetter", headers=SUPERVISOR)).json()) == 1

    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, dead, "a dead letter")
        assert (await api.get("/delivery/v1/deadLetter", headers=AGENT)).status_code == 403
        (letter,) = (await api.get("/delivery/v1/deadLetter", headers=SUPERVISOR)).json()
        assert letter["kind"] == "webhook" and letter["complaintId"] == complaint_id
        assert letter["lastStatus"] == 503 and letter["heldBack"] > 0

        listener.answer = lambda request, nth: 200
        replay = f"/delivery/v1/deadLetter/webhook/{letter['id']}/replay"
        assert (await api.post(replay, headers=SUPERVISOR)).status_code == 202
        assert (await api.post(replay, headers=SUPERVISOR)).status_code == 404

        async def all_there() -> bool:
            return listener.first_receipts() == await outbox_ids(audit_db.pool, complaint_id)

        await rounds_until(relay, all_there, "every event after the replay")
    assert (await api.get("/delivery/v1/deadLetter", headers=SUPERVISOR)).json() == []
