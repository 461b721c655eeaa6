"""A TMF621 client end to end: it registers a listener at the hub, files a ticket over HTTP, and its listener
receives the ticket's events signed, in order, from the relay, while the real engine works the case.

The engine writes to a database of this test's own (the audit tests' fixture, seeded like the session's), so
the relay here delivers to this test's listener only.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import httpx
from temporalio.testing import WorkflowEnvironment

from api.app import create_app
from delivery.relay import Relay
from domain import tmf_events as tmf
from sandboxes.boss_seed import seed_boss
from tests.api.conftest import AGENT, BASE, SUPERVISOR, api_context, bearer
from tests.api.tickets import forwarding_ticket
from tests.audit.conftest import AuditDb
from tests.conftest import engine
from tests.delivery.cases import standard_signature
from tests.delivery.conftest import FAST, WebhookListener
from worker import Dependencies


async def test_a_listener_follows_a_ticket_filed_over_http(
    dev_env: WorkflowEnvironment, deps: Dependencies, audit_db: AuditDb, listener: WebhookListener
) -> None:
    async with audit_db.pool.acquire() as conn:
        await seed_boss(conn, datetime.now(UTC).date())
    own = Dependencies(pool=audit_db.pool, partners=deps.partners)
    async with engine(dev_env, own) as client:
        app = create_app(api_context(client, own))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api.test") as http:
            hub = await http.post(f"{BASE}/hub", json={"callback": listener.url}, headers=bearer(SUPERVISOR))
            assert hub.status_code == 201, hub.text
            secret = hub.json()["secret"]
            filed = await http.post(f"{BASE}/troubleTicket", json=forwarding_ticket(), headers=bearer(AGENT))
            assert filed.status_code == 201, filed.text
            ticket_id = filed.json()["id"]

            def arrived() -> list[str]:
                return [r.json["eventType"] for r in listener.received if r.json["correlationId"] == ticket_id]

            async with Relay(audit_db.pool, config=FAST) as relay:
                for _ in range(600):
                    await relay.run_once()
                    if tmf.STATUS_CHANGE in arrived():
                        break
                    await asyncio.sleep(0.05)
    types = arrived()
    assert types[0] == tmf.CREATE and tmf.STATUS_CHANGE in types, types
    created = next(r for r in listener.received if r.json["eventType"] == tmf.CREATE)
    assert created.json["event"]["troubleTicket"]["id"] == ticket_id
    assert created.json["event"]["troubleTicket"]["ticketType"] == "forwarding_cancel"
    assert all(r.headers["webhook-signature"] == standard_signature(secret, r) for r in listener.received)
    # In the order the engine recorded them.
    ids = [r.event_id for r in listener.received if r.json["correlationId"] == ticket_id]
    seqs = [tuple(int(part) for part in event_id.rsplit(":", 2)[1:]) for event_id in ids]
    assert seqs == sorted(seqs)
