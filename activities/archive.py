"""Archiving closed cases' Temporal histories into PostgreSQL, so they outlive Temporal's retention.

Two activities: one waits until the case's run has closed (by failing, retryably, while it still
runs), the other copies the complete history of every closed run of the case's workflow id into
the archive table. Archiving is idempotent per (case, run): a run archived before is skipped
without fetching its history again.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict
from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHistory
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory
from temporalio.service import RPCError, RPCStatusCode

from audit.archive_store import ArchivedRun, PostgresArchiveStore, history_digest
from domain.intake import check_complaint_id

# Error types the archiver workflow's retry policies refer to.
RUN_STILL_RUNNING = "RunStillRunning"
RUN_NOT_FOUND = "RunNotFound"
INVALID_CASE_ID = "InvalidCaseId"


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


@dataclass(frozen=True)
class RunInfo:
    """What the archive needs to know of a run before copying it."""

    status: WorkflowExecutionStatus
    workflow_type: str
    started_at: datetime
    closed_at: datetime | None


class ArchiveActivities:
    def __init__(self, client: Client, pool: asyncpg.Pool) -> None:
        self._client = client
        self._archive = PostgresArchiveStore(pool)

    def all(self) -> list[Any]:
        """The activity methods to register on a worker."""
        return [self.wait_until_closed, self.archive_runs]

    @activity.defn
    async def wait_until_closed(self, target: ArchiveTarget) -> str:
        """The run's final status; fails retryably while the run is still open."""
        description = await self._describe(target.complaint_id, target.run_id)
        if description is None:
            raise ApplicationError(
                f"case {target.complaint_id} has no run {target.run_id} in Temporal",
                type=RUN_NOT_FOUND,
                non_retryable=True,
            )
        if description.status is WorkflowExecutionStatus.RUNNING:
            # Expected once per case (the parent returns just after starting us): not worth a warning.
            raise ApplicationError(
                f"run {target.run_id} of case {target.complaint_id} is still running",
                type=RUN_STILL_RUNNING,
                category=ApplicationErrorCategory.BENIGN,
            )
        return _status_name(description.status)

    @activity.defn
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
            description = await self._describe(target.complaint_id, run_id)
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

    async def _describe(self, workflow_id: str, run_id: str) -> RunInfo | None:
        # The raw call: the SDK's describe() also decodes search attributes, which some servers (the
        # time-skipping test server) return in a form it cannot read, and the archive needs none.
        try:
            response = await self._client.workflow_service.describe_workflow_execution(
                DescribeWorkflowExecutionRequest(
                    namespace=self._client.namespace,
                    execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
                )
            )
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return None
            raise
        info = response.workflow_execution_info
        return RunInfo(
            status=WorkflowExecutionStatus(info.status),
            workflow_type=info.type.name,
            started_at=info.start_time.ToDatetime(tzinfo=UTC),
            closed_at=info.close_time.ToDatetime(tzinfo=UTC) if info.HasField("close_time") else None,
        )


def _status_name(status: WorkflowExecutionStatus) -> str:
    return status.name.lower()


def _archived_run(complaint_id: str, run_id: str, description: RunInfo, history: WorkflowHistory) -> ArchivedRun:
    started = history.events[0].workflow_execution_started_event_attributes
    document = json.loads(history.to_json())
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
