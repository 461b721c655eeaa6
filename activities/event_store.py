"""Saving a case's events to the PostgreSQL event store."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from temporalio import activity

from activities.logging import case_log, log_events_of_note
from domain.events import AnyEvent
from ports.event_store import AppendResult, ArchiveTicket, EventStore


class AppendEventsInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    events: list[AnyEvent]


class LoadEventsInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str


class EventStoreActivities:
    def __init__(self, store: EventStore) -> None:
        self._store = store

    @activity.defn
    async def append_events(self, request: AppendEventsInput) -> int:
        """Append the events; idempotent by seq, so a retry after a lost reply writes nothing twice."""
        return await save_events(self._store, request)

    @activity.defn
    async def load_events(self, request: LoadEventsInput) -> list[AnyEvent]:
        """The case's events in order, as stored: what a reopened run continues from."""
        return await self._store.load(request.complaint_id)  # type: ignore[return-value]


async def save_events(store: EventStore, request: AppendEventsInput) -> int:
    """Append a case's events from inside an activity, and log those of note; the last seq stored.

    Idempotent by seq, so a retry after a lost reply writes nothing twice.
    """
    result = await store.append(request.complaint_id, request.events, archive=archive_ticket(request))
    log_saved(request, result)
    return result.last_seq


def log_saved(request: AppendEventsInput, result: AppendResult) -> None:
    """Log a save: at debug, and each event of note it wrote (those a retry finds stored are not logged again)."""
    log = case_log(request.complaint_id)
    log.debug("events saved", appended=result.appended, last_seq=result.last_seq)
    # Each event of note is logged here, once: after its commit, and only by the call that wrote
    # it. The store says how many of the events this call wrote (the newest `appended`), so a
    # retry after a lost reply, which finds them stored, logs nothing. A workflow logging them
    # would do so before they are durable.
    first_new = result.last_seq - result.appended
    log_events_of_note(log, [event for event in request.events if event.seq > first_new])


def archive_ticket(request: AppendEventsInput) -> ArchiveTicket | None:
    """The calling run, when it is the case's own workflow.

    Should these events end the case, the store queues that run for the task queue's archiver in the same transaction.
    """
    info = activity.info()
    if info.workflow_id != request.complaint_id or not info.workflow_run_id:
        return None
    return ArchiveTicket(run_id=info.workflow_run_id, task_queue=info.task_queue)
