"""The notifications port: telling people (customers, agents, supervisors) about a case, once per key.

adapters/notification_outbox.py queues them in PostgreSQL's outbox (sealed under the case's key);
tests/fakes/notifications.py keeps them in a list.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from domain.events import Event
from ports.event_store import AppendResult, ArchiveTicket, EventStore


class Notification(BaseModel):
    """One message to one recipient; `idempotency_key` (complaint id + step) makes it go out once."""

    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    complaint_id: str
    recipient_role: str
    recipient: str
    subject: str
    body: str


class Notifier(Protocol):
    """Where notifications go."""

    async def notify(self, notification: Notification) -> bool:
        """Queue the notification unless its key was queued before.

        Returns:
            True when this call queued it, False when an earlier call with the same key did.
        """
        ...

    async def notify_with_events(
        self,
        store: EventStore,
        complaint_id: str,
        events: Sequence[Event],
        notification: Notification,
        *,
        archive: ArchiveTicket | None = None,
    ) -> tuple[AppendResult, bool]:
        """Append the case's events to `store`, then queue the notification they led to (an escalation's, say).

        In one transaction where the store and the notifications share a database, so neither is ever kept
        without the other; otherwise the events first, so no notification is queued for events the store does
        not hold. Both are idempotent (by seq, by key): a retry completes a call cut short.

        Returns:
            What the append did, and whether this call queued the notification.
        """
        ...
