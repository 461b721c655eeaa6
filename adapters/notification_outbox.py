"""Notifications through an outbox table in PostgreSQL: the notifications port's adapter.

A notification to the customer is addressed to their number: the outbox keeps it, and any personal
value in the subject or body, sealed under the case's key (store/pii.py), so erasing the customer
shreds their notifications too. Whoever delivers the outbox opens them with the same vault.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from domain.events import Event
from domain.masking import scrub
from ports.event_store import AppendResult, ArchiveTicket, EventStore
from ports.notifications import Notification
from store.event_store import PostgresEventStore
from store.pii import CaseKey, PersonalDataVault, default_vault, personal_values_of
from store.projections import load_head_state


class PostgresOutbox:
    """`ports.notifications.Notifier` over the notification_outbox table."""

    def __init__(self, pool: asyncpg.Pool, vault: PersonalDataVault | None = None) -> None:
        self._pool = pool
        self._vault = vault or default_vault()

    async def _key(self, conn: asyncpg.Connection, notification: Notification) -> CaseKey | None:
        key = await self._vault.key_of_case(conn, notification.complaint_id)
        if key is None and notification.recipient_role == "customer":
            key = await self._vault.key_for_new_case(conn, notification.complaint_id, notification.recipient)
        return key

    async def notify(self, notification: Notification) -> bool:
        """Queue the notification once; True when this call queued it."""
        async with self._pool.acquire() as conn, conn.transaction():
            return await self._queue(conn, notification)

    async def notify_with_events(
        self,
        store: EventStore,
        complaint_id: str,
        events: Sequence[Event],
        notification: Notification,
        *,
        archive: ArchiveTicket | None = None,
    ) -> tuple[AppendResult, bool]:
        """Append the case's events and queue the notification they led to, in one transaction on one pool.

        The row is sealed against the case as the events leave it. A store elsewhere (another database) gets
        the events first, in a transaction of its own.
        """
        if not (isinstance(store, PostgresEventStore) and store.pool is self._pool):
            saved = await store.append(complaint_id, events, archive=archive)
            return saved, await self.notify(notification)
        async with self._pool.acquire() as conn, conn.transaction():
            saved = await store.append_in(conn, complaint_id, events, archive=archive)
            return saved, await self._queue(conn, notification)

    async def _queue(self, conn: asyncpg.Connection, notification: Notification) -> bool:
        fields = {"recipient": notification.recipient, "subject": notification.subject, "body": notification.body}
        key = await self._key(conn, notification)
        if key is not None:
            # The case's own values (the customer's name in a greeting, say) are sealed too.
            state = load_head_state(
                await conn.fetchval(
                    "SELECT state::text FROM complaints WHERE complaint_id = $1", notification.complaint_id
                ),
                key,
            )
            known = personal_values_of(state.model_dump()) if state is not None else ()
            if notification.recipient_role == "customer":
                known += (notification.recipient,)
            stored = key.seal_json(fields, *known)
            if notification.recipient_role == "customer":
                stored["recipient"] = key.seal(notification.recipient)
        else:
            # No case key to seal under (a case never stored): numbers are at least masked.
            stored = {name: scrub(value) for name, value in fields.items()}
        status = await conn.execute(
            """INSERT INTO notification_outbox (idempotency_key, complaint_id, recipient_role, recipient,
                                                subject, body)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING""",
            notification.idempotency_key,
            notification.complaint_id,
            notification.recipient_role,
            stored["recipient"],
            stored["subject"],
            stored["body"],
        )
        return status.endswith(" 1")
