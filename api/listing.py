"""GET troubleTicket: a page of the `complaints` read model (PostgreSQL), filtered, counted and paged in SQL.

The read model holds every case's status, category, priority, deadline and close reason, and the keyed
reference of the customer's number (`customer_ref`): a list is one indexed query for the page (LIMIT/OFFSET,
soonest deadline first) and one COUNT for X-Total-Count, whatever the number of cases. Temporal visibility
is not read: scanning it and sorting in Python cost ~0.7 ms a case. A case shows in the list once its first
events are stored (a moment after filing); GET one ticket reads a just-filed case from its workflow.

A TMF status may stand for several engine statuses, and a closed case's TMF status depends on why it closed
(domain.tmf_status): the filter is that table read backwards, as SQL.
"""

from __future__ import annotations

import asyncpg

from api.context import ApiContext
from api.errors import ApiError
from api.mapping import priority_of_severity, ticket_from_row
from api.models import TroubleTicket
from api.security import Caller
from client.api import CaseSummary
from domain.cases import Category, Status
from domain.msisdn import parse_msisdn
from domain.tmf_status import TmfStatus, engine_statuses

# One fixed statement, every filter a parameter (NULL: no filter), so no SQL is ever built from values.
# Soonest deadline first, those without one last (ASC puts NULLs last), then by id: a stable order for
# paging, served by the (sla_due_at, complaint_id) indexes of migration 0011. A closed case's close kind
# is read back from its close reason as domain.tmf_status.close_kind reads it: a run stopped from outside
# closes as `workflow_<how>`, and a case closed without a recorded reason counts as confirmed.
_MATCHING = """
      FROM complaints
     WHERE ($1::text IS NULL OR customer_ref = $1)
       AND ($2::text IS NULL OR category = $2)
       AND ($3::text IS NULL OR priority = $3)
       AND ($4::text[] IS NULL
            OR status = ANY($4::text[])
            OR (status = 'closed' AND (CASE WHEN state->>'close_reason' LIKE 'workflow\\_%' THEN 'stopped'
                                            WHEN state->>'close_reason' IS NULL THEN 'confirmed'
                                            ELSE state->>'close_reason' END) = ANY($5::text[])))"""
_COUNT = "SELECT count(*)" + _MATCHING
_PAGE = (
    "SELECT complaint_id, category, priority, status, assignee, escalation_level, sla_due_at,"
    " state->>'close_reason' AS close_reason" + _MATCHING
    + " ORDER BY sla_due_at ASC NULLS LAST, complaint_id LIMIT $6 OFFSET $7"
)


def status_filter(status: TmfStatus | None) -> tuple[list[str] | None, list[str]]:
    """The engine statuses of open cases, and the close kinds of closed ones, that TMF `status` stands for."""
    if status is None:
        return None, []
    pairs = engine_statuses(status)
    open_statuses = sorted(engine.value for engine, _ in pairs if engine is not Status.CLOSED)
    close_kinds = sorted(kind.value for engine, kind in pairs if engine is Status.CLOSED and kind is not None)
    return open_statuses, close_kinds


def _customer_number(caller: Caller, number: str | None) -> str | None:
    """Whose cases the list holds: a customer's own number whatever they ask, else the number asked (if any)."""
    if caller.is_customer:
        return caller.actor.msisdn or ""  # a customer token naming no number lists no case
    if number is None:
        return None
    try:
        return parse_msisdn(number)
    except ValueError as error:
        raise ApiError(400, f"relatedParty.id: {error}") from None


def _summary(row: asyncpg.Record) -> CaseSummary:
    return CaseSummary(
        complaint_id=row["complaint_id"], category=row["category"], priority=row["priority"], status=row["status"],
        assignee=row["assignee"], escalation_level=row["escalation_level"], sla_due_at=row["sla_due_at"],
    )


async def list_tickets(
    context: ApiContext,
    caller: Caller,
    base: str,
    *,
    offset: int,
    limit: int,
    status: TmfStatus | None,
    category: Category | None,
    severity: str | None,
    number: str | None,
) -> tuple[int, list[TroubleTicket]]:
    """(how many match, the page of tickets from `offset`)."""
    msisdn = _customer_number(caller, number)
    if msisdn == "":
        return 0, []
    # The keyed reference of the number, never the number: an erased customer's cases have none.
    customer_ref = context.store.vault.customer_ref(msisdn) if msisdn is not None else None
    open_statuses, close_kinds = status_filter(status)
    args = (customer_ref, category.value if category else None,
            priority_of_severity(severity).value if severity is not None else None, open_statuses, close_kinds)
    async with context.pool.acquire() as conn:
        total = await conn.fetchval(_COUNT, *args)
        rows = await conn.fetch(_PAGE, *args, limit, offset) if total > offset else []
    return int(total), [ticket_from_row(_summary(row), row["close_reason"], base) for row in rows]
