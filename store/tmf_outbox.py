"""The TMF event outbox: written inside the event store's append transaction, read by the relay (delivery/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
import orjson

from domain.events import Event

# One statement for the whole append, column by column: the server plans and runs it once, however many
# events there are. In the order given (ordinality), so ids, which the relay fans out by, follow the events.
_INSERT = """
INSERT INTO tmf_event_outbox (event_id, complaint_id, seq, ordinal, event_type, event_time, body)
SELECT event_id, complaint_id, seq, ordinal, event_type, event_time, body::jsonb
  FROM unnest($1::text[], $2::text[], $3::int[], $4::int[], $5::text[], $6::timestamptz[], $7::text[])
       WITH ORDINALITY AS given (event_id, complaint_id, seq, ordinal, event_type, event_time, body, n)
 ORDER BY n
ON CONFLICT (event_id) DO NOTHING
"""


class OutboxBatch:
    """The TMF events of one append, gathered column by column as the insert takes them."""

    def __init__(self) -> None:
        self.event_ids: list[str] = []
        self._complaint_ids: list[str] = []
        self._seqs: list[int] = []
        self._ordinals: list[int] = []
        self._types: list[str] = []
        self._times: list[datetime] = []
        self._bodies: list[str] = []

    def add(self, event: Event, bodies: list[dict[str, Any]]) -> None:
        """Queue the TMF event bodies `event` gives rise to (domain/tmf_events.py), in their order."""
        for ordinal, body in enumerate(bodies):
            self.event_ids.append(body["eventId"])
            self._complaint_ids.append(event.complaint_id)
            self._seqs.append(event.seq)
            self._ordinals.append(ordinal)
            self._types.append(body["eventType"])
            self._times.append(event.at)
            self._bodies.append(orjson.dumps(body).decode())

    async def enqueue(self, conn: asyncpg.Connection) -> None:
        """Queue the events for the hub's listeners, in the caller's transaction (a no-op for ones already queued)."""
        if not self.event_ids:
            return
        await conn.execute(
            _INSERT,
            self.event_ids,
            self._complaint_ids,
            self._seqs,
            self._ordinals,
            self._types,
            self._times,
            self._bodies,
        )
