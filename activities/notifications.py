"""Notifications to people (escalations, reminders), through the notifications port."""

from __future__ import annotations

from temporalio import activity

from activities.logging import activity_log
from ports.notifications import Notification, Notifier

__all__ = ["Notification", "NotificationActivities"]


class NotificationActivities:
    def __init__(self, notifier: Notifier) -> None:
        self._notifier = notifier

    @activity.defn
    async def notify(self, notification: Notification) -> bool:
        """Queue the notification once; True when this call queued it."""
        queued = await self._notifier.notify(notification)
        activity_log().info(
            "notification queued" if queued else "notification already queued",
            recipient_role=notification.recipient_role,
            subject=notification.subject,
        )
        return queued
