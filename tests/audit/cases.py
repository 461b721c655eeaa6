"""Cases written straight into the event store, for audit tests that need no Temporal."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from domain import events as ev
from domain.actors import Actor, ActorChannel, Role
from store.event_store import PostgresEventStore
from tests.domain.factories import AGENT, Stream

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)


def forwarding_case(complaint_id: str) -> list[ev.Event]:
    """A forwarding_cancel case from filing to close, events one to a few minutes apart."""
    s = Stream(complaint_id)
    return [
        s.filed(id_number="330106198001011235"),
        s.next(ev.ComplaintAcknowledged, after=timedelta(minutes=1), assignee=AGENT.id,
               message="We are on it: calls will reach you again within 30 minutes."),
        s.next(ev.EvidenceRecorded, after=timedelta(minutes=2), step="identity",
               summary="name and ID number match the billing system", facts={"matched": True, "balance_fen": 5820}),
        s.next(ev.IdentityVerified, method="name and ID number against the billing system"),
        s.next(ev.ComplaintResolved, after=timedelta(minutes=5), outcome="forwarding_cancelled",
               summary="forwarding cancelled at Unicom"),
        s.next(ev.CustomerAnswered, after=timedelta(minutes=3), actor=CUSTOMER,
               question_id="confirm-resolution", answer="yes"),
        s.next(ev.ComplaintClosed, reason="confirmed"),
    ]


async def store_case(pool: asyncpg.Pool, complaint_id: str) -> list[ev.Event]:
    events = forwarding_case(complaint_id)
    await PostgresEventStore(pool).append(complaint_id, events)
    return events
