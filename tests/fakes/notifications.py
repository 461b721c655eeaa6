"""The notifications port in memory: every notification queued, once per key, kept in a list."""

from __future__ import annotations

from collections.abc import Sequence

from domain.events import Event
from ports.event_store import AppendResult, ArchiveTicket, EventStore
from ports.notifications import Notification


class InMemoryNotifier:
    """`ports.notifications.Notifier` that keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> bool:
        """Keep the notification unless its key was kept before; True when this call kept it."""
        if any(earlier.idempotency_key == notification.idempotency_key for earlier in self.sent):
            return False
        self.sent.append(notification)
        return True

    async def notify_with_events(
        self,
        store: EventStore,
        complaint_id: str,
        events: Sequence[Event],
        notification: Notification,
        *,
        archive: ArchiveTicket | None = None,
    ) -> tuple[AppendResult, bool]:
        """Append the events, then keep the notification: nothing here can fail between the two."""
        saved = await store.append(complaint_id, events, archive=archive)
        return saved, await self.notify(notification)
