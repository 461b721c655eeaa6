"""What one append writes, in one statement: the new events, the TMF events they cause, head and read model.

Each event's stored form is sealed and hash-chained, built event by event as the fold moves on. Every event
costs the append path a fold step, its canonical JSON and a hash; sealing and the TMF mapping cost only the
events that need them (most need neither).
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
from store.projections import UPSERT_PROJECTION
from store.tmf_outbox import OutboxBatch

# One statement, one round trip, however many events: the events, their TMF events for the hub's listeners
# (which commit with the events or not at all), the chain head and the read model. $1-$17 are the projection's
# (the case is $1, its new last seq and hash $14 and $15), $18-$26 the events column by column, $27-$32 the TMF
# events'. An INSERT, never an UPDATE or DELETE of complaint_events: the triggers that refuse those stand. The
# TMF events keep their order (ordinality), so the ids the relay fans out by follow the events.
_WRITE = f"""
WITH events AS (
    INSERT INTO complaint_events (complaint_id, seq, type, version, occurred_at, actor_id, actor_role, payload,
                                  prev_hash, hash)
    SELECT $1, seq, type, version, occurred_at, actor_id, actor_role, payload::jsonb, prev_hash, hash
      FROM unnest($18::int[], $19::text[], $20::int[], $21::timestamptz[], $22::text[], $23::text[], $24::text[],
                  $25::text[], $26::text[])
           AS given (seq, type, version, occurred_at, actor_id, actor_role, payload, prev_hash, hash)
), tmf_events AS (
    INSERT INTO tmf_event_outbox (event_id, complaint_id, seq, ordinal, event_type, event_time, body)
    SELECT event_id, $1, seq, ordinal, event_type, event_time, body::jsonb
      FROM unnest($27::text[], $28::int[], $29::int[], $30::text[], $31::timestamptz[], $32::text[])
           WITH ORDINALITY AS given (event_id, seq, ordinal, event_type, event_time, body, n)
     ORDER BY n
    ON CONFLICT (event_id) DO NOTHING
), moved AS (
    UPDATE chain_heads SET last_seq = $14, last_hash = $15, updated_at = now() WHERE complaint_id = $1
)
{UPSERT_PROJECTION}"""


class AppendBatch:
    """The rows of one append to a case, from the state and chain head it continues.

    `state` and `last_hash` follow each added event: after the last one they are the case's new head.
    """

    def __init__(self, key: CaseKey | None, state: ComplaintState | None, last_hash: str) -> None:
        self.state = state
        self.last_hash = last_hash
        self._key = key
        self._state_values = state_personal_values(state)
        # The case's own values change with a few events only (filing, erasure): their set is made once each.
        self._known: dict[tuple[str | None, ...], tuple[frozenset[str], tuple[str, ...]]] = {}
        # The events' columns, in _WRITE's order ($18-$26).
        self._columns: tuple[list[Any], ...] = tuple([] for _ in range(9))
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
        row = (event.seq, event.type, event.version, event.at, event.actor.id, event.actor.role.value, payload,
               self.last_hash, next_hash)  # fmt: skip
        for column, value in zip(self._columns, row, strict=True):
            column.append(value)
        self.last_hash = next_hash

    def _known_values(self, values: tuple[str | None, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
        found = self._known.get(values)
        if found is None:
            known = known_values(values)
            found = self._known[values] = (known, in_json(known))
        return found

    async def write(self, conn: asyncpg.Connection, projection: tuple[object, ...]) -> None:
        """Write the events, their TMF events, the new chain head and the read model, in the caller's transaction.

        `projection` is the read model's row for the new state (store.projections.projection_args).
        """
        await conn.execute(_WRITE, *projection, *self._columns, *self.outbox.columns())
