"""ArchiveCaseWorkflow: copy a closed case's full Temporal history into PostgreSQL.

Started by ComplaintWorkflow as an abandoned child just before the case's run returns: it waits
for that run to close (so the archive holds the complete history, close event included), then
archives every closed run of the case's workflow id. Returns how many runs this archive stored.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import BaseModel, ConfigDict
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.archive import (
        INVALID_CASE_ID,
        RUN_NOT_FOUND,
        ArchiveActivities,
        ArchiveTarget,
    )


class ArchiveRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    run_id: str


# The parent closes moments after starting us, so this normally succeeds on the first retry; the
# backoff keeps a stuck parent (a worker down for hours) from costing more than a poll every 10 min.
WAIT_FOR_CLOSE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    maximum_attempts=0,
    non_retryable_error_types=[RUN_NOT_FOUND],
)

# Temporal or PostgreSQL may be down for a while; the archive must still happen once they are back.
ARCHIVE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=0,
    non_retryable_error_types=[INVALID_CASE_ID],
)


@workflow.defn
class ArchiveCaseWorkflow:
    @workflow.run
    async def run(self, request: ArchiveRequest) -> int:
        target = ArchiveTarget(complaint_id=request.complaint_id, run_id=request.run_id)
        await workflow.execute_activity_method(
            ArchiveActivities.wait_until_closed,
            target,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=WAIT_FOR_CLOSE_RETRY,
        )
        result = await workflow.execute_activity_method(
            ArchiveActivities.archive_runs,
            target,
            # A long case's history is large, and fetching it pages through Temporal: heartbeats
            # after each run tell a slow archive from a dead one.
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(minutes=2),
            retry_policy=ARCHIVE_RETRY,
        )
        return len(result.archived)
