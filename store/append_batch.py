"""What one append writes: each new event's stored form, sealed and hash-chained, and the TMF events it causes.

Built event by event as the fold moves on, then written in two statements whatever the batch size: the events
by COPY, the TMF outbox by one INSERT. Every event costs the append path a fold step, its canonical JSON and a
hash; sealing and the TMF mapping cost only the events that need them (most need neither).
"""

from __future__ import annotations

from typing import Any

import asyncpg

from domain.events import Event
from domain.hashing import canonical_json, chain_hash_of_text
from domain.personal_data import in_json, known_values, may_hold_personal
from domain.state import ComplaintState, apply
from domain.tmf_events import tmf_event_bodies
from store.pii import CaseKey, personal_values_of, state_personal_values
from store.tmf_outbox import OutboxBatch

_EVENT_COLUMNS = (
    "complaint_id", "seq", "type", "version", "occurred_at", "actor_id", "actor_role", "payload", "prev_hash", "hash"
)  # fmt: skip


class AppendBatch:
    """The rows of one append to a case, from the state and chain head it continues.

    `state` and `last_hash` follow each added event: after the last one they are the case's new head.
    """

    def __init__(self, complaint_id: str, key: CaseKey | None, state: ComplaintState | None, last_hash: str) -> None:
        self.state = state
        self.last_hash = last_hash
        self._complaint_id = complaint_id
        self._key = key
        self._state_values = state_personal_values(state)
        # The case's own values change with a few events only (filing, erasure): their set is made once each.
        self._known: dict[tuple[str | None, ...], tuple[frozenset[str], tuple[str, ...]]] = {}
        self._rows: list[tuple[Any, ...]] = []
        self.outbox = OutboxBatch()

    def add(self, event: Event) -> None:
        """Fold `event` in and make its row and TMF events (its seq must follow the state's)."""
        before, before_values = self.state, self._state_values
        self.state = apply(before, event)
        self._state_values = state_personal_values(self.state)
        self.outbox.add(event, tmf_event_bodies(before, event, self.state))
        data = event.model_dump(mode="json")
        payload = canonical_json(data)
        if self._key is not None:
            # The case's own values (its name, say) are sealed wherever they appear, as the case stood before
            # and after the event. One look over the text tells whether the event holds anything to seal.
            known, known_in_json = self._known_values((*personal_values_of(data), *before_values, *self._state_values))
            if may_hold_personal(payload, known_in_json):
                payload = canonical_json(self._key.seal_json(data, *known))
        next_hash = chain_hash_of_text(self.last_hash, payload)
        self._rows.append(
            (
                self._complaint_id,
                event.seq,
                event.type,
                event.version,
                event.at,
                event.actor.id,
                event.actor.role.value,
                payload,
                self.last_hash,
                next_hash,
            )
        )
        self.last_hash = next_hash

    def _known_values(self, values: tuple[str | None, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
        found = self._known.get(values)
        if found is None:
            known = known_values(values)
            found = self._known[values] = (known, in_json(known))
        return found

    async def write(self, conn: asyncpg.Connection) -> None:
        """Insert the events, then queue their TMF events, in the caller's transaction."""
        if self._rows:
            # COPY runs no UPDATE or DELETE, so the triggers that refuse those stand as they are.
            await conn.copy_records_to_table("complaint_events", columns=_EVENT_COLUMNS, records=self._rows)
        # The TMF events for the hub's listeners commit with the events, or not at all.
        await self.outbox.enqueue(conn)
