"""Notifications to people (escalations, reminders), through the notifications port."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.event_store import AppendEventsInput, archive_ticket, log_saved
from activities.logging import activity_log
from ports.event_store import EventStore
from ports.notifications import Notification, Notifier

__all__ = ["Notification", "NotificationActivities", "SaveAndNotifyInput"]


class SaveAndNotifyInput(BaseModel):
    """The events a case decided, and the notification they lead to (a warning, an escalation, a reminder)."""

    model_config = ConfigDict(frozen=True)

    events: AppendEventsInput
    notification: Notification


class NotificationActivities:
    def __init__(self, notifier: Notifier, store: EventStore) -> None:
        self._notifier = notifier
        self._store = store

    @activity.defn
    async def notify(self, notification: Notification) -> bool:
        """Queue the notification once; True when this call queued it."""
        queued = await self._notifier.notify(notification)
        _log_queued(notification, queued)
        return queued

    @activity.defn
    async def save_and_notify(self, request: SaveAndNotifyInput) -> bool:
        """Save the case's events, then queue the notification they led to; True when this call queued it.

        One round trip where a save and a notify were two, and one transaction where the outbox and the event
        store share the database (ports.notifications.Notifier.notify_with_events): no notification is ever
        queued for an escalation the event store does not hold, nor the other way round.
        """
        events, notification = request.events, request.notification
        saved, queued = await self._notifier.notify_with_events(
            self._store, events.complaint_id, events.events, notification, archive=archive_ticket(events)
        )
        log_saved(events, saved)
        _log_queued(notification, queued)
        return queued


def _log_queued(notification: Notification, queued: bool) -> None:
    activity_log().info(
        "notification queued" if queued else "notification already queued",
        recipient_role=notification.recipient_role,
        subject=notification.subject,
    )
