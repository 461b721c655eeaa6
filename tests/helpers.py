"""The tests' shared helpers: sandboxes put back as seeded, partner faults, and waiting on a case.

The resets are sandboxes/reset.py's, the ones the demo and the benchmarks use; `reset_sandboxes` here keeps
the tests' argument order (partner URL first).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import asyncpg
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import WorkflowHandle

from activities.notifications import NotificationActivities
from adapters.notification_outbox import PostgresOutbox
from client.api import ComplaintClient
from domain.actors import Actor
from domain.cases import Category, Status
from domain.intake import ComplaintIntake, parse_intake
from sandboxes.reset import reset_sandboxes as sandbox_reset
from store.event_store import PostgresEventStore
from stories.arrears_dispute import ARREARS_CUSTOMER
from tests.domain.factories import intake_data
from workflows.messages import CaseView

POLL_SECONDS = 0.05


def forwarding_intake(**overrides: Any) -> ComplaintIntake:
    return parse_intake(intake_data(complaint_id=f"FWD-{uuid.uuid4().hex[:10]}", **overrides))


def arrears_dispute_intake(filed_by: Actor) -> ComplaintIntake:
    """The seed's arrears customer disputing the arrears of a number she says was never used, filed by `filed_by`."""
    return ComplaintIntake(
        complaint_id=f"arrears-{uuid.uuid4().hex[:10]}",
        category=Category.ARREARS_DISPUTE,
        msisdn=ARREARS_CUSTOMER.msisdn,
        customer_name=ARREARS_CUSTOMER.name,
        description="号码是女儿用的, 一直没用过",
        filed_by=filed_by,
    )


async def reset_sandboxes(partner_url: str, pool: asyncpg.Pool) -> None:
    """Both sandboxes as seeded: the partner's memory, and the billing system's stories rearmed."""
    await sandbox_reset(pool, partner_url)


async def set_partner_faults(partner_url: str, **faults: Any) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(f"{partner_url}/admin/faults", json=faults) as response:
            response.raise_for_status()


async def wait_until(
    client: ComplaintClient,
    complaint_id: str,
    ready: Callable[[CaseView], bool],
    what: str,
    *,
    attempts: int = 600,
    closed_fails: bool = True,
) -> CaseView:
    """Poll the case (in real time) until `ready` holds; with `closed_fails`, a case closing first fails."""
    for _ in range(attempts):
        view = await client.view(complaint_id)
        if ready(view):
            return view
        if closed_fails:
            assert view.state.status is not Status.CLOSED, f"{complaint_id} closed before {what}"
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"{complaint_id} never reached: {what}")


async def wait_for_question(
    client: ComplaintClient, complaint_id: str, question_id: str | None = None, attempts: int = 600
) -> CaseView:
    """Poll until the case asks the customer something (that question, if named)."""

    def asked(view: CaseView) -> bool:
        pending = view.state.pending_question
        return pending is not None and question_id in (None, pending.question_id)

    return await wait_until(
        client, complaint_id, asked, f"asking {question_id or 'the customer'}", attempts=attempts
    )


def minutes_after(view: CaseView, event_type: str, start: Any) -> list[float]:
    return [round((e.at - start).total_seconds() / 60, 2) for e in view.timeline if e.type == event_type]


RUN_ENDS = frozenset({
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED,
})


async def run_ended(handle: WorkflowHandle[Any, Any], attempts: int = 600) -> HistoryEvent:
    """The event that ended the handle's run, read from its history as it comes (in real time).

    Use it instead of awaiting `result()` when what follows depends on the workflow clock (a reopen window):
    awaiting a result lets the time-skipping server move its clock, at times by years.
    """
    for _ in range(attempts):
        last = (await handle.fetch_history()).events[-1]
        if last.event_type in RUN_ENDS:
            return last
        await asyncio.sleep(POLL_SECONDS)
    raise AssertionError(f"{handle.id} never ended")


def outbox_activities(pool: asyncpg.Pool) -> NotificationActivities:
    """The notification activities over the real outbox and event store of `pool`."""
    return NotificationActivities(PostgresOutbox(pool), PostgresEventStore(pool))
