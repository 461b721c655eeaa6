"""When a case's regulatory clocks next need the workflow. Pure.

- The MIIT answer deadline runs from filing until the carrier answers (the case is resolved); nothing
  pauses it. It warns at the policy's warn share of the wall time to the deadline; on breach the case
  escalates to regional support, whatever rung the internal SLA has reached (the deadline is the region's).
- The partner window gives each partner request 30 minutes (the policy's figure), round the clock. On
  breach the partner desk is told (the partner channel), not the next rung of our own ladder.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from domain import events as ev
from domain.actors import Role
from domain.regulatory import MIIT_ANSWER, PARTNER_WINDOW, miit_warn_at, partner_window_due
from domain.state import ComplaintState

PARTNER_DESK = "partner_desk"


@dataclass(frozen=True)
class RegulatoryMark:
    clock: str
    kind: Literal["warn", "breach"]
    at: datetime
    due_at: datetime
    # Who a breach goes to: regional support for the regulator's deadline, the partner desk for a partner's.
    escalate_to: str


def _miit_mark(state: ComplaintState, done: set[tuple[type, str]]) -> RegulatoryMark | None:
    due = state.miit_answer_due
    if due is None or state.resolved_at is not None or (ev.SlaBreached, MIIT_ANSWER) in done:
        return None
    escalate_to = Role.REGIONAL_SUPPORT.value
    if (ev.SlaWarned, MIIT_ANSWER) not in done:
        warn_at = miit_warn_at(state.filed_at, due, state.rules.warn_percent)
        return RegulatoryMark(MIIT_ANSWER, "warn", warn_at, due, escalate_to)
    return RegulatoryMark(MIIT_ANSWER, "breach", due, due, escalate_to)


def _partner_marks(
    state: ComplaintState, timeline: Sequence[ev.Event], done: set[tuple[type, str]]
) -> list[RegulatoryMark]:
    if state.rules.regulator_calendar is None:
        return []  # cases filed before regulatory clocks keep the rules they ran under
    answered = {e.request_key for e in timeline if isinstance(e, (ev.PartnerRequestConfirmed, ev.PartnerRequestFailed))}
    marks = []
    for event in timeline:
        if isinstance(event, ev.PartnerRequestSent) and event.request_key not in answered:
            clock = f"{PARTNER_WINDOW}:{event.request_key}"
            if (ev.SlaBreached, clock) not in done:
                due = partner_window_due(event.at, state.rules.regulatory)
                marks.append(RegulatoryMark(clock, "breach", due, due, PARTNER_DESK))
    return marks


def next_regulatory_mark(state: ComplaintState, timeline: Sequence[ev.Event]) -> RegulatoryMark | None:
    """The next moment a regulatory clock warns or breaches, or None (all answered, breached, or none run)."""
    if not state.is_open:
        return None
    done = {(type(e), e.clock) for e in timeline if isinstance(e, (ev.SlaWarned, ev.SlaBreached))}
    marks = [m for m in (_miit_mark(state, done), *_partner_marks(state, timeline, done)) if m is not None]
    return min(marks, key=lambda mark: mark.at) if marks else None


# --- where each regulatory clock stands (for `show`, the API and the console) ----------------------------

ClockStanding = Literal["running", "warned", "breached", "answered"]


@dataclass(frozen=True)
class RegulatoryClockView:
    """One regulatory clock of a case as a reader sees it: what it counts to, and where it stands.

    `answered_at` is when the carrier answered (the case resolved; the partner confirmed or failed), which
    stops the clock; `breached_at` when the workflow recorded the breach. A clock answered after its
    deadline shows `answered` with both set.
    """

    clock: str
    started_at: datetime
    due_at: datetime
    standing: ClockStanding
    escalate_to: str
    answered_at: datetime | None = None
    warned_at: datetime | None = None
    breached_at: datetime | None = None
    partner: str | None = None
    request_key: str | None = None


def _marks_of(timeline: Sequence[ev.Event], clock: str) -> tuple[datetime | None, datetime | None]:
    warned = next((e.at for e in timeline if isinstance(e, ev.SlaWarned) and e.clock == clock), None)
    breached = next((e.at for e in timeline if isinstance(e, ev.SlaBreached) and e.clock == clock), None)
    return warned, breached


def _standing(answered: datetime | None, warned: datetime | None, breached: datetime | None) -> ClockStanding:
    if answered is not None:
        return "answered"
    return "breached" if breached is not None else "warned" if warned is not None else "running"


def regulatory_clocks(state: ComplaintState, timeline: Sequence[ev.Event]) -> list[RegulatoryClockView]:
    """Every regulatory clock of the case folded into `state` from `timeline`.

    The MIIT answer deadline, then one partner window per partner request, in the order they started. Empty for cases
    filed before regulatory clocks (their rules name no regulator calendar).
    """
    due = state.miit_answer_due
    if due is None:
        return []
    warned, breached = _marks_of(timeline, MIIT_ANSWER)
    # A complaint rejected at intake was answered then: the rejection, with its rule, is the carrier's answer.
    answered_at = state.resolved_at or (state.closed_at if state.rejection is not None else None)
    clocks = [RegulatoryClockView(
        clock=MIIT_ANSWER, started_at=state.filed_at, due_at=due,
        standing=_standing(answered_at, warned, breached), escalate_to=Role.REGIONAL_SUPPORT.value,
        answered_at=answered_at, warned_at=warned, breached_at=breached,
    )]
    answers = {e.request_key: e.at for e in timeline
               if isinstance(e, (ev.PartnerRequestConfirmed, ev.PartnerRequestFailed))}
    for event in timeline:
        if isinstance(event, ev.PartnerRequestSent):
            clock = f"{PARTNER_WINDOW}:{event.request_key}"
            warned, breached = _marks_of(timeline, clock)
            answered = answers.get(event.request_key)
            clocks.append(RegulatoryClockView(
                clock=clock, started_at=event.at, due_at=partner_window_due(event.at, state.rules.regulatory),
                standing=_standing(answered, warned, breached), escalate_to=PARTNER_DESK, answered_at=answered,
                warned_at=warned, breached_at=breached, partner=event.partner, request_key=event.request_key,
            ))
    return clocks
