"""The queue's tabs and filters as visibility queries (client.queries), with a count per tab."""

from __future__ import annotations

import asyncio
import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta

from client.api import CaseSummary, ComplaintClient
from client.queries import CaseFilter, visibility_query
from domain.cases import Category, Status


@dataclass(frozen=True)
class Tab:
    key: str
    title: str
    case_filter: CaseFilter


def tabs(at_risk_window: timedelta) -> list[Tab]:
    """The supervisor's views: every open case, then the ones that need someone now."""
    return [
        Tab("open", "All open", CaseFilter()),
        Tab("at-risk", f"At risk (due within {_hours(at_risk_window)})",
            CaseFilter(at_risk=True, at_risk_window=at_risk_window)),
        Tab("stalled", "Stalled (past deadline)", CaseFilter(stalled=True)),
        Tab("escalated", "Escalated", CaseFilter(escalated=True)),
        Tab("needs-attention", "Needs attention", CaseFilter(status=Status.NEEDS_ATTENTION)),
        Tab("awaiting-approval", "Awaiting approval", CaseFilter(status=Status.AWAITING_APPROVAL)),
        Tab("all", "All, closed too", CaseFilter(include_closed=True)),  # `starter list --all`
    ]


def _hours(window: timedelta) -> str:
    hours = window.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} d"


@dataclass(frozen=True)
class Filters:
    """The narrowing a supervisor typed in.

    Category, status, assignee and a phone number (never sent on: it becomes its keyed search token).
    """

    category: str = ""
    status: str = ""
    assignee: str = ""
    phone: str = ""

    def apply(self, base: CaseFilter, client: ComplaintClient) -> CaseFilter:
        """`base` narrowed; ValueError (said to the supervisor) for a category, status or number that is not one."""
        changes: dict[str, object] = {}
        if self.category:
            changes["category"] = Category(self.category)
        if self.status and base.status is None:
            changes["status"] = Status(self.status)
        if self.assignee:
            changes["assignee"] = self.assignee
        if self.phone:
            changes["msisdn_token"] = client.msisdn_token(self.phone)
        return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


async def tab_counts(client: ComplaintClient, all_tabs: list[Tab], filters: Filters, now: datetime) -> dict[str, int]:
    """How many cases each tab holds under the same filters (one count query each, side by side)."""

    async def count(tab: Tab) -> int:
        query = visibility_query(filters.apply(tab.case_filter, client), now)
        return (await client.temporal.count_workflows(query)).count

    counts = await asyncio.gather(*(count(tab) for tab in all_tabs))
    return {tab.key: n for tab, n in zip(all_tabs, counts, strict=True)}


async def tab_rows(client: ComplaintClient, tab: Tab, filters: Filters, now: datetime) -> list[CaseSummary]:
    """The tab's cases, the soonest deadline first (ComplaintClient.list_cases orders them)."""
    return await client.list_cases(filters.apply(tab.case_filter, client), now=now, limit=200)
