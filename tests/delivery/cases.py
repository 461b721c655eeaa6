"""Cases for the delivery tests: written through the event store, so the outbox is written as in production."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import uuid
from collections.abc import Awaitable, Callable

import asyncpg

from delivery.relay import Relay
from store.event_store import PostgresEventStore
from tests.delivery.conftest import Received
from tests.store.cases import ZHAO, closed_case


async def stored_case(pool: asyncpg.Pool) -> str:
    """A whole case (filed to closed) appended to the store; its id."""
    complaint_id = f"HUB-{uuid.uuid4().hex[:8]}"
    await PostgresEventStore(pool).append(complaint_id, closed_case(complaint_id, ZHAO))
    return complaint_id


async def outbox_ids(pool: asyncpg.Pool, complaint_id: str) -> list[str]:
    """The case's TMF event ids in the order a listener must see them."""
    rows = await pool.fetch(
        "SELECT event_id FROM tmf_event_outbox WHERE complaint_id = $1 ORDER BY seq, ordinal", complaint_id
    )
    return [row["event_id"] for row in rows]


async def rounds_until(relay: Relay, done: Callable[[], Awaitable[bool]], what: str, rounds: int = 400) -> None:
    """Run relay rounds until `done`; a bounded number of them, so a stuck relay fails the test."""
    for _ in range(rounds):
        if await done():
            return
        if not await relay.run_once():
            await asyncio.sleep(0.02)
    raise AssertionError(f"the relay never got to: {what}")


def standard_signature(secret: str, request: Received) -> str:
    """Standard Webhooks' signature computed here from the spec, independently of delivery/signing.py."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{request.headers['webhook-id']}.{request.headers['webhook-timestamp']}.".encode() + request.body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
