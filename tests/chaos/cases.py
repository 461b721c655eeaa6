"""Helpers of the chaos tests: intakes, waiting on a case, and reading what really happened.

"What really happened" is read from the systems themselves, never from the engine's own account:
Temporal's history (activity attempts), the event store's rows and hash chains, the billing
sandbox's ledger and action log, the partner sandbox's counters.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable, Set
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from temporalio.api.enums.v1 import EventType, PendingActivityState
from temporalio.client import WorkflowHandle

from client.api import ComplaintClient
from domain.actors import Actor, ActorChannel, Role
from domain.cases import Category
from domain.events import Event
from domain.intake import ComplaintIntake, parse_intake
from store.event_store import PostgresEventStore
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from stories.validity_shortened import VALIDITY_CUSTOMER
from tests.identity import signed

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)
AGENT = Actor(id="agent-chaos", role=Role.AGENT, channel=ActorChannel.STORE)
CONFIRM = "confirm-resolution"


def case_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def forwarding_intake(
    partner_msisdn: str, *, complaint_id: str | None = None, **overrides: Any
) -> ComplaintIntake:
    data: dict[str, Any] = {
        "complaint_id": complaint_id or case_id("CHAOS-FWD"),
        "category": "forwarding_cancel",
        "msisdn": FORWARDING_CUSTOMER.msisdn,
        "customer_name": FORWARDING_CUSTOMER.name,
        "description": "改号通知后联通手机无法接听电话, 要求半小时内解决",
        "id_number": FORWARDING_CUSTOMER.id_number,
        "partner_msisdn": partner_msisdn,
        "filed_by": AGENT.model_dump(),
    }
    data.update(overrides)
    return parse_intake(data)


def validity_intake() -> ComplaintIntake:
    """The seed's validity story (王先生), under a new case id."""
    return parse_intake(
        {
            "complaint_id": case_id("CHAOS-VAL"),
            "category": Category.VALIDITY_SHORTENED.value,
            "msisdn": VALIDITY_CUSTOMER.msisdn,
            "customer_name": VALIDITY_CUSTOMER.name,
            "description": "有效期从2010年5月25日被缩短到2008年11月26日, 要求延长回去",
            "filed_by": AGENT.model_dump(),
        }
    )


async def eventually(
    check: Callable[[], Awaitable[Any]], *, timeout: float, what: str, every: float = 0.1
) -> Any:
    """Call `check` until it returns something truthy; fail saying `what` did not happen."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout:.0f}s: {what}")
        await asyncio.sleep(every)


async def answer_when_asked(
    client: ComplaintClient, complaint_id: str, question_id: str, answer: str, *, timeout: float = 90
) -> None:
    """Wait (querying the case, so a worker must be up) for the question, then answer it."""

    async def asked() -> bool:
        view = await client.view(complaint_id)
        pending = view.state.pending_question
        return pending is not None and pending.question_id == question_id

    await eventually(asked, timeout=timeout, what=f"{complaint_id} never asked {question_id!r}", every=0.2)
    await client.answer(complaint_id, question_id, answer, signed(CUSTOMER))


async def started_activity(handle: WorkflowHandle[Any, Any], activity_type: str) -> bool:
    """Whether a worker has picked up `activity_type` for this workflow and not finished it."""
    description = await handle.describe()
    return any(
        pending.activity_type.name == activity_type
        and pending.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        for pending in description.raw_description.pending_activities
    )


@dataclass(frozen=True)
class ActivityRun:
    """One scheduled activity as its history shows it: the attempt it ended on, and when."""

    attempt: int
    scheduled_at: datetime
    started_at: datetime  # of the last attempt

    @property
    def waited(self) -> timedelta:
        """From scheduling to the last attempt's start: the failed attempts and the backoff between them."""
        return self.started_at - self.scheduled_at


async def activity_runs(handle: WorkflowHandle[Any, Any], activity_type: str | Set[str]) -> list[ActivityRun]:
    """Every completed or failed run of `activity_type` (or of any of a set) in the workflow's history, in order."""
    types = {activity_type} if isinstance(activity_type, str) else activity_type
    history = await handle.fetch_history()
    scheduled: dict[int, datetime] = {}
    runs: list[ActivityRun] = []
    for event in history.events:
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            if event.activity_task_scheduled_event_attributes.activity_type.name in types:
                scheduled[event.event_id] = event.event_time.ToDatetime(UTC)
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            attributes = event.activity_task_started_event_attributes
            if attributes.scheduled_event_id in scheduled:
                runs.append(
                    ActivityRun(
                        attempt=attributes.attempt,
                        scheduled_at=scheduled[attributes.scheduled_event_id],
                        started_at=event.event_time.ToDatetime(UTC),
                    )
                )
    return runs


async def activity_attempts(handle: WorkflowHandle[Any, Any], activity_type: str | Set[str]) -> list[int]:
    """For each completed or failed run of `activity_type` (or of any of a set), the attempt it ended on."""
    return [run.attempt for run in await activity_runs(handle, activity_type)]


async def stored_events(pool: asyncpg.Pool, complaint_id: str) -> list[Event]:
    return await PostgresEventStore(pool).load(complaint_id)


async def assert_chain_intact(pool: asyncpg.Pool, complaint_id: str) -> None:
    broken = await PostgresEventStore(pool).verify(complaint_id)
    assert broken is None, f"hash chain of {complaint_id} broken: {broken}"


async def ledger_rows(pool: asyncpg.Pool, complaint_id: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT id, idempotency_key, kind, amount_fen FROM boss.adjustment_ledger WHERE complaint_id = $1",
        complaint_id,
    )


async def action_rows(pool: asyncpg.Pool, key_prefix: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT idempotency_key, action, effective FROM boss.actions WHERE starts_with(idempotency_key, $1)",
        key_prefix,
    )


def of_type(events: list[Event], type_name: str) -> list[Any]:
    return [event for event in events if event.type == type_name]
