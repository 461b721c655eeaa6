"""The TMF event outbox: written inside the event store's append transaction, read by the relay (delivery/)."""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from domain.tmf_events import TmfEvent

_INSERT = """
INSERT INTO tmf_event_outbox (event_id, complaint_id, seq, ordinal, event_type, event_time, body)
VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)
ON CONFLICT (event_id) DO NOTHING
"""


async def enqueue(conn: asyncpg.Connection, events: Sequence[TmfEvent]) -> None:
    """Queue `events` for the hub's listeners, in the caller's transaction (a no-op for ones already queued)."""
    if not events:
        return
    await conn.executemany(
        _INSERT,
        [
            (e.event_id, e.complaint_id, e.seq, e.ordinal, e.event_type, e.event_time, json.dumps(e.body))
            for e in events
        ],
    )
