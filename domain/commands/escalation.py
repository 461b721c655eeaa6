"""Escalation: one rung up the ladder (domain.sla.escalation_role), for a breach, a stuck step or an unhappy customer.

The one rule of who a case goes to next lives in domain.sla; this decides the events.
"""

from __future__ import annotations

from datetime import datetime

from domain import events as ev
from domain.commands.base import Decision, require_open
from domain.errors import InvalidCommand
from domain.sla import escalation_role
from domain.state import ComplaintState, apply


def can_escalate(state: ComplaintState) -> bool:
    """Whether the ladder has a higher rung than the case's current one (the last rung repeats)."""
    return escalation_role(state.escalation_level + 1) != escalation_role(state.escalation_level)


def escalate(state: ComplaintState, now: datetime, reason: str) -> list[ev.Event]:
    """The case climbs one rung: its new level and the role that answers for it now.

    Raises:
        InvalidCommand: the case is closed.
    """
    require_open(state)
    level = state.escalation_level + 1
    decision = Decision.on(state, now)
    decision.add(ev.CaseEscalated, level=level, to_role=escalation_role(level), reason=reason)
    return decision.events


def needs_attention(state: ComplaintState, now: datetime, step: str, error_type: str, reason: str) -> list[ev.Event]:
    """A step cannot go on by itself: say why, and escalate one rung so a person takes it from there.

    Raises:
        InvalidCommand: the case is closed.
    """
    require_open(state)
    decision = Decision.on(state, now)
    decision.add(ev.CaseNeedsAttention, step=step, error_type=error_type, reason=reason)
    after = decision.events[-1]
    return [after, *escalate(apply(state, after), now, f"needs attention: {reason}")]


def breach(state: ComplaintState, now: datetime, clock: str) -> list[ev.Event]:
    """A running clock's deadline passed: record the breach and escalate one rung.

    Raises:
        InvalidCommand: the clock is not running, the case is closed, or the ladder has no higher rung.
    """
    require_open(state)
    running = state.clocks.get(clock)
    due = running.due_at if running else None
    if running is None or due is None:
        raise InvalidCommand(f"case {state.complaint_id} has no running {clock} clock")
    if not can_escalate(state):
        raise InvalidCommand(f"case {state.complaint_id} is at the top of the escalation ladder")
    decision = Decision.on(state, now)
    breached = decision.add(ev.SlaBreached, clock=clock, due_at=due)
    reason = f"{clock} deadline {due.isoformat()} passed ({running.breaches + 1}x)"
    return [breached, *escalate(apply(state, breached), now, reason)]

