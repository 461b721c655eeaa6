"""Activity logs bound with the case: complaint id, workflow id, run id (and activity and attempt).

`log_events_of_note` writes the one INFO line per business event a person reading the log looks
for: a case filed, acknowledged, an adjustment approved, refused or applied (amount and ledger id),
a case escalated, closed or reopened. The phone number is masked here already; the log
configuration masks every other value again.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog
from temporalio import activity

from domain import events as ev
from domain.masking import mask_msisdn

MAX_TEXT = 80  # characters of free text (a reason) on an event line


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


def case_log(complaint_id: str) -> structlog.stdlib.BoundLogger:
    """A logger for a case's business events, from inside an activity of one of its workflows.

    No activity name or attempt: the line is about the case, not about the step that saved it.
    """
    info = activity.info()
    return structlog.get_logger("case").bind(
        complaint_id=complaint_id, workflow_id=info.workflow_id, run_id=info.workflow_run_id
    )


def log_events_of_note(log: structlog.stdlib.BoundLogger, events: Iterable[ev.Event]) -> None:
    """One INFO line for each event of note among `events`; other events are not logged."""
    for event in events:
        _log_event(log, event)


def _log_event(log: structlog.stdlib.BoundLogger, event: ev.Event) -> None:
    by = event.actor.id
    match event:
        case ev.ComplaintFiled():
            log.info(
                "case filed",
                category=event.category.value,
                priority=event.priority.value,
                msisdn=mask_msisdn(event.msisdn),
                by=by,
            )
        case ev.ComplaintAcknowledged():
            log.info("case acknowledged", assignee=event.assignee)
        case ev.AdjustmentApproved():
            log.info("adjustment approved", adjustment_id=event.adjustment_id, by=by)
        case ev.AdjustmentRefused():
            log.info("adjustment refused", adjustment_id=event.adjustment_id, by=by, reason=_short(event.reason))
        case ev.AdjustmentApplied():
            log.info(
                "adjustment applied",
                adjustment_id=event.adjustment_id,
                kind=event.kind,
                amount_fen=event.amount_fen,
                ledger_id=event.ledger_id,
                effective=event.effective,
            )
        case ev.CaseEscalated():
            log.info("case escalated", level=event.level, to_role=event.to_role.value, reason=_short(event.reason))
        case ev.ComplaintClosed():
            log.info("case closed", reason=event.reason)
        case ev.ComplaintRejected():
            log.info("case rejected at intake", rule=event.rule, oldest_accepted=event.oldest_accepted.isoformat())
        case ev.ComplaintReopened():
            log.info("case reopened", by=by, reason=_short(event.reason))
        case _:
            pass


def _short(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= MAX_TEXT else one_line[: MAX_TEXT - 1] + "…"
