"""The webhook side of the relay in SQL: fan the outbox out to the listeners, take what is due, record results.

In order per ticket: a delivery is due only when every earlier one (by the domain event's seq) to the same
listener for the same ticket is delivered or cancelled, so one failing event holds back the ticket's later
events at that listener until it goes through, or until a supervisor replays it from the dead-letter list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from delivery.hub import cancel_pending
from domain.hub_filter import matches, parse_hub_query

# One fan-out at a time across every relay: two relays fanning out a ticket's consecutive events in
# parallel could otherwise make the later delivery row before the earlier one exists.
_FAN_OUT_LOCK_ID = 7_210_621


@dataclass(frozen=True)
class Due:
    """A delivery taken by this relay: what to send, where, signed with what."""

    id: int
    listener_id: str
    callback: str
    secret: str
    attempts: int  # including this one
    body: bytes

    @property
    def message_id(self) -> str:
        """The `webhook-id`: the same for every attempt of this delivery, so a listener can drop duplicates."""
        return f"msg_{self.id}"


async def fan_out(pool: asyncpg.Pool, batch_size: int) -> int:
    """Make a delivery per matching listener for outbox events not fanned out yet; how many events."""
    async with pool.acquire() as conn, conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _FAN_OUT_LOCK_ID):
            return 0
        events = await conn.fetch(
            """SELECT id, complaint_id, seq, ordinal, body FROM tmf_event_outbox
               WHERE fanned_out_at IS NULL ORDER BY id LIMIT $1""",
            batch_size,
        )
        if not events:
            return 0
        listeners = await conn.fetch(
            "SELECT id, query FROM hub_listeners WHERE deleted_at IS NULL AND disabled_at IS NULL"
        )
        filters = [(row["id"], parse_hub_query(row["query"])) for row in listeners]
        rows = [
            (listener_id, event["id"], event["complaint_id"], event["seq"], event["ordinal"])
            for event in events
            for listener_id, conditions in filters
            if matches(conditions, _json(event["body"]))
        ]
        await conn.executemany(
            """INSERT INTO webhook_deliveries (listener_id, outbox_id, complaint_id, seq, ordinal)
               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (listener_id, outbox_id) DO NOTHING""",
            rows,
        )
        await conn.execute(
            "UPDATE tmf_event_outbox SET fanned_out_at = now() WHERE id = ANY($1::bigint[])",
            [event["id"] for event in events],
        )
    return len(events)


def _json(value: object) -> dict[str, object]:
    loaded = json.loads(value) if isinstance(value, (str, bytes)) else value
    return loaded if isinstance(loaded, dict) else {}


_TAKE_DUE = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d
    JOIN hub_listeners l ON l.id = d.listener_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= now()
      AND (d.leased_until IS NULL OR d.leased_until < now())
      AND l.disabled_at IS NULL AND l.deleted_at IS NULL
      AND NOT EXISTS (
          SELECT 1 FROM webhook_deliveries e
          WHERE e.listener_id = d.listener_id AND e.complaint_id = d.complaint_id
            AND (e.seq, e.ordinal) < (d.seq, d.ordinal) AND e.status IN ('pending', 'dead'))
    ORDER BY d.next_attempt_at, d.id
    LIMIT $1
    FOR UPDATE OF d SKIP LOCKED
)
UPDATE webhook_deliveries w SET leased_until = now() + $2::interval, attempts = w.attempts + 1
FROM due WHERE w.id = due.id
RETURNING w.id
"""


async def take_due(pool: asyncpg.Pool, batch_size: int, lease: timedelta) -> list[Due]:
    """Lease the deliveries due now (at most one per listener and ticket: the earliest one not delivered)."""
    async with pool.acquire() as conn, conn.transaction():
        ids = [row["id"] for row in await conn.fetch(_TAKE_DUE, batch_size, lease)]
        if not ids:
            return []
        rows = await conn.fetch(
            """SELECT d.id, d.listener_id, d.attempts, l.callback, l.secret, o.body::text AS body
               FROM webhook_deliveries d
               JOIN hub_listeners l ON l.id = d.listener_id
               JOIN tmf_event_outbox o ON o.id = d.outbox_id
               WHERE d.id = ANY($1::bigint[]) ORDER BY d.id""",
            ids,
        )
    return [
        Due(row["id"], row["listener_id"], row["callback"], row["secret"], row["attempts"], row["body"].encode())
        for row in rows
    ]


async def delivered(pool: asyncpg.Pool, due: Due, status: int) -> None:
    """Mark the webhook delivered with the listener's HTTP status, ending its lease and retries."""
    await pool.execute(
        """UPDATE webhook_deliveries SET status = 'delivered', delivered_at = now(), leased_until = NULL,
                  last_status = $2, last_error = NULL
           WHERE id = $1 AND status = 'pending'""",
        due.id,
        status,
    )


async def gone(pool: asyncpg.Pool, due: Due) -> None:
    """The listener answered 410 Gone: disable it and cancel what was still to go to it."""
    reason = f"endpoint disabled: {due.callback} answered 410 Gone"
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """UPDATE hub_listeners SET disabled_at = now(), disabled_reason = $2
               WHERE id = $1 AND disabled_at IS NULL""",
            due.listener_id,
            reason,
        )
        await conn.execute("UPDATE webhook_deliveries SET last_status = 410 WHERE id = $1", due.id)
        await cancel_pending(conn, due.listener_id, reason)


async def failed(pool: asyncpg.Pool, due: Due, status: int | None, error: str, wait: timedelta | None) -> None:
    """A failed attempt: try again after `wait`, or, with none left, onto the dead-letter list."""
    if wait is None:
        await pool.execute(
            """UPDATE webhook_deliveries SET status = 'dead', dead_at = now(), leased_until = NULL,
                      last_status = $2, last_error = $3
               WHERE id = $1 AND status = 'pending'""",
            due.id,
            status,
            error,
        )
        return
    await pool.execute(
        """UPDATE webhook_deliveries SET next_attempt_at = now() + $4::interval, leased_until = NULL,
                  last_status = $2, last_error = $3
           WHERE id = $1 AND status = 'pending'""",
        due.id,
        status,
        error,
        wait,
    )
