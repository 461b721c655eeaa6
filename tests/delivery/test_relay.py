"""The relay against a real listener on loopback: signed, in order per ticket, retried, disabled on 410,
dead-lettered and replayed, and nothing lost when a relay dies mid-delivery."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta

import asyncpg

from delivery import dead_letters, hub
from delivery.notifications import MailboxSender, OutboundNotification
from delivery.relay import Relay, relay_running
from delivery.schedule import RelayConfig
from tests.audit.conftest import AuditDb
from tests.delivery.cases import outbox_ids, rounds_until, standard_signature, stored_case
from tests.delivery.conftest import FAST, Received, WebhookListener


async def _register(db: AuditDb, listener: WebhookListener, query: str = "") -> str:
    registered, secret = await hub.register(db.pool, listener.url, query, "sup-01")
    assert registered.id
    return secret


def _all_delivered(db: AuditDb) -> Callable[[], Awaitable[bool]]:
    """Whether every outbox event was fanned out and every delivery made went through."""

    async def done() -> bool:
        left = await db.pool.fetchval(
            "SELECT count(*) FROM webhook_deliveries WHERE status <> 'delivered'"
        )
        fanned = await db.pool.fetchval("SELECT count(*) FROM tmf_event_outbox WHERE fanned_out_at IS NULL")
        return left == 0 and fanned == 0
    return done


async def test_every_event_arrives_signed_and_in_order(audit_db: AuditDb, listener: WebhookListener) -> None:
    secret = await _register(audit_db, listener)
    first = await stored_case(audit_db.pool)
    second = await stored_case(audit_db.pool)
    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, _all_delivered(audit_db), "every event delivered")

    for complaint_id in (first, second):
        expected = await outbox_ids(audit_db.pool, complaint_id)
        assert len(expected) >= 6
        got = [r.event_id for r in listener.received if r.json["correlationId"] == complaint_id]
        assert got == expected  # in order per ticket, each once when nothing failed
    for request in listener.received:
        assert request.headers["webhook-signature"] == standard_signature(secret, request)
        assert request.headers["webhook-id"].startswith("msg_")
        assert abs(int(request.headers["webhook-timestamp"]) - time.time()) < 3600
        assert request.headers["content-type"] == "application/json"
    # A signature under another secret does not match: the check above could fail.
    assert listener.received[0].headers["webhook-signature"] != standard_signature(
        "whsec_" + "A" * 44, listener.received[0]
    )


async def test_a_500_is_retried_and_holds_the_tickets_later_events_back(
    audit_db: AuditDb, listener: WebhookListener
) -> None:
    await _register(audit_db, listener)
    complaint_id = await stored_case(audit_db.pool)
    expected = await outbox_ids(audit_db.pool, complaint_id)
    refused = expected[1]

    def answer(request: Received, nth: int) -> int:
        return 500 if request.event_id == refused and nth == 1 else 200

    listener.answer = answer
    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, _all_delivered(audit_db), "every event delivered")

    attempts = [r for r in listener.received if r.event_id == refused]
    assert len(attempts) == 2
    assert attempts[0].headers["webhook-id"] == attempts[1].headers["webhook-id"]
    # Nothing after the refused event arrived before its retry went through.
    order = [r.event_id for r in listener.received]
    assert order == [*expected[:2], refused, *expected[2:]]
    row = await audit_db.pool.fetchrow(
        "SELECT attempts, last_status FROM webhook_deliveries d JOIN tmf_event_outbox o ON o.id = d.outbox_id "
        "WHERE o.event_id = $1",
        refused,
    )
    assert (row["attempts"], row["last_status"]) == (2, 200)


async def test_a_410_disables_the_endpoint_and_says_why(audit_db: AuditDb, listener: WebhookListener) -> None:
    gone, _ = await hub.register(audit_db.pool, listener.url + "?gone", "", "sup-01")
    await _register(audit_db, listener)
    listener.answer = lambda request, nth: 410 if request.query == "gone" else 200
    complaint_id = await stored_case(audit_db.pool)

    async def nothing_pending() -> bool:
        pending = await audit_db.pool.fetchval("SELECT count(*) FROM webhook_deliveries WHERE status = 'pending'")
        fanned = await audit_db.pool.fetchval("SELECT count(*) FROM tmf_event_outbox WHERE fanned_out_at IS NULL")
        return pending == 0 and fanned == 0

    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, nothing_pending, "nothing pending")

    assert len([r for r in listener.received if r.query == "gone"]) == 1  # one 410, then nothing more to it
    disabled = await hub.get(audit_db.pool, gone.id)
    assert disabled is not None and disabled.disabled_at is not None
    assert "410" in (disabled.disabled_reason or "")
    rows = await audit_db.pool.fetch(
        "SELECT status, last_error FROM webhook_deliveries WHERE listener_id = $1", gone.id
    )
    assert len(rows) == len(await outbox_ids(audit_db.pool, complaint_id))
    assert {row["status"] for row in rows} == {"cancelled"}
    assert all("410 Gone" in row["last_error"] for row in rows)
    # The other listener got everything.
    kept = [r.event_id for r in listener.received if r.query != "gone"]
    assert kept == await outbox_ids(audit_db.pool, complaint_id)


async def test_spent_retries_go_to_the_dead_letter_list_and_a_replay_delivers_in_order(
    audit_db: AuditDb, listener: WebhookListener
) -> None:
    await _register(audit_db, listener)
    complaint_id = await stored_case(audit_db.pool)
    expected = await outbox_ids(audit_db.pool, complaint_id)
    listener.answer = lambda request, nth: 500 if request.event_id == expected[0] else 200

    async def dead() -> bool:
        return bool(await dead_letters.dead_letters(audit_db.pool))

    async with Relay(audit_db.pool, config=FAST) as relay:
        await rounds_until(relay, dead, "a dead letter")
        (letter,) = await dead_letters.dead_letters(audit_db.pool)
        assert (letter.kind, letter.complaint_id, letter.attempts) == ("webhook", complaint_id, 3)  # 1 + 2 retries
        assert letter.last_status == 500 and letter.last_error == "answered 500"
        assert letter.held_back == len(expected) - 1
        for _ in range(5):  # the held-back events stay held back
            await relay.run_once()
        assert {r.event_id for r in listener.received} == {expected[0]}

        listener.answer = lambda request, nth: 200
        assert await dead_letters.replay(audit_db.pool, "webhook", letter.id)
        assert not await dead_letters.replay(audit_db.pool, "webhook", letter.id)  # not dead any more
        await rounds_until(relay, _all_delivered(audit_db), "every event delivered")
    assert listener.first_receipts() == expected
    assert len({r.headers["webhook-id"] for r in listener.received if r.event_id == expected[0]}) == 1
    assert await dead_letters.dead_letters(audit_db.pool) == []


async def test_a_relay_killed_mid_delivery_loses_nothing(audit_db: AuditDb, listener: WebhookListener) -> None:
    await _register(audit_db, listener)
    complaint_id = await stored_case(audit_db.pool)
    expected = await outbox_ids(audit_db.pool, complaint_id)
    # The first relay's request for the third event is never answered: the relay dies waiting.
    listener.answer = lambda request, nth: "hang" if request.event_id == expected[2] and nth == 1 else 200
    short_lease = RelayConfig(retry_schedule=FAST.retry_schedule, lease=FAST.lease, request_timeout=2.0,
                              poll_seconds=0.02)
    stop = asyncio.Event()
    async with Relay(audit_db.pool, config=short_lease) as first:
        task = asyncio.create_task(first.run(stop))
        for _ in range(500):
            if any(r.event_id == expected[2] for r in listener.received):
                break
            await asyncio.sleep(0.02)
        task.cancel()  # killed mid-send: no result is recorded, the lease is left to run out
        with contextlib.suppress(asyncio.CancelledError):
            await task
    held = await audit_db.pool.fetchval(
        "SELECT status FROM webhook_deliveries d JOIN tmf_event_outbox o ON o.id = d.outbox_id WHERE o.event_id = $1",
        expected[2],
    )
    assert held == "pending"

    async with Relay(audit_db.pool, config=FAST) as second:
        await rounds_until(second, _all_delivered(audit_db), "every event delivered after the restart")
    assert listener.first_receipts() == expected
    again = [r for r in listener.received if r.event_id == expected[2]]
    assert len(again) == 2
    assert again[0].headers["webhook-id"] == again[1].headers["webhook-id"]
    # Everything before the interrupted event went once; it and what follows it went in order after.
    assert [r.event_id for r in listener.received] == [*expected[:3], *expected[2:]]


async def test_the_relay_the_worker_embeds_delivers_in_the_background(
    audit_db: AuditDb, listener: WebhookListener
) -> None:
    """worker.py runs `relay_running` beside the Temporal worker: events appended meanwhile arrive by themselves."""
    await _register(audit_db, listener)
    async with relay_running(audit_db.pool, config=FAST):
        complaint_id = await stored_case(audit_db.pool)
        expected = await outbox_ids(audit_db.pool, complaint_id)
        for _ in range(500):
            if len(listener.received) >= len(expected):
                break
            await asyncio.sleep(0.02)
    assert [r.event_id for r in listener.received] == expected


class BrokenOnce:
    """A notification channel whose first send fails in a way nobody planned for (not a refusal)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.mailbox = MailboxSender(pool)
        self.calls = 0

    async def send(self, notification: OutboundNotification) -> None:
        self.calls += 1
        if self.calls == 1:
            raise RuntimeError("a bug in the channel")
        await self.mailbox.send(notification)


