"""The notifications port: telling people (customers, agents, supervisors) about a case, once per key.

adapters/notification_outbox.py queues them in PostgreSQL's outbox (sealed under the case's key);
tests/fakes/notifications.py keeps them in a list.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, ConfigDict


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
