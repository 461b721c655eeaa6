"""SLA deadlines: when a running clock is next looked at, and what is due then (a warning, or a breach).

A clock is warned once, at its share of the budget; once due, it breaches and the case climbs one rung, and
climbs again each `re_escalate_after` of business time it stays stalled, until the ladder's top
(domain.commands.escalation). All of it in business time on the clock's calendar (domain.state.SlaClock).

The regulatory clocks (domain.regulatory_clocks) are not the case's own: the MIIT answer deadline warns,
then on breach sends the case to regional support whatever rung it is on; a partner window's breach is the
partner desk's to chase and moves no rung.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from domain import events as ev
from domain.actors import Role
from domain.commands.base import Decision, require_open
from domain.commands.escalation import can_escalate
from domain.errors import InvalidCommand
from domain.regulatory_clocks import RegulatoryMark
from domain.sla import SlaPolicy
from domain.state import ComplaintState, SlaClock

Mark = Literal["warn", "breach"]


def _warn_pending(clock: SlaClock) -> bool:
    return not clock.warned and clock.breaches == 0 and clock.warn_at is not None


def _breach_at(clock: SlaClock, policy: SlaPolicy) -> datetime | None:
    """When the clock next breaches: at its deadline, then every `re_escalate_after` of business time after it."""
    return clock.escalate_at(policy.re_escalate_after)


def next_mark(state: ComplaintState, policy: SlaPolicy) -> datetime | None:
    """The soonest moment a running clock needs looking at, or None while no clock runs (or can climb)."""
    marks: list[datetime] = []
    for clock in state.clocks.values():
        if clock.due_at is None:
            continue
        if _warn_pending(clock):
            assert clock.warn_at is not None
            marks.append(clock.warn_at)
        elif can_escalate(state) and (breach_at := _breach_at(clock, policy)) is not None:
            marks.append(breach_at)
    return min(marks) if marks else None


def mark_reached(state: ComplaintState, policy: SlaPolicy, clock: str, now: datetime) -> Mark | None:
    """What is due on `clock` at `now`: its warning, a breach, or nothing."""
    running = state.clocks.get(clock)
    if running is None or running.due_at is None or running.warn_at is None:
        return None
    if _warn_pending(running):
        return "warn" if now >= running.warn_at else None
    breach_at = _breach_at(running, policy)
    return "breach" if can_escalate(state) and breach_at is not None and now >= breach_at else None


def warn(state: ComplaintState, now: datetime, clock: str) -> list[ev.Event]:
    """The clock's deadline is close: warn once.

    Raises:
        InvalidCommand: the case is closed, or the clock is not running or was warned already.
    """
    require_open(state)
    running = state.clocks.get(clock)
    due = running.due_at if running else None
    if running is None or due is None or not _warn_pending(running):
        raise InvalidCommand(f"case {state.complaint_id}: the {clock} clock has no warning due")
    decision = Decision.on(state, now)
    decision.add(ev.SlaWarned, clock=clock, due_at=due)
    return decision.events


def regulatory_warn(state: ComplaintState, now: datetime, mark: RegulatoryMark) -> list[ev.Event]:
    """A regulatory deadline is close (the MIIT answer deadline's warning share): warn once.

    Raises:
        InvalidCommand: the case is closed, the mark is not a warning, or it is not reached at `now`.
    """
    require_open(state)
    if mark.kind != "warn" or now < mark.at:
        raise InvalidCommand(f"case {state.complaint_id}: the {mark.clock} clock has no warning due")
    decision = Decision.on(state, now)
    decision.add(ev.SlaWarned, clock=mark.clock, due_at=mark.due_at)
    return decision.events


def regulatory_breach(state: ComplaintState, now: datetime, mark: RegulatoryMark) -> list[ev.Event]:
    """A regulatory deadline passed: record the breach; the regulator's own goes to regional support.

    The MIIT deadline is the region's to answer for, so the case goes there whatever rung the internal SLA
    reached (even past the ladder's top). A partner window's breach moves no rung: the partner desk is told.

    Raises:
        InvalidCommand: the case is closed, the mark is not a breach, or it is not reached at `now`.
    """
    require_open(state)
    if mark.kind != "breach" or now < mark.at:
        raise InvalidCommand(f"case {state.complaint_id}: the {mark.clock} deadline has not passed")
    decision = Decision.on(state, now)
    decision.add(ev.SlaBreached, clock=mark.clock, due_at=mark.due_at)
    if mark.escalate_to == Role.REGIONAL_SUPPORT.value:
        decision.add(
            ev.CaseEscalated,
            level=state.escalation_level + 1,
            to_role=Role.REGIONAL_SUPPORT,
            reason=f"MIIT answer deadline {mark.due_at.isoformat()} passed",
        )
    return decision.events
