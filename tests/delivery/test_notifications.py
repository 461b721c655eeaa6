"""Notifications to people go through the same relay: to the notification port, whose embedded adapter is a
mailbox table; a channel that keeps refusing puts the notification on the dead-letter list, with its reason."""

from __future__ import annotations

from temporalio.testing import ActivityEnvironment

from activities.notifications import Notification
from delivery import dead_letters
from delivery.notifications import NotificationRefused, OutboundNotification
from delivery.relay import Relay
from store.event_store import PostgresEventStore
from store.pii import default_vault
from tests.audit.conftest import AuditDb
from tests.delivery.conftest import FAST
from tests.helpers import outbox_activities
from tests.store.cases import ZHAO, closed_case


async def _queued(db: AuditDb, complaint_id: str, subject: str) -> None:
    notification = Notification(
        idempotency_key=f"{complaint_id}:{subject}",
        complaint_id=complaint_id,
        recipient_role="customer",
        recipient=ZHAO.msisdn,
        subject=subject,
        body=f"{ZHAO.name}, your case {complaint_id} is resolved",
    )
    assert await ActivityEnvironment().run(outbox_activities(db.pool).notify, notification)


async def _store(db: AuditDb, complaint_id: str) -> None:
    await PostgresEventStore(db.pool).append(complaint_id, closed_case(complaint_id, ZHAO))


async def _every_notification_accounted_for(db: AuditDb) -> None:
    """Nothing undelivered without a visible reason: a notification tried and not delivered says why."""
    unexplained = await db.pool.fetchval(
        "SELECT count(*) FROM notification_outbox WHERE delivered_at IS NULL AND attempts > 0 AND last_error IS NULL"
    )
    assert unexplained == 0


async def test_a_notification_lands_in_the_mailbox_sealed_as_stored(audit_db: AuditDb) -> None:
    await _store(audit_db, "NOTE-1")
    await _queued(audit_db, "NOTE-1", "resolved")
    async with Relay(audit_db.pool, config=FAST) as relay:
        assert await relay.run_once() == 1
        assert await relay.run_once() == 0  # delivered once, not again
    (mail,) = await audit_db.pool.fetch("SELECT * FROM notification_mailbox")
    assert ZHAO.msisdn not in mail["recipient"] and ZHAO.name not in mail["body"]  # sealed at rest
    (opened,) = await default_vault().unseal(audit_db.pool, [{"recipient": mail["recipient"], "body": mail["body"]}])
    assert opened == {"recipient": ZHAO.msisdn, "body": f"{ZHAO.name}, your case NOTE-1 is resolved"}
    delivered = await audit_db.pool.fetchval("SELECT delivered_at FROM notification_outbox WHERE id = $1",
                                             mail["notification_id"])
    assert delivered is not None
    await _every_notification_accounted_for(audit_db)


class RefusingChannel:
    """A channel that is down: every send is refused (what an SMS gateway's outage looks like to the relay)."""

    def __init__(self) -> None:
        self.tries: list[int] = []

    async def send(self, notification: OutboundNotification) -> None:
        self.tries.append(notification.id)
        raise NotificationRefused("gateway answered 503")


async def test_a_refused_notification_is_retried_then_dead_lettered_with_its_reason(audit_db: AuditDb) -> None:
    await _store(audit_db, "NOTE-2")
    await _queued(audit_db, "NOTE-2", "asked")
    channel = RefusingChannel()
    async with Relay(audit_db.pool, sender=channel, config=FAST) as relay:
        for _ in range(200):
            if await dead_letters.dead_letters(audit_db.pool):
                break
            await relay.run_once()
    assert len(channel.tries) == 1 + len(FAST.retry_schedule)
    (letter,) = await dead_letters.dead_letters(audit_db.pool)
    assert (letter.kind, letter.complaint_id, letter.what) == ("notification", "NOTE-2", "customer")
    assert letter.last_error == "NotificationRefused: gateway answered 503"
    await _every_notification_accounted_for(audit_db)

    assert await dead_letters.replay(audit_db.pool, "notification", letter.id)
    async with Relay(audit_db.pool, config=FAST) as relay:  # the mailbox again
        assert await relay.run_once() == 1
    assert await audit_db.pool.fetchval("SELECT count(*) FROM notification_mailbox") == 1
    assert await dead_letters.dead_letters(audit_db.pool) == []
