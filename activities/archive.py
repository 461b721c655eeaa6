"""Archiving closed cases' Temporal histories into PostgreSQL, so they outlive Temporal's retention.

One activity, run by the task queue's archiver (workflows/archiver.py): it takes a batch of runs from
the archive queue (written with the events that ended each case, see store/archive_queue.py) and
copies the complete history of every closed run of each case's workflow id into the archive table.
A run still open (it ends moments after its last save) stays queued for the next round. Archiving
is idempotent per (case, run): a run archived before is skipped without fetching its history again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import UTC, timedelta
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.liveness import beats_its_own_heart
from audit.archive_store import ArchivedRun, PostgresArchiveStore, history_digest
from client.runs import RunInfo, describe_run
from domain.intake import check_complaint_id
from store import archive_queue
from store.archive_queue import QueuedRun

INVALID_CASE_ID = "InvalidCaseId"
# A queued run still open, or one Temporal or PostgreSQL failed on, is looked at again after this
# (times its attempts so far, at most 10 minutes).
LOOK_AGAIN_AFTER = timedelta(seconds=1)
# Runs archived at once within a batch: each is a few Temporal calls and one insert.
PARALLEL_RUNS = 8


class ArchiveTarget(BaseModel):
    """The case (= workflow id) and the run whose close triggers the archive."""

    model_config = ConfigDict(frozen=True)

    complaint_id: str
    run_id: str


class ArchiveResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    archived: list[str]
    """Runs stored by this call."""
    already_archived: list[str]
    """Runs found in the archive already: nothing fetched or written for them."""
    still_running: list[str]
    """Runs of the same workflow id still open (a reopened case): archived when they close."""


class ArchiveBatchRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_queue: str
    limit: int


class ArchiveBatchResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    taken: int
    """Queued runs due this round."""
    archived: int
    """Runs done with and off the queue (archived now, or before)."""
    waiting: int
    """Runs still open, or that failed this time: queued for a later round."""


class ArchiveActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool) -> None:
        self._client = client
        self._pool = pool
        self._archive = PostgresArchiveStore(pool)

    def all(self) -> list[Any]:
        """The activity methods to register on a worker."""
        return [self.archive_queued]

    @activity.defn
    @beats_its_own_heart
    async def archive_queued(self, request: ArchiveBatchRequest) -> ArchiveBatchResult:
        """Archive up to `limit` queued closed runs of the task queue; those still open wait for the next round."""
        runs = await archive_queue.due(self._pool, request.task_queue, request.limit)
        gate = asyncio.Semaphore(PARALLEL_RUNS)

        async def one(run: QueuedRun) -> bool:
            async with gate:
                return await self._archive_queued_run(run)

        outcomes = await asyncio.gather(*(one(run) for run in runs))
        finished = [run for run, ok in zip(runs, outcomes, strict=True) if ok]
        waiting = [run for run, ok in zip(runs, outcomes, strict=True) if not ok]
        await archive_queue.done(self._pool, finished)
        await archive_queue.later(self._pool, waiting, LOOK_AGAIN_AFTER)
        return ArchiveBatchResult(taken=len(runs), archived=len(finished), waiting=len(waiting))

    async def _archive_queued_run(self, run: QueuedRun) -> bool:
        """True when the run is archived (or gone from Temporal); False to look again later."""
        try:
            # archive_runs describes each run once and leaves an open one alone: no describe of our own here.
            result = await self.archive_runs(ArchiveTarget(complaint_id=run.complaint_id, run_id=run.run_id))
        except ApplicationError as error:  # an id no case can have: nothing to archive, ever
            activity.logger.error("queued run cannot be archived: %s", error, extra={"complaint_id": run.complaint_id})
            return True
        except (RPCError, asyncpg.PostgresError, OSError) as error:
            # Temporal or PostgreSQL unavailable for a moment: the row stays queued, with a backoff.
            activity.logger.warning("archive failed, will retry: %s", error, extra={"complaint_id": run.complaint_id})
            return False
        activity.heartbeat(run.complaint_id)
        # Still open: its last save committed and the run itself returns moments later.
        return run.run_id not in result.still_running

    async def archive_runs(self, target: ArchiveTarget) -> ArchiveResult:
        """Archive the complete history of every closed run of the case's workflow id."""
        try:
            check_complaint_id(target.complaint_id)
        except ValueError as error:
            raise ApplicationError(str(error), type=INVALID_CASE_ID, non_retryable=True) from None
        already = await self._archive.archived_run_ids(target.complaint_id)
        # Visibility finds every run (continued-as-new and reopened ones too) but may lag behind a
        # run that just closed, so the triggering run is always included, and each history names
        # the run it continued from.
        pending = deque([target.run_id, *await self._visible_runs(target.complaint_id)])
        seen: set[str] = set()
        archived: list[str] = []
        skipped: list[str] = []
        running: list[str] = []
        while pending:
            run_id = pending.popleft()
            if run_id in seen:
                continue
            seen.add(run_id)
            if run_id in already:
                skipped.append(run_id)
                continue
            description = await describe_run(self._client, target.complaint_id, run_id)
            if description is None:  # already past retention: nothing left to copy
                continue
            if description.status is WorkflowExecutionStatus.RUNNING:
                running.append(run_id)
                continue
            history = await self._client.get_workflow_handle(target.complaint_id, run_id=run_id).fetch_history()
            activity.heartbeat(run_id)
            run = _archived_run(target.complaint_id, run_id, description, history)
            if run.continued_from_run_id:
                pending.append(run.continued_from_run_id)
            if await self._archive.save(run):
                archived.append(run_id)
            else:  # another archiver got there first
                skipped.append(run_id)
        activity.logger.info(
            "case history archived",
            extra={
                "complaint_id": target.complaint_id,
                "archived": len(archived),
                "already_archived": len(skipped),
                "still_running": len(running),
            },
        )
        return ArchiveResult(archived=archived, already_archived=skipped, still_running=running)

    async def _visible_runs(self, workflow_id: str) -> list[str]:
        try:
            return [
                execution.run_id
                async for execution in self._client.list_workflows(f"WorkflowId = '{workflow_id}'")
            ]
        except RPCError as error:
            # The time-skipping test server has no visibility store; the run chain still works there.
            if error.status is RPCStatusCode.UNIMPLEMENTED:
                return []
            raise


def _status_name(status: WorkflowExecutionStatus) -> str:
    return status.name.lower()


def _archived_run(complaint_id: str, run_id: str, description: RunInfo, history: WorkflowHistory) -> ArchivedRun:
    started = history.events[0].workflow_execution_started_event_attributes
    # The dict the history's JSON parses to, without printing and parsing that JSON (indented: slow pure Python).
    document = history.to_json_dict()
    return ArchivedRun(
        complaint_id=complaint_id,
        run_id=run_id,
        workflow_type=description.workflow_type,
        status=_status_name(description.status),
        started_at=description.started_at,
        closed_at=description.closed_at or history.events[-1].event_time.ToDatetime(tzinfo=UTC),
        continued_from_run_id=started.continued_execution_run_id or None,
        history_length=len(history.events),
        history_sha256=history_digest(document),
        history=document,
    )
