"""The log lines of a case's events of note, and of a failed activity attempt, one decision at a time.

The event-store append activity runs against the real store (PostgreSQL): it logs one INFO line for
each event of note it writes, and nothing when a retry finds the events already stored. The
SDK's "activity failed" record keeps its traceback only when no retry follows.
"""

from __future__ import annotations

import dataclasses
import sys
import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from temporalio import activity
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.event_store import AppendEventsInput, EventStoreActivities
from domain import events as ev
from domain.actors import Role
from domain.masking import mask_msisdn
from runtime.logging import temporal_context
from store.event_store import PostgresEventStore
from stories.forwarding_cancel import FORWARDING_CUSTOMER
from tests.domain.factories import SUPERVISOR, Stream


def _environment(complaint_id: str, attempt: int = 1) -> ActivityEnvironment:
    env = ActivityEnvironment()
    env.info = dataclasses.replace(
        env.info, workflow_id=complaint_id, workflow_run_id="run-1", activity_type="append_events", attempt=attempt
    )
    return env


def _infos(logs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [entry for entry in logs if entry["log_level"] == "info"]


async def test_each_event_of_note_is_logged_once_when_it_is_stored(pool: asyncpg.Pool) -> None:
    complaint_id = f"LOG-{uuid.uuid4().hex[:10]}"
    s = Stream(complaint_id)
    first = [
        s.filed(),
        s.next(ev.ComplaintAcknowledged, assignee="agent-li", message="on it"),
        s.next(ev.EvidenceRecorded, step="identity", summary="name and ID match"),  # not of note
    ]
    second = [
        s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="refund", amount_fen=11640,
               reason="calls never hung up", needs_approval=True),
        s.next(ev.AdjustmentApproved, adjustment_id="adj-1", actor=SUPERVISOR),
        s.next(ev.AdjustmentApplied, adjustment_id="adj-1", kind="refund", amount_fen=11640,
               idempotency_key=f"{complaint_id}/run-1/adj-1", ledger_id="ADJ-000042", effective=True),
        s.next(ev.CaseEscalated, level=2, to_role=Role.REGIONAL_SUPPORT,
               reason="resolve deadline passed " + "while waiting on the partner " * 5),
        s.next(ev.ComplaintClosed, reason="confirmed"),
    ]
    append = EventStoreActivities(PostgresEventStore(pool)).append_events

    with structlog.testing.capture_logs() as logs:
        await _environment(complaint_id).run(append, AppendEventsInput(complaint_id=complaint_id, events=first))
    assert [entry["event"] for entry in _infos(logs)] == ["case filed", "case acknowledged"]
    filed = _infos(logs)[0]
    assert filed["msisdn"] == mask_msisdn(FORWARDING_CUSTOMER.msisdn)
    assert (filed["complaint_id"], filed["workflow_id"], filed["run_id"]) == (complaint_id, complaint_id, "run-1")

    # A retry after a lost reply, with what was stored already and what was not.
    with structlog.testing.capture_logs() as logs:
        await _environment(complaint_id, attempt=2).run(
            append, AppendEventsInput(complaint_id=complaint_id, events=first + second)
        )
    infos = _infos(logs)
    assert [entry["event"] for entry in infos] == [
        "adjustment approved", "adjustment applied", "case escalated", "case closed"
    ]
    approved, applied, escalated, closed = infos
    assert approved["by"] == SUPERVISOR.id and approved["adjustment_id"] == "adj-1"
    assert (applied["amount_fen"], applied["ledger_id"], applied["kind"]) == (11640, "ADJ-000042", "refund")
    assert (escalated["level"], escalated["to_role"]) == (2, "regional_support")
    assert len(escalated["reason"]) <= 80 and escalated["reason"].endswith("…")
    assert closed["reason"] == "confirmed"
    assert all(entry["complaint_id"] == complaint_id and entry["run_id"] == "run-1" for entry in infos)

    # The same call once more: everything is stored, nothing is logged.
    with structlog.testing.capture_logs() as logs:
        await _environment(complaint_id, attempt=3).run(
            append, AppendEventsInput(complaint_id=complaint_id, events=first + second)
        )
    assert _infos(logs) == []


# --- the SDK's record of a failed attempt ------------------------------------------------------------


def _failed_attempt(error: Exception, *, attempt: int, policy: RetryPolicy | None) -> dict[str, Any]:
    """The event dict of the SDK's "Completing activity as failed" warning, as our formatter gets it."""
    info = dataclasses.replace(
        ActivityEnvironment.default_info(), attempt=attempt, retry_policy=policy,
        activity_type="cancel_forwarding", workflow_id="CMP-1", workflow_run_id="run-1",
        workflow_type="ComplaintWorkflow",
    )
    try:
        raise error
    except Exception:
        exc_info = sys.exc_info()
    context = {"activity_id": "4", "activity_type": info.activity_type, "attempt": attempt,
               "namespace": "default", "task_queue": "complaints", "workflow_id": info.workflow_id,
               "workflow_run_id": info.workflow_run_id, "workflow_type": info.workflow_type}
    return temporal_context(None, "warning", {
        "event": "Completing activity as failed", "exc_info": exc_info, "level": "warning",
        "__temporal_error_identifier": "ActivityFailure", "temporal_activity": context, "activity_info": info,
    })


POLICY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=3,
                     non_retryable_error_types=["IdentityMismatch"])


def test_an_attempt_that_will_be_retried_is_one_line_without_traceback() -> None:
    logged = _failed_attempt(ConnectionError("partner answered HTTP 503\n  twice"), attempt=2, policy=POLICY)
    assert logged["event"] == "attempt failed, will retry"
    assert logged["reason"] == "ConnectionError: partner answered HTTP 503 twice"
    assert "exc_info" not in logged
    assert (logged["complaint_id"], logged["workflow_id"], logged["run_id"]) == ("CMP-1", "CMP-1", "run-1")
    assert (logged["activity"], logged["attempt"]) == ("cancel_forwarding", 2)
    assert not {"temporal_activity", "activity_info", "__temporal_error_identifier"} & logged.keys()
    # The server's default policy (none given) retries without end.
    assert "exc_info" not in _failed_attempt(ConnectionError("down"), attempt=40, policy=None)


def test_the_last_attempt_keeps_its_traceback() -> None:
    last = [
        _failed_attempt(ConnectionError("down"), attempt=3, policy=POLICY),
        _failed_attempt(ApplicationError("no such number", type="UnknownNumber", non_retryable=True),
                        attempt=1, policy=POLICY),
        _failed_attempt(ApplicationError("name and ID differ", type="IdentityMismatch"), attempt=1, policy=POLICY),
    ]
    for logged in last:
        assert logged["event"] == "activity failed, no retry left"
        assert logged["exc_info"][0] is not None
    assert last[1]["reason"] == "UnknownNumber: no such number"


def test_records_outside_an_activity_pass_unchanged() -> None:
    record = {"event": "worker running", "task_queue": "complaints"}
    assert temporal_context(None, "info", dict(record)) == record
    assert not activity.in_activity()
