"""CaseArchiverWorkflow: one long-lived workflow per task queue that archives closed cases' histories.

Replaces a child workflow per case: the events that end a case queue its run in the same PostgreSQL
transaction (store/archive_queue.py), and this workflow takes the queue in batches, one activity per
round (activities.archive.archive_queued). Started idempotently by the worker, like the reconciler;
its timer survives crashes and it continues as new so its history stays short.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import ArchiveActivities, ArchiveBatchRequest

# Rounds per run before continuing as new: keeps each run's history to a few hundred events.
ROUNDS_PER_RUN = 200


class ArchiverInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_queue: str
    # How long an empty round waits before looking at the queue again.
    interval_seconds: int = Field(default=2, ge=1)
    batch: int = Field(default=100, ge=1, le=1000)


def archiver_id(task_queue: str) -> str:
    """The workflow id of the task queue's one archiver, so a second start finds the first."""
    return f"case-archiver-{task_queue}"


@workflow.defn
class CaseArchiverWorkflow:
    @workflow.run
    async def run(self, start: ArchiverInput) -> None:
        """Archive queued runs round after round, continuing as new when the history grows long."""
        for _ in range(ROUNDS_PER_RUN):
            result = await workflow.execute_activity_method(
                ArchiveActivities.archive_queued,
                ArchiveBatchRequest(task_queue=start.task_queue, limit=start.batch),
                # A long case's history is large and fetched page by page: heartbeats after each
                # run tell a slow batch from a dead one.
                start_to_close_timeout=timedelta(minutes=10),
                heartbeat_timeout=timedelta(minutes=2),
                # Temporal or PostgreSQL may be down for a while; the archive must still happen later.
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            if result.archived < start.batch:  # a full batch means more are waiting: go on at once
                await workflow.sleep(timedelta(seconds=start.interval_seconds))
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(start)
