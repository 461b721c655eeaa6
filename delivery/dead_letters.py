"""The dead-letter list: deliveries whose every retry failed, for a supervisor to see and replay.

Webhook deliveries and notifications both land here; nothing leaves either outbox without a trace: it is
delivered, dead here with its last error, or cancelled with the reason (its listener was disabled or removed).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg

Kind = Literal["webhook", "notification"]


@dataclass(frozen=True)
class DeadLetter:
    kind: Kind
    id: int
    complaint_id: str
    what: str  # the TMF event type, or the notification's recipient role
    destination: str  # the listener's callback, or "mailbox"
    attempts: int
    last_status: int | None
    last_error: str | None
    dead_at: datetime
    # Later events of the same ticket held back behind this one at the same listener (order per ticket).
    held_back: int = 0


async def dead_letters(pool: asyncpg.Pool, *, limit: int = 100) -> list[DeadLetter]:
    """The dead letters, oldest first."""
    webhooks = await pool.fetch(
        """SELECT d.id, d.complaint_id, o.event_type, l.callback, d.attempts, d.last_status, d.last_error,
                  d.dead_at,
                  (SELECT count(*) FROM webhook_deliveries e
                   WHERE e.listener_id = d.listener_id AND e.complaint_id = d.complaint_id
                     AND e.status = 'pending' AND (e.seq, e.ordinal) > (d.seq, d.ordinal)) AS held_back
           FROM webhook_deliveries d
           JOIN tmf_event_outbox o ON o.id = d.outbox_id
           JOIN hub_listeners l ON l.id = d.listener_id
           WHERE d.status = 'dead' ORDER BY d.dead_at, d.id LIMIT $1""",
        limit,
    )
    notifications = await pool.fetch(
        """SELECT id, complaint_id, recipient_role, attempts, last_error, dead_at FROM notification_outbox
           WHERE dead_at IS NOT NULL AND delivered_at IS NULL ORDER BY dead_at, id LIMIT $1""",
        limit,
    )
    found = [
        DeadLetter("webhook", r["id"], r["complaint_id"], r["event_type"], r["callback"], r["attempts"],
                   r["last_status"], r["last_error"], r["dead_at"], r["held_back"])
        for r in webhooks
    ] + [
        DeadLetter("notification", r["id"], r["complaint_id"], r["recipient_role"], "mailbox", r["attempts"],
                   None, r["last_error"], r["dead_at"])
        for r in notifications
    ]
    return sorted(found, key=lambda letter: (letter.dead_at, letter.kind, letter.id))[:limit]


async def replay(pool: asyncpg.Pool, kind: Kind, letter_id: int) -> bool:
    """Put a dead letter back in line, with a fresh round of retries. False if there is no such dead letter."""
    if kind == "webhook":
        status = await pool.execute(
            """UPDATE webhook_deliveries d
               SET status = 'pending', attempts = 0, next_attempt_at = now(), dead_at = NULL,
                   leased_until = NULL, replayed = replayed + 1
               FROM hub_listeners l
               WHERE d.id = $1 AND d.status = 'dead' AND l.id = d.listener_id
                 AND l.disabled_at IS NULL AND l.deleted_at IS NULL""",
            letter_id,
        )
    else:
        status = await pool.execute(
            """UPDATE notification_outbox
               SET attempts = 0, next_attempt_at = now(), dead_at = NULL, leased_until = NULL
               WHERE id = $1 AND dead_at IS NOT NULL AND delivered_at IS NULL""",
            letter_id,
        )
    return status.endswith(" 1")
