"""Activity logs bound with the case: complaint id, workflow id, run id, activity and attempt."""

from __future__ import annotations

import structlog
from temporalio import activity


def activity_log() -> structlog.stdlib.BoundLogger:
    """A logger for the running activity. Workflow ids are complaint ids (or derived from them)."""
    info = activity.info()
    return structlog.get_logger("activity").bind(
        complaint_id=info.workflow_id,
        workflow_id=info.workflow_id,
        run_id=info.workflow_run_id,
        activity=info.activity_type,
        attempt=info.attempt,
    )