async def test_a_relay_outlives_a_round_that_fails(audit_db: AuditDb, listener: WebhookListener) -> None:
    """An unexpected error in a channel is a failed attempt like a refusal: the relay goes on, and retries it."""
    await _register(audit_db, listener)
    complaint_id = await stored_case(audit_db.pool)
    expected = await outbox_ids(audit_db.pool, complaint_id)
    await audit_db.pool.execute(
        """INSERT INTO notification_outbox (idempotency_key, complaint_id, recipient_role, recipient, subject, body)
           VALUES ('k-1', $1, 'agent', 'agent-007', 'escalated', 'the case was escalated')""",
        complaint_id,
    )
    channel = BrokenOnce(audit_db.pool)
    config = RelayConfig(retry_schedule=FAST.retry_schedule, lease=timedelta(seconds=2.5), request_timeout=2.0,
                         poll_seconds=0.02)
    stop = asyncio.Event()
    async with Relay(audit_db.pool, sender=channel, config=config) as relay:
        task = asyncio.create_task(relay.run(stop))
        for _ in range(1000):
            mailed = await audit_db.pool.fetchval("SELECT count(*) FROM notification_mailbox")
            if (mailed and len(listener.first_receipts()) >= len(expected)) or task.done():
                break
            await asyncio.sleep(0.02)
        assert not task.done()  # the failed round did not end the relay
        stop.set()
        await task
    assert channel.calls == 2  # the failed send was recorded as a failed attempt and retried
    assert listener.first_receipts() == expected
