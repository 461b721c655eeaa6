"""Notifications to people, delivered from `notification_outbox` through a port.

The port takes a notification as the outbox stores it: personal values sealed under the case's key
(activities/notifications.py). An adapter that sends it off the machine (SMS, mail) opens it with the
personal-data vault just before sending; the embedded adapter, the local mailbox, keeps it sealed, so
erasing the customer shreds their mailbox too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

import asyncpg


@dataclass(frozen=True)
class OutboundNotification:
    id: int
    idempotency_key: str
    complaint_id: str
    recipient_role: str
    recipient: str  # sealed for a customer, a role's address otherwise
    subject: str
    body: str
    attempts: int  # including this one


class NotificationRefused(Exception):
    """The channel did not take the notification (the relay tries again later, then dead-letters it)."""


class NotificationSender(Protocol):
    """The notification port: send one notification, or raise NotificationRefused.

    Called at least once per notification, so an adapter drops a second send of the same `id`.
    """

    async def send(self, notification: OutboundNotification) -> None:
        """Send one notification, or raise NotificationRefused."""


class MailboxSender:
    """The embedded adapter: a local mailbox table (`notification_mailbox`) that people and tests read."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def send(self, notification: OutboundNotification) -> None:
        """Put the notification in the mailbox table, once per notification id."""
        await self._pool.execute(
            """INSERT INTO notification_mailbox (notification_id, complaint_id, recipient_role, recipient,
                                                 subject, body)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (notification_id) DO NOTHING""",
            notification.id,
            notification.complaint_id,
            notification.recipient_role,
            notification.recipient,
            notification.subject,
            notification.body,
        )


_TAKE_DUE = """
WITH due AS (
    SELECT id FROM notification_outbox
    WHERE delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= now()
      AND (leased_until IS NULL OR leased_until < now())
    ORDER BY id LIMIT $1
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_outbox n SET leased_until = now() + $2::interval, attempts = n.attempts + 1
FROM due WHERE n.id = due.id
RETURNING n.id, n.idempotency_key, n.complaint_id, n.recipient_role, n.recipient, n.subject, n.body, n.attempts
"""


async def take_due(pool: asyncpg.Pool, batch_size: int, lease: timedelta) -> list[OutboundNotification]:
    """Lease the notifications due now."""
    rows = await pool.fetch(_TAKE_DUE, batch_size, lease)
    return [OutboundNotification(**dict(row)) for row in sorted(rows, key=lambda row: row["id"])]


async def delivered(pool: asyncpg.Pool, notification: OutboundNotification) -> None:
    """Mark the notification delivered, ending its lease and retries."""
    await pool.execute(
        """UPDATE notification_outbox SET delivered_at = now(), leased_until = NULL, last_error = NULL
           WHERE id = $1 AND delivered_at IS NULL""",
        notification.id,
    )


async def failed(pool: asyncpg.Pool, notification: OutboundNotification, error: str, wait: timedelta | None) -> None:
    """A failed attempt: again after `wait`, or, with none left, onto the dead-letter list."""
    await pool.execute(
        """UPDATE notification_outbox
           SET leased_until = NULL, last_error = $2,
               next_attempt_at = CASE WHEN $3::interval IS NULL THEN next_attempt_at ELSE now() + $3::interval END,
               dead_at = CASE WHEN $3::interval IS NULL THEN now() END
           WHERE id = $1 AND delivered_at IS NULL""",
        notification.id,
        error,
        wait,
    )
