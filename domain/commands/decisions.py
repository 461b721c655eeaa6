"""Money: proposing an adjustment (does it wait for a supervisor?) and a person's decision on it.

Who may approve is domain.approval's rule; this turns it into the events the case records.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, ConfigDict, Field

from domain import events as ev
from domain.actors import Actor
from domain.approval import check_approver, needs_approval
from domain.citations import Citation
from domain.commands.base import Decision, require_open
from domain.errors import InvalidCommand
from domain.events import AdjustmentKind
from domain.state import ComplaintState


class ProposeAdjustment(BaseModel):
    """An adjustment a playbook wants, with the records it rests on."""

    model_config = ConfigDict(frozen=True)

    kind: AdjustmentKind
    amount_fen: int = Field(ge=0)
    reason: str
    validity_until: date | None = None
    sp_code: str | None = None
    citations: list[Citation] = Field(default_factory=list)


class DecideAdjustment(BaseModel):
    """A person approves or refuses an adjustment that waits for approval."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    adjustment_id: str
    approve: bool
    reason: str = ""


def next_adjustment_id(state: ComplaintState) -> str:
    """The id the case's next adjustment gets: adj-1, adj-2, ..."""
    return f"adj-{len(state.adjustments) + 1}"


def propose_adjustment(state: ComplaintState, command: ProposeAdjustment, now: datetime) -> list[ev.Event]:
    """Propose an adjustment; it waits for approval when the case's policy (or its kind) wants it.

    Raises:
        InvalidCommand: the case is closed.
    """
    require_open(state)
    decision = Decision.on(state, now)
    decision.add(
        ev.AdjustmentProposed,
        adjustment_id=next_adjustment_id(state),
        kind=command.kind,
        amount_fen=command.amount_fen,
        reason=command.reason,
        needs_approval=needs_approval(command.kind, command.amount_fen, state.rules.approval_limit_fen),
        validity_until=command.validity_until,
        sp_code=command.sp_code,
        citations=list(command.citations),
    )
    return decision.events


def decide(state: ComplaintState, command: DecideAdjustment, now: datetime) -> list[ev.Event]:
    """Approve or refuse an adjustment waiting for approval.

    Raises:
        ApprovalRefused: the actor may not decide on it (see domain.approval.check_approver).
        InvalidCommand: the case is closed, or a refusal gives no reason the customer can be told.
    """
    require_open(state)
    check_approver(state, command.adjustment_id, command.actor)
    decision = Decision.on(state, now)
    if command.approve:
        decision.add(
            ev.AdjustmentApproved, actor=command.actor, adjustment_id=command.adjustment_id, comment=command.reason
        )
        return decision.events
    if not command.reason.strip():
        raise InvalidCommand("a refusal needs a reason the customer can be told")
    decision.add(ev.AdjustmentRefused, actor=command.actor, adjustment_id=command.adjustment_id, reason=command.reason)
    return decision.events
