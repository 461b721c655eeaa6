"""The notifications port's contract, held by the PostgreSQL outbox and the in-memory fake."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
import pytest_asyncio

from adapters.notification_outbox import PostgresOutbox
from ports.notifications import Notification, Notifier
from tests.audit.conftest import AuditDb
from tests.fakes.notifications import InMemoryNotifier


@dataclass
class Subject:
    notifier: Notifier
    count: Callable[[], Awaitable[int]]  # how many notifications are queued


@pytest_asyncio.fixture(params=["postgres", "memory"])
async def subject(request: pytest.FixtureRequest, audit_db: AuditDb) -> AsyncIterator[Subject]:
    if request.param == "memory":
        fake = InMemoryNotifier()

        async def count_memory() -> int:
            return len(fake.sent)

        yield Subject(fake, count_memory)
        return

    async def count_postgres() -> int:
        value: int = await audit_db.pool.fetchval("SELECT count(*) FROM notification_outbox")
        return value

    yield Subject(PostgresOutbox(audit_db.pool), count_postgres)


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
