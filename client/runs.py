"""A workflow run's status and times, straight from the server's DescribeWorkflowExecution."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode


@dataclass(frozen=True)
class RunInfo:
    """What the server says of a run: enough to tell whether it ended, and how, and to archive it."""

    status: WorkflowExecutionStatus
    workflow_type: str
    started_at: datetime
    closed_at: datetime | None


async def describe_run(client: Client, workflow_id: str, run_id: str = "") -> RunInfo | None:
    """The run `run_id` of the workflow (its latest run when empty), or None when the server has no such run.

    The raw call: the SDK's describe() also decodes search attributes, which some servers (the time-skipping
    test server) return in a form it cannot read, and nobody here needs them.
    """
    try:
        response = await client.workflow_service.describe_workflow_execution(
            DescribeWorkflowExecutionRequest(
                namespace=client.namespace, execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id)
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
