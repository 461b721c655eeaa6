"""The notifications port's contract, held by the PostgreSQL outbox and the in-memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import asyncpg
import pytest
import pytest_asyncio

from adapters.notification_outbox import PostgresOutbox
from domain import events as ev
from ports.event_store import EventStore
from ports.notifications import Notification, Notifier
from store.event_store import PostgresEventStore
from tests.audit.conftest import AuditDb
from tests.domain.factories import Stream
from tests.fakes.event_store import InMemoryEventStore
from tests.fakes.notifications import InMemoryNotifier


@dataclass
class Subject:
    notifier: Notifier
    count: Callable[[], Awaitable[int]]  # how many notifications are queued
    store: EventStore  # where the notifier's events go: the same database, for PostgreSQL


@pytest_asyncio.fixture(params=["postgres", "memory"])
async def subject(request: pytest.FixtureRequest, audit_db: AuditDb) -> AsyncIterator[Subject]:
    if request.param == "memory":
        fake = InMemoryNotifier()

        async def count_memory() -> int:
            return len(fake.sent)

        yield Subject(fake, count_memory, InMemoryEventStore())
        return

    async def count_postgres() -> int:
        value: int = await audit_db.pool.fetchval("SELECT count(*) FROM notification_outbox")
        return value

    yield Subject(PostgresOutbox(audit_db.pool), count_postgres, PostgresEventStore(audit_db.pool))


def reminder(key: str, body: str = "Please confirm whether calls reach you again.") -> Notification:
    return Notification(
        idempotency_key=key,
        complaint_id="CASE-N1",
        recipient_role="supervisor",
        recipient="supervisors",
        subject="A reminder about your complaint",
        body=body,
    )


async def test_a_notification_is_queued_once_per_key(subject: Subject) -> None:
    assert await subject.notifier.notify(reminder("CASE-N1/remind-1")) is True
    assert await subject.notifier.notify(reminder("CASE-N1/remind-1")) is False
    assert await subject.notifier.notify(reminder("CASE-N1/remind-2")) is True
    assert await subject.count() == 2


def escalated_case() -> list[ev.Event]:
    """A case whose resolve deadline passed: the events an escalation's notice is sent for."""
    s = Stream("CASE-N1")
    return [s.filed(), s.next(ev.CaseEscalated, level=1, to_role="supervisor", reason="resolve deadline passed")]


async def test_a_notice_and_the_events_it_follows_are_kept_once(subject: Subject) -> None:
    events, notice = escalated_case(), reminder("CASE-N1/escalate-1")
    saved, queued = await subject.notifier.notify_with_events(subject.store, "CASE-N1", events, notice)
    assert (saved.appended, saved.last_seq, queued) == (2, 2, True)
    # A retry (a lost reply) writes nothing twice.
    saved, queued = await subject.notifier.notify_with_events(subject.store, "CASE-N1", events, notice)
    assert (saved.appended, saved.already_stored, queued) == (0, 2, False)
    assert await subject.store.load("CASE-N1") == events
    assert await subject.count() == 1


async def test_a_notice_refused_by_the_outbox_keeps_its_events_out_too(audit_db: AuditDb) -> None:
    # The outbox refuses the row (a constraint of this test's own database): the events of the same call, whose
    # append went first, must not be stored either. One transaction; two would leave an escalation unnoticed.
    await audit_db.pool.execute(
        "ALTER TABLE notification_outbox ADD CONSTRAINT refuse_for_test CHECK (idempotency_key <> 'CASE-N1/refused')"
    )
    store = PostgresEventStore(audit_db.pool)
    with pytest.raises(asyncpg.CheckViolationError):
        await PostgresOutbox(audit_db.pool).notify_with_events(
            store, "CASE-N1", escalated_case(), reminder("CASE-N1/refused")
        )
    assert await store.load("CASE-N1") == []
    assert await store.head("CASE-N1") is None
