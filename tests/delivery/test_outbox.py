"""The TMF outbox is written by the event store's append, in its transaction: with the events or not at all."""

from __future__ import annotations

import json

import pytest

from domain.state import ComplaintState, apply
from domain.tmf_events import TmfEvent, tmf_events
from store.event_store import EventConflict, PostgresEventStore
from tests.audit.conftest import AuditDb
from tests.store.cases import QIAN, ZHAO, closed_case


class Abandoned(Exception):
    """Raised inside the transaction to roll it back."""


async def test_the_outbox_holds_what_the_domain_derives_once_per_event(audit_db: AuditDb) -> None:
    store = PostgresEventStore(audit_db.pool)
    events = closed_case("OUT-1", ZHAO)
    await store.append("OUT-1", events[:3])
    await store.append("OUT-1", events)  # a retried append with more: only the new events add TMF events
    await store.append("OUT-1", events)  # and a plain retry adds nothing
    state: ComplaintState | None = None
    expected: list[TmfEvent] = []
    for event in events:
        before, state = state, apply(state, event)
        expected += tmf_events(before, event, state)
    rows = await audit_db.pool.fetch(
        "SELECT event_id, event_type, body::text AS body FROM tmf_event_outbox WHERE complaint_id = 'OUT-1' ORDER BY id"
    )
    assert [(r["event_id"], r["event_type"]) for r in rows] == [(e.event_id, e.event_type) for e in expected]
    assert [json.loads(r["body"]) for r in rows] == [e.body for e in expected]


async def test_nothing_reaches_the_outbox_from_an_append_that_does_not_commit(audit_db: AuditDb) -> None:
    store = PostgresEventStore(audit_db.pool)
    with pytest.raises(Abandoned):
        async with audit_db.pool.acquire() as conn, conn.transaction():
            await store.append_in(conn, "OUT-2", closed_case("OUT-2", QIAN))
            assert await conn.fetchval("SELECT count(*) FROM tmf_event_outbox WHERE complaint_id = 'OUT-2'") > 0
            raise Abandoned
    assert await audit_db.pool.fetchval("SELECT count(*) FROM tmf_event_outbox WHERE complaint_id = 'OUT-2'") == 0
    assert await store.load("OUT-2") == []

    await store.append("OUT-2", closed_case("OUT-2", QIAN)[:2])
    before = await audit_db.pool.fetchval("SELECT count(*) FROM tmf_event_outbox")
    conflicting = closed_case("OUT-2", ZHAO)[:3]  # event 1 stored with other content: refused whole
    with pytest.raises(EventConflict):
        await store.append("OUT-2", conflicting)
    assert await audit_db.pool.fetchval("SELECT count(*) FROM tmf_event_outbox") == before
