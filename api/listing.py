"""GET troubleTicket: Temporal visibility through ComplaintClient.list_cases, filtered, paged and counted.

A TMF status may stand for several engine statuses (domain.tmf_status): each is listed and the rows merged.
A closed case's TMF status depends on why it closed, which visibility does not hold: the close reasons of
a page's closed rows come from the `complaints` read model in one query.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import asyncpg

from api.context import ApiContext
from api.errors import ApiError
from api.mapping import priority_of_severity, row_status, ticket_from_row
from api.models import TroubleTicket
from api.security import Caller
from client.api import CaseSummary, NotVisible
from client.queries import CaseFilter
from domain.cases import Category, Status
from domain.tmf_status import TmfStatus, engine_statuses

# Visibility is scanned up to this many matches per list call: the count header says how many matched
# within it. Beyond it, narrow the filter (status, ticketType, the number).
SCAN_LIMIT = 10_000


def _filters(status: TmfStatus | None, category: Category | None, token: str | None) -> list[CaseFilter]:
    if status is None:
        return [CaseFilter(include_closed=True, category=category, msisdn_token=token)]
    engines = sorted({engine for engine, _ in engine_statuses(status)})
    return [CaseFilter(status=engine, category=category, msisdn_token=token) for engine in engines]


async def _close_reasons(pool: asyncpg.Pool, ids: Sequence[str]) -> dict[str, str | None]:
    if not ids:
        return {}
    rows = await pool.fetch(
        "SELECT complaint_id, state->>'close_reason' AS reason FROM complaints WHERE complaint_id = ANY($1::text[])",
        list(ids),
    )
    return {row["complaint_id"]: row["reason"] for row in rows}


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
    complaints = context.complaints.acting_as(caller.token)
    token = None
    if number is not None:
        try:
            token = complaints.msisdn_token(number)
        except ValueError as error:
            raise ApiError(400, f"relatedParty.id: {error}") from None
    priority = priority_of_severity(severity).value if severity else None
    rows: dict[str, CaseSummary] = {}
    try:
        for case_filter in _filters(status, category, token):
            for row in await complaints.list_cases(case_filter, now=context.clock(), limit=SCAN_LIMIT):
                rows.setdefault(row.complaint_id, row)
    except NotVisible:
        return 0, []  # a customer token naming no number sees no case
    # Soonest deadline first across the merged lists, as each list is (those without one last).
    far_future = datetime.max.replace(tzinfo=UTC)
    matching = sorted(
        (row for row in rows.values() if priority is None or row.priority == priority),
        key=lambda row: (row.sla_due_at or far_future, row.complaint_id),
    )
    closed = [row.complaint_id for row in matching if row.status == Status.CLOSED.value]
    reasons = await _close_reasons(context.pool, closed)
    if status is not None:
        matching = [row for row in matching if row_status(row, reasons.get(row.complaint_id)) is status]
    page = matching[offset:offset + limit]
    return len(matching), [ticket_from_row(row, reasons.get(row.complaint_id), base) for row in page]
