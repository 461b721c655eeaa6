"""The notifications port in memory: every notification queued, once per key, kept in a list."""

from __future__ import annotations

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
