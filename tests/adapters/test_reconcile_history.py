"""What a stopped run's history says: who stopped it and why, for each way a workflow can stop."""

from __future__ import annotations

from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import (
    HistoryEvent,
    WorkflowExecutionCanceledEventAttributes,
    WorkflowExecutionCancelRequestedEventAttributes,
    WorkflowExecutionFailedEventAttributes,
    WorkflowExecutionTerminatedEventAttributes,
    WorkflowExecutionTimedOutEventAttributes,
    WorkflowTaskCompletedEventAttributes,
)

from activities.reconcile import stopped_runs_query, what_happened

WHEN = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


def at(moment: datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(moment)
    return stamp


def started() -> HistoryEvent:
    return HistoryEvent(event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED, event_time=at(WHEN))


def test_terminated_gives_the_request_identity_and_reason() -> None:
    last = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED, event_time=at(WHEN),
        workflow_execution_terminated_event_attributes=WorkflowExecutionTerminatedEventAttributes(
            reason="duplicate", identity="ops-zhang@temporal-ui"),
    )
    assert what_happened([started(), last]) == ("ops-zhang@temporal-ui", "duplicate", WHEN)


def test_cancelled_gives_who_asked_for_it() -> None:
    requested = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED,
        workflow_execution_cancel_requested_event_attributes=WorkflowExecutionCancelRequestedEventAttributes(
            cause="customer called back", identity="cli@host"),
    )
    last = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED, event_time=at(WHEN),
        workflow_execution_canceled_event_attributes=WorkflowExecutionCanceledEventAttributes(),
    )
    assert what_happened([started(), requested, last]) == ("cli@host", "customer called back", WHEN)


def test_failed_gives_the_failure_and_the_worker_that_reported_it() -> None:
    completed = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
        workflow_task_completed_event_attributes=WorkflowTaskCompletedEventAttributes(identity="worker-2@node7"),
    )
    last = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, event_time=at(WHEN),
        workflow_execution_failed_event_attributes=WorkflowExecutionFailedEventAttributes(
            failure=Failure(message="boom")),
    )
    assert what_happened([started(), completed, last]) == ("worker-2@node7", "boom", WHEN)


def test_timed_out_says_so() -> None:
    last = HistoryEvent(
        event_type=EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT, event_time=at(WHEN),
        workflow_execution_timed_out_event_attributes=WorkflowExecutionTimedOutEventAttributes(),
    )
    assert what_happened([started(), last]) == ("", "the workflow's execution timeout passed", WHEN)


def test_the_query_looks_back_past_the_last_close_it_saw() -> None:
    query = stopped_runs_query("complaints", datetime(2026, 12, 2, 6, 10, tzinfo=UTC))
    assert query == (
        "WorkflowType = 'ComplaintWorkflow' AND TaskQueue = 'complaints' AND ExecutionStatus IN "
        "('Terminated', 'Canceled', 'Failed', 'TimedOut') AND CloseTime > '2026-12-02T06:00:00Z'"
    )
    assert "CloseTime" not in stopped_runs_query("complaints", None)
