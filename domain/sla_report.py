"""The compliance report: met and breached per category, priority or week, and business time to resolve. Pure."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from domain.clock import local_day
from domain.sla_replay import CaseOutcome

Grouping = Literal["category", "priority", "week"]


@dataclass(frozen=True)
class ComplianceRow:
    group: str
    cases: int
    met: int
    breached: int
    # Business time from filing to resolution on the resolve clock's calendar, over the resolved cases.
    mean_to_resolve: timedelta | None
    p90_to_resolve: timedelta | None

    @property
    def met_percent(self) -> float:
        """The share of cases that met the SLA, in percent (0 when there are none)."""
        return 100.0 * self.met / self.cases if self.cases else 0.0

    @property
    def breached_percent(self) -> float:
        """The share of cases that breached the SLA, in percent (0 when there are none)."""
        return 100.0 * self.breached / self.cases if self.cases else 0.0


def group_of(outcome: CaseOutcome, by: Grouping) -> str:
    """The report row a case counts in: its category, its priority, or the week it was filed (local time)."""
    if by == "category":
        return outcome.category.value
    if by == "priority":
        return outcome.priority.value
    year, week, _ = local_day(outcome.filed_at).isocalendar()
    return f"{year}-W{week:02d}"


def percentile(values: list[timedelta], share: float) -> timedelta | None:
    """The nearest-rank percentile: the smallest value with at least `share` of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(math.ceil(share * len(ordered)) - 1, 0)]


def compliance(outcomes: Iterable[CaseOutcome], by: Grouping, now: datetime) -> list[ComplianceRow]:
    """One row per group, in order: counts, shares and time to resolve.

    A case still open and past its deadline counts as breached; one still open within it counts as met so far.
    """
    groups: dict[str, list[CaseOutcome]] = {}
    for outcome in outcomes:
        groups.setdefault(group_of(outcome, by), []).append(outcome)
    rows = []
    for group, members in sorted(groups.items()):
        breached = sum(outcome.breached(now) for outcome in members)
        times = [t for outcome in members if (t := outcome.time_to_resolve) is not None]
        rows.append(
            ComplianceRow(
                group=group,
                cases=len(members),
                met=len(members) - breached,
                breached=breached,
                mean_to_resolve=sum(times, timedelta(0)) / len(times) if times else None,
                p90_to_resolve=percentile(times, 0.9),
            )
        )
    return rows
