"""Notifications to people (escalations, reminders) through an outbox table in PostgreSQL."""

from __future__ import annotations

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.logging import activity_log


class Notification(BaseModel):
    model_config = ConfigDict(frozen=True)

    idempotency_key: str
    complaint_id: str
    recipient_role: str
    recipient: str
    subject: str
    body: str


class NotificationActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def notify(self, notification: Notification) -> bool:
        """Queue the notification once; True when this call queued it."""
        status = await self._pool.execute(
            """INSERT INTO notification_outbox (idempotency_key, complaint_id, recipient_role, recipient,
                                                subject, body)
               VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (idempotency_key) DO NOTHING""",
            notification.idempotency_key,
            notification.complaint_id,
            notification.recipient_role,
            notification.recipient,
            notification.subject,
            notification.body,
        )
        queued = status.endswith(" 1")
        activity_log().info(
            "notification queued" if queued else "notification already queued",
            recipient_role=notification.recipient_role,
            subject=notification.subject,
        )
        return queued
