"""Finding case workflows that stopped without closing their case, and recording what Temporal says happened.

A workflow terminated from the UI or CLI, cancelled, timed out or failed leaves its case's event stream
without an end: the read model would show it open forever and nobody would hear of it. This activity
lists such runs through visibility, reads from the run's history who stopped it and why, appends a
CaseReconciled event (idempotent: the stream's state decides, and the event's content comes from
history alone) and queues a notification for a supervisor.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client, WorkflowExecution, WorkflowExecutionStatus

from activities.liveness import beats_its_own_heart
from activities.logging import activity_log
from activities.notifications import Notification, NotificationActivities
from adapters.notification_outbox import PostgresOutbox
from domain import events as ev
from domain.actors import Actor, ActorChannel, Role
from store.archive_queue import ArchiveTicket
from store.event_store import PostgresEventStore
from store.pii import PersonalDataVault

# Visibility is eventually consistent: each round looks this far back past the last close it saw.
OVERLAP = timedelta(minutes=10)

STOPPED: dict[WorkflowExecutionStatus, ev.ReconciledStatus] = {
    WorkflowExecutionStatus.TERMINATED: "terminated",
    WorkflowExecutionStatus.CANCELED: "canceled",
    WorkflowExecutionStatus.FAILED: "failed",
    WorkflowExecutionStatus.TIMED_OUT: "timed_out",
}

RECONCILER = Actor(id="reconciler", role=Role.SYSTEM, channel=ActorChannel.ENGINE)


class ReconcileRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_queue: str
    # Only runs closed after this (less the overlap) are looked at; None: every closed run.
    closed_after: datetime | None = None


class ReconciledRun(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    run_id: str


class ReconcileResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    reconciled: list[ReconciledRun]
    """Runs whose case got a CaseReconciled event in this round."""
    checked_until: datetime | None
    """The latest close time seen: where the next round starts (less the overlap)."""


def stopped_runs_query(task_queue: str, closed_after: datetime | None) -> str:
    """The visibility query for the task queue's case runs stopped from outside, closed after `closed_after`."""
    statuses = ", ".join(f"'{name}'" for name in ("Terminated", "Canceled", "Failed", "TimedOut"))
    query = (
        f"WorkflowType = 'ComplaintWorkflow' AND TaskQueue = '{task_queue}' AND ExecutionStatus IN ({statuses})"
    )
    if closed_after is not None:
        since = (closed_after - OVERLAP).astimezone(UTC).isoformat().replace("+00:00", "Z")
        query += f" AND CloseTime > '{since}'"
    return query


def _when(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


def what_happened(events: list[HistoryEvent]) -> tuple[str, str, datetime]:
    """(identity, reason, when) of a stopped run, as its history records them."""
    last = events[-1]
    identity, reason = "", ""
    if last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED:
        attrs = last.workflow_execution_terminated_event_attributes
        identity, reason = attrs.identity, attrs.reason
    elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED:
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED:
                requested = event.workflow_execution_cancel_requested_event_attributes
                identity, reason = requested.identity, requested.cause
    elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        reason = last.workflow_execution_failed_event_attributes.failure.message
        for event in events:
            if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                identity = event.workflow_task_completed_event_attributes.identity  # the worker that failed it
    elif last.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT:
        reason = "the workflow's execution timeout passed"
    return identity, reason, _when(last)


class ReconcileActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool, vault: PersonalDataVault | None = None) -> None:
        self._client = client
        self._store = PostgresEventStore(pool, vault)
        self._notifications = NotificationActivities(PostgresOutbox(pool, vault), self._store)

    @activity.defn
    @beats_its_own_heart
    async def reconcile_stopped_cases(self, request: ReconcileRequest) -> ReconcileResult:
        """Record a CaseReconciled event for each stopped run whose case's stream has no end."""
        reconciled: list[ReconciledRun] = []
        checked_until = request.closed_after
        async for execution in self._client.list_workflows(stopped_runs_query(request.task_queue,
                                                                               request.closed_after)):
            activity.heartbeat(execution.id)
            if execution.close_time is not None and (checked_until is None or execution.close_time > checked_until):
                checked_until = execution.close_time
            if await self._reconcile(execution, request.task_queue):
                reconciled.append(ReconciledRun(complaint_id=execution.id, run_id=execution.run_id))
        return ReconcileResult(reconciled=reconciled, checked_until=checked_until)

    async def _reconcile(self, execution: WorkflowExecution, task_queue: str) -> bool:
        stopped = STOPPED.get(execution.status)  # type: ignore[arg-type]
        if stopped is None:
            return False
        state = await self._store.state(execution.id)
        if state is None or not state.is_open:
            return False  # nothing was saved, or the stream has its end already (closed or reconciled)
        latest = await self._client.get_workflow_handle(execution.id).describe()
        if latest.run_id != execution.run_id:
            return False  # a later run of this case carries it on
        history = await self._client.get_workflow_handle(execution.id, run_id=execution.run_id).fetch_history()
        identity, reason, when = what_happened(list(history.events))
        event = ev.CaseReconciled(
            complaint_id=execution.id,
            seq=state.last_seq + 1,
            at=when,
            actor=RECONCILER,
            run_id=execution.run_id,
            execution_status=stopped,
            identity=identity,
            reason=reason,
            stopped_at=when,
        )
        # The event ends the stream: the same transaction queues the stopped run for the archiver.
        await self._store.append(execution.id, [event], archive=ArchiveTicket(execution.run_id, task_queue))
        who = f" by {identity}" if identity else ""
        await self._notifications.notify(
            Notification(
                idempotency_key=f"{execution.id}:reconciled:{execution.run_id}",
                complaint_id=execution.id,
                recipient_role=Role.SUPERVISOR.value,
                recipient=Role.SUPERVISOR.value,
                subject=f"Case {execution.id}: its workflow was {stopped}{who}",
                body=reason or "Temporal gave no reason.",
            )
        )
        activity_log().warning("case reconciled", complaint_id=execution.id, execution_status=stopped,
                               identity=identity)
        return True
