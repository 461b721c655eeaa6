"""Supervisor questions as Temporal visibility queries over the custom search attributes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.cases import Category, Status
from workflows import search_attributes as sa

DEFAULT_AT_RISK_WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class CaseFilter:
    """Which cases to list. Every field narrows the list; none lists every open case."""

    stalled: bool = False  # open and past its SLA deadline
    at_risk: bool = False  # open and due within `at_risk_window`
    escalated: bool = False
    category: Category | None = None
    status: Status | None = None
    assignee: str | None = None
    include_closed: bool = False
    # The keyed token of the customer's number (ComplaintClient.msisdn_token), never the number itself.
    msisdn_token: str | None = None
    at_risk_window: timedelta = DEFAULT_AT_RISK_WINDOW


def _quote(value: str) -> str:
    # Visibility queries are a small SQL dialect: values are quoted, and a quote inside is escaped.
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _timestamp(moment: datetime) -> str:
    return _quote(moment.isoformat().replace("+00:00", "Z"))


RUNNING = "ExecutionStatus = 'Running'"
# Runs that ended without closing their case: their search attributes still say what they were doing.
STOPPED = "ExecutionStatus IN ('Terminated', 'Canceled', 'Failed', 'TimedOut')"


def visibility_query(case_filter: CaseFilter, now: datetime) -> str:
    """The List Filter for `case_filter`, evaluated at `now` (UTC).

    Only running workflows count as open, stalled or at risk: a workflow terminated or failed from outside
    keeps its last search attributes (e.g. `acknowledged`, a deadline long past) but nothing works on it.
    Such runs are listed with the closed cases.
    """
    clauses = ["WorkflowType = 'ComplaintWorkflow'"]
    if case_filter.status is Status.CLOSED:
        clauses.append(f"({sa.STATUS.name} = {_quote(Status.CLOSED.value)} OR {STOPPED})")
    elif case_filter.status is not None:
        clauses.append(f"{sa.STATUS.name} = {_quote(case_filter.status.value)}")
        clauses.append(RUNNING)
    elif not case_filter.include_closed:
        clauses.append(f"{sa.STATUS.name} != {_quote(Status.CLOSED.value)}")
        clauses.append(RUNNING)
    if (case_filter.stalled or case_filter.at_risk) and RUNNING not in clauses:
        clauses.append(RUNNING)
    if case_filter.category is not None:
        clauses.append(f"{sa.CATEGORY.name} = {_quote(case_filter.category.value)}")
    if case_filter.assignee is not None:
        clauses.append(f"{sa.ASSIGNEE.name} = {_quote(case_filter.assignee)}")
    if case_filter.msisdn_token is not None:
        clauses.append(f"{sa.MSISDN_TOKEN.name} = {_quote(case_filter.msisdn_token)}")
    if case_filter.escalated:
        clauses.append(f"{sa.ESCALATION_LEVEL.name} > 0")
    if case_filter.stalled:
        clauses.append(f"{sa.SLA_DUE_AT.name} < {_timestamp(now)}")
    if case_filter.at_risk:
        clauses.append(
            f"{sa.SLA_DUE_AT.name} >= {_timestamp(now)} AND "
            f"{sa.SLA_DUE_AT.name} <= {_timestamp(now + case_filter.at_risk_window)}"
        )
    return " AND ".join(clauses)
