"""What a case's SLA clocks came to, from its events: as recorded, or replayed under another policy. Pure.

The replay keeps every fact of the history (when the case was filed, paused, resumed, stopped, resolved)
and swaps only the rules: the policy recorded at filing is replaced by what the other policy gives a
case of that category and priority, filed that day, and each clock's budget by that policy's figure. It
never writes anything: what-if and the compliance report both read through it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain import events as ev
from domain.business_calendar import BusinessCalendar, business_between
from domain.cases import Category, Priority
from domain.clock import local_day
from domain.policy import CasePolicy, Policy
from domain.sla import ACKNOWLEDGE, RESOLVE
from domain.state import ComplaintState, SlaClock, apply


@dataclass(frozen=True)
class ClockRun:
    """One run of one clock (a reopened case runs its resolve clock again)."""

    clock: str
    due_at: datetime | None
    warn_at: datetime | None
    stopped_at: datetime | None

    def warned(self, now: datetime) -> bool:
        """Whether the clock ran past its warning time by `now` (or by when it stopped)."""
        end = self.stopped_at or now
        return self.warn_at is not None and end > self.warn_at

    def breached(self, now: datetime) -> bool:
        """Whether the clock ran past its deadline by `now` (or by when it stopped)."""
        end = self.stopped_at or now
        return self.due_at is not None and end > self.due_at


@dataclass(frozen=True)
class CaseOutcome:
    """A case's clocks under one policy, and its business time to resolve on its resolve calendar."""

    complaint_id: str
    category: Category
    priority: Priority
    policy_version: str
    filed_at: datetime
    resolved_at: datetime | None
    runs: tuple[ClockRun, ...]
    calendar: BusinessCalendar | None

    def warned(self, now: datetime) -> bool:
        """Whether any run of the resolve clock was warned by `now`."""
        return any(run.warned(now) for run in self.runs if run.clock == RESOLVE)

    def breached(self, now: datetime) -> bool:
        """Whether any run of the resolve clock was breached by `now`."""
        return any(run.breached(now) for run in self.runs if run.clock == RESOLVE)

    @property
    def time_to_resolve(self) -> timedelta | None:
        """Business time from filing to resolution, or None while unresolved."""
        if self.resolved_at is None:
            return None
        return business_between(self.calendar, self.filed_at, self.resolved_at)


def _budget(rules: CasePolicy, clock: str, recorded: int) -> int:
    if clock == ACKNOWLEDGE:
        return int(rules.sla.acknowledge_within.total_seconds())
    if clock == RESOLVE:
        return int(rules.sla.resolve_within.total_seconds())
    return recorded  # a clock the policy has no figure for keeps the one recorded


def _swap_rules(event: ev.Event, policy: Policy | None, rules: CasePolicy | None) -> ev.Event:
    if policy is None:
        return event
    if isinstance(event, ev.ComplaintFiled):
        return event.model_copy(update={"policy": rules})
    if isinstance(event, ev.SlaClockStarted) and rules is not None:
        budget = _budget(rules, event.clock, event.budget_seconds)
        return event.model_copy(update={"budget_seconds": budget, "warn_percent": rules.warn_percent})
    return event


def _run(clock: SlaClock, stopped_at: datetime | None) -> ClockRun:
    # Measured as if running: a run stopped while paused has its deadline where the pause left it.
    running = clock.model_copy(update={"paused_since": None, "stopped": False})
    return ClockRun(clock.clock, running.due_at, running.warn_at, stopped_at)


def fold_sla(events: Sequence[ev.Event]) -> ComplaintState | None:
    """The case's state from its SLA events alone (store/sla_history.py), renumbered as they come."""
    state: ComplaintState | None = None
    for event in events:
        if state is not None and event.seq != state.last_seq + 1:
            event = event.model_copy(update={"seq": state.last_seq + 1})
        state = apply(state, event)
    return state


def replay(events: Sequence[ev.Event], policy: Policy | None = None) -> CaseOutcome | None:
    """The case's clocks under its recorded rules (policy None) or under `policy`.

    None without a filing, or for a complaint rejected at intake: it was never accepted, so no SLA applies to it.
    """
    if not events or not isinstance(events[0], ev.ComplaintFiled):
        return None
    if any(isinstance(event, ev.ComplaintRejected) for event in events):
        return None
    filed = events[0]
    rules = policy.for_case(filed.category, filed.priority, local_day(filed.at)) if policy else None
    state: ComplaintState | None = None
    runs: list[ClockRun] = []
    running: set[str] = set()

    def end(name: str, at: datetime | None) -> None:
        assert state is not None
        if name in running:
            runs.append(_run(state.clocks[name], at))
            running.discard(name)

    for event in events:
        event = _swap_rules(event, policy, rules)
        if state is not None and event.seq != state.last_seq + 1:
            # The history may be only the SLA events of the case (store/sla_history.py): renumbered.
            event = event.model_copy(update={"seq": state.last_seq + 1})
        if isinstance(event, (ev.SlaClockStopped, ev.SlaClockStarted)):
            end(event.clock, event.at)
        elif isinstance(event, ev.ComplaintClosed):
            for name in list(running):
                end(name, event.at)
        state = apply(state, event)
        if isinstance(event, ev.SlaClockStarted):
            running.add(event.clock)
    assert state is not None
    for name in list(running):
        end(name, None)
    resolve_calendar = state.clocks[RESOLVE].calendar if RESOLVE in state.clocks else state.rules.calendar
    return CaseOutcome(
        complaint_id=state.complaint_id,
        category=state.category,
        priority=state.priority,
        policy_version=state.rules.version,
        filed_at=state.filed_at,
        resolved_at=state.resolved_at,
        runs=tuple(runs),
        calendar=resolve_calendar,
    )


@dataclass(frozen=True)
class Flip:
    complaint_id: str
    category: Category
    before: str
    after: str


@dataclass(frozen=True)
class WhatIfRow:
    category: Category
    cases: int
    warned_before: int
    warned_after: int
    breached_before: int
    breached_after: int

    @property
    def compliance_change_points(self) -> float:
        """The change in the share of cases met, in percentage points."""
        if not self.cases:
            return 0.0
        return 100.0 * (self.breached_before - self.breached_after) / self.cases


def _verdict(outcome: CaseOutcome, now: datetime) -> str:
    return "breached" if outcome.breached(now) else "warned" if outcome.warned(now) else "met"


def what_if(
    histories: Iterable[Sequence[ev.Event]], policy: Policy, now: datetime
) -> tuple[list[WhatIfRow], list[Flip]]:
    """Per category, how many cases warned and breached as recorded and under `policy`; the cases that flip."""
    counts: dict[Category, list[int]] = {}
    flips: list[Flip] = []
    for events in histories:
        before, after = replay(events), replay(events, policy)
        if before is None or after is None:
            continue
        row = counts.setdefault(before.category, [0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += before.warned(now)
        row[2] += after.warned(now)
        row[3] += before.breached(now)
        row[4] += after.breached(now)
        was, becomes = _verdict(before, now), _verdict(after, now)
        if was != becomes:
            flips.append(Flip(before.complaint_id, before.category, was, becomes))
    rows = [WhatIfRow(category, *figures) for category, figures in sorted(counts.items())]
    return rows, flips
