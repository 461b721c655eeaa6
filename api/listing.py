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

from dataclasses import dataclass, field

import asyncpg

from api.context import ApiContext
from api.errors import ApiError
from api.mapping import priority_of_severity, ticket_from_row
from api.models import TroubleTicket
from api.security import Caller
from client.api import CaseSummary
from domain.cases import Category, Status
from domain.msisdn import parse_msisdn
from domain.tmf_status import CloseKind, TmfStatus, engine_statuses

# Soonest deadline first, those without one last (ASC puts NULLs last), then by id: a stable order for
# paging, served by the (sla_due_at, complaint_id) indexes of migration 0011.
ORDER = "ORDER BY sla_due_at ASC NULLS LAST, complaint_id"
ROW_COLUMNS = ("complaint_id, category, priority, status, assignee, escalation_level, sla_due_at, "
               "state->>'close_reason' AS close_reason")
CLOSE_REASON = "state->>'close_reason'"


@dataclass
class _Where:
    """SQL conditions and their positional arguments, built together so the numbering cannot slip."""

    clauses: list[str] = field(default_factory=list)
    args: list[object] = field(default_factory=list)

    def arg(self, value: object) -> str:
        self.args.append(value)
        return f"${len(self.args)}"

    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""


def _close_kind_sql(kind: CloseKind | None) -> str:
    """The SQL test that a closed case's close reason is of `kind` (the inverse of tmf_status.close_kind)."""
    if kind is CloseKind.STOPPED:
        return f"{CLOSE_REASON} LIKE 'workflow\\_%'"
    if kind is CloseKind.CONFIRMED:  # a closed case whose reason is not recorded shows as plainly closed
        return f"({CLOSE_REASON} IS NULL OR {CLOSE_REASON} = '{CloseKind.CONFIRMED.value}')"
    assert kind is not None
    return f"{CLOSE_REASON} = '{kind.value}'"


def status_clause(status: TmfStatus, where: _Where) -> str:
    """The condition for TMF `status`: its open engine statuses, or closed for one of its close kinds."""
    pairs = engine_statuses(status)
    options: list[str] = []
    open_statuses = sorted(engine.value for engine, kind in pairs if engine is not Status.CLOSED)
    if open_statuses:
        options.append(f"status = ANY({where.arg(open_statuses)}::text[])")
    kinds = [_close_kind_sql(kind) for engine, kind in pairs if engine is Status.CLOSED]
    if kinds:
        options.append(f"(status = '{Status.CLOSED.value}' AND ({' OR '.join(kinds)}))")
    return "(" + " OR ".join(options) + ")" if options else "false"


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
    where = _Where()
    msisdn = _customer_number(caller, number)
    if msisdn == "":
        return 0, []
    if msisdn is not None:
        # The keyed reference of the number, never the number: an erased customer's cases have none.
        where.clauses.append(f"customer_ref = {where.arg(context.store.vault.customer_ref(msisdn))}")
    if status is not None:
        where.clauses.append(status_clause(status, where))
    if category is not None:
        where.clauses.append(f"category = {where.arg(category.value)}")
    if severity is not None:
        where.clauses.append(f"priority = {where.arg(priority_of_severity(severity).value)}")
    conditions = where.sql()
    async with context.pool.acquire() as conn:
        total = await conn.fetchval(f"SELECT count(*) FROM complaints{conditions}", *where.args)
        rows = await conn.fetch(
            f"SELECT {ROW_COLUMNS} FROM complaints{conditions} {ORDER} "
            f"LIMIT {where.arg(limit)} OFFSET {where.arg(offset)}",
            *where.args,
        ) if total > offset else []
    return int(total), [ticket_from_row(_summary(row), row["close_reason"], base) for row in rows]
