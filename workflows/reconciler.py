"""CaseReconcilerWorkflow: one long-lived workflow per task queue that gives stopped cases their end.

Why a workflow: it needs no person and no cron. The worker starts it idempotently (same id, the running
one is kept), Temporal keeps it alive across worker restarts, its timer survives crashes, and it
continues as new so its history stays short. Each round is one activity (see activities.reconcile).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.reconcile import ReconcileActivities, ReconcileRequest

# Rounds per run before continuing as new: keeps each run's history to a few hundred events.
ROUNDS_PER_RUN = 100


class ReconcilerInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    task_queue: str
    interval_seconds: int = Field(default=60, ge=1)
    closed_after: datetime | None = None


def reconciler_id(task_queue: str) -> str:
    """The workflow id of the task queue's one reconciler, so a second start finds the first."""
    return f"case-reconciler-{task_queue}"


@workflow.defn
class CaseReconcilerWorkflow:
    @workflow.run
    async def run(self, start: ReconcilerInput) -> None:
        """Reconcile stopped cases round after round, continuing as new when the history grows long."""
        closed_after = start.closed_after
        for _ in range(ROUNDS_PER_RUN):
            result = await workflow.execute_activity_method(
                ReconcileActivities.reconcile_stopped_cases,
                ReconcileRequest(task_queue=start.task_queue, closed_after=closed_after),
                start_to_close_timeout=timedelta(minutes=5),
                heartbeat_timeout=timedelta(minutes=1),
                retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
            )
            closed_after = result.checked_until
            # Each reconciled run was queued for the archiver with its CaseReconciled event.
            for run in result.reconciled:
                workflow.logger.warning("case reconciled: %s", run.complaint_id)
            await workflow.sleep(timedelta(seconds=start.interval_seconds))
            if workflow.info().is_continue_as_new_suggested():
                break
        workflow.continue_as_new(start.model_copy(update={"closed_after": closed_after}))
