"""The engine's case status as a TMF621 v5 trouble ticket status: one table, read both ways.

TMF621 v5 knows `acknowledged, rejected, pending, held, inProgress, cancelled, closed, resolved`. `pending`
waits on the customer, `held` on the organisation (an approval, a person taking over). A closed case is
`cancelled` when the customer withdrew it and `rejected` when the engine refused it; otherwise `closed`.
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


STATUS_TO_TMF: dict[Status, TmfStatus] = {
    Status.FILED: TmfStatus.ACKNOWLEDGED,
    Status.ACKNOWLEDGED: TmfStatus.ACKNOWLEDGED,
    Status.INVESTIGATING: TmfStatus.IN_PROGRESS,
    Status.AWAITING_CUSTOMER: TmfStatus.PENDING,
    Status.AWAITING_APPROVAL: TmfStatus.HELD,
    Status.NEEDS_ATTENTION: TmfStatus.HELD,
    Status.RESOLVED: TmfStatus.RESOLVED,
    Status.CLOSED: TmfStatus.CLOSED,
}

# How a closed case ended decides which of the three closing TMF statuses it shows.
CLOSE_REASON_TO_TMF: dict[str, TmfStatus] = {
    "withdrawn": TmfStatus.CANCELLED,
    "rejected": TmfStatus.REJECTED,
}


def tmf_status(status: Status, close_reason: str | None = None) -> TmfStatus:
    """The TMF status a case in `status` (closed for `close_reason`) shows."""
    if status is Status.CLOSED and close_reason in CLOSE_REASON_TO_TMF:
        return CLOSE_REASON_TO_TMF[close_reason]
    return STATUS_TO_TMF[status]


def engine_statuses(tmf: TmfStatus) -> frozenset[Status]:
    """The engine statuses a TMF status stands for (a list filter on `status=held`, say)."""
    found = {status for status, shown in STATUS_TO_TMF.items() if shown is tmf}
    if tmf in CLOSE_REASON_TO_TMF.values():
        found.add(Status.CLOSED)
    return frozenset(found)
