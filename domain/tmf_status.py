"""The one table between the engine's case status and TMF621's trouble ticket status, read both ways.

TMF621 v5 `TroubleTicketStatusType`: acknowledged, rejected, pending, held, inProgress, cancelled, closed,
resolved. The engine's statuses say more (what the case waits for); a closed case's TMF status depends on
why it closed. Each row is (engine status, close kind, TMF status); `close kind` is None for open cases.
Reading the table one way names a case's TMF status; the other way lists the engine statuses a TMF status
filter stands for.
"""

from __future__ import annotations

from enum import StrEnum

from domain.cases import Status


class TmfStatus(StrEnum):
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"
    PENDING = "pending"
    HELD = "held"
    IN_PROGRESS = "inProgress"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    RESOLVED = "resolved"


class CloseKind(StrEnum):
    """Why a closed case closed, as far as the TMF status cares."""

    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    NOT_SATISFIED = "not_satisfied"
    WITHDRAWN = "withdrawn"
    REJECTED = "rejected"
    # Its workflow was stopped from outside (terminated, failed, ...) and the case reconciled as ended.
    STOPPED = "stopped"


STATUS_TABLE: tuple[tuple[Status, CloseKind | None, TmfStatus], ...] = (
    (Status.FILED, None, TmfStatus.ACKNOWLEDGED),
    (Status.ACKNOWLEDGED, None, TmfStatus.ACKNOWLEDGED),
    (Status.INVESTIGATING, None, TmfStatus.IN_PROGRESS),
    (Status.AWAITING_CUSTOMER, None, TmfStatus.PENDING),  # information required from the customer
    (Status.AWAITING_APPROVAL, None, TmfStatus.HELD),  # held for a supervisor's decision
    (Status.NEEDS_ATTENTION, None, TmfStatus.HELD),  # held until a person takes it
    (Status.RESOLVED, None, TmfStatus.RESOLVED),  # the customer is asked to confirm
    (Status.CLOSED, CloseKind.CONFIRMED, TmfStatus.CLOSED),
    (Status.CLOSED, CloseKind.UNCONFIRMED, TmfStatus.CLOSED),
    (Status.CLOSED, CloseKind.NOT_SATISFIED, TmfStatus.CLOSED),
    (Status.CLOSED, CloseKind.WITHDRAWN, TmfStatus.CANCELLED),
    (Status.CLOSED, CloseKind.STOPPED, TmfStatus.CANCELLED),
    (Status.CLOSED, CloseKind.REJECTED, TmfStatus.REJECTED),
)


class UnmappedStatus(ValueError):
    """An engine status (and close kind) the table has no row for: the table must grow with the engine."""


def close_kind(close_reason: str | None) -> CloseKind | None:
    """The close kind of a case's recorded close reason (`workflow_terminated` and the like are STOPPED)."""
    if close_reason is None:
        return None
    if close_reason.startswith("workflow_"):
        return CloseKind.STOPPED
    try:
        return CloseKind(close_reason)
    except ValueError:
        raise UnmappedStatus(f"close reason {close_reason!r} has no row in domain.tmf_status") from None


def tmf_status(status: Status, close_reason: str | None = None) -> TmfStatus:
    """The TMF status of a case in engine `status`, closed (if it is) for `close_reason`."""
    kind = close_kind(close_reason) if status is Status.CLOSED else None
    if status is Status.CLOSED and kind is None:
        kind = CloseKind.CONFIRMED  # a closed case whose reason is not known: plainly closed
    for engine, closing, tmf in STATUS_TABLE:
        if engine is status and closing is kind:
            return tmf
    raise UnmappedStatus(f"engine status {status.value!r} ({kind}) has no row in domain.tmf_status")


def engine_statuses(status: TmfStatus) -> tuple[tuple[Status, CloseKind | None], ...]:
    """The engine statuses (with close kinds) that show as TMF `status`: what a TMF status filter means."""
    return tuple((engine, closing) for engine, closing, tmf in STATUS_TABLE if tmf is status)
