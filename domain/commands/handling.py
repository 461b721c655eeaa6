"""What staff do to an open case: add a note, reassign it, resolve it by hand, withdraw it."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Status
from domain.commands.base import Decision, require_open
from domain.errors import InvalidCommand
from domain.state import ComplaintState

# Who may hand a case to someone else, and who may resolve one: the people who work cases.
MAY_NOT_REASSIGN = frozenset({Role.CUSTOMER, Role.AUDITOR})
MAY_NOT_RESOLVE = frozenset({Role.CUSTOMER, Role.SYSTEM, Role.AUDITOR})


class AddNote(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    text: str


class Reassign(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    to_assignee: str
    reason: str = ""


class Resolve(BaseModel):
    """A person resolves the case (a reopened case is worked by hand, never re-run automatically)."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    outcome: str
    summary: str


class Withdraw(BaseModel):
    model_config = ConfigDict(frozen=True)

    actor: Actor
    reason: str


def add_note(state: ComplaintState, command: AddNote, now: datetime) -> list[ev.Event]:
    """A note on the timeline, by anyone proven.

    Raises:
        InvalidCommand: the case is closed.
    """
    require_open(state)
    decision = Decision.on(state, now)
    decision.add(ev.NoteAdded, actor=command.actor, text=command.text)
    return decision.events


def reassign(state: ComplaintState, command: Reassign, now: datetime) -> list[ev.Event]:
    """Hand the case to another assignee.

    Raises:
        InvalidCommand: the case is closed, the actor may not reassign, or it is assigned there already.
    """
    require_open(state)
    if command.actor.role in MAY_NOT_REASSIGN:
        raise InvalidCommand(f"a {command.actor.role.value} cannot reassign a case")
    if command.to_assignee == state.assignee:
        raise InvalidCommand(f"case {state.complaint_id} is already assigned to {command.to_assignee}")
    decision = Decision.on(state, now)
    decision.add(
        ev.CaseReassigned,
        actor=command.actor,
        from_assignee=state.assignee,
        to_assignee=command.to_assignee,
        reason=command.reason,
    )
    return decision.events


def resolve(state: ComplaintState, command: Resolve, now: datetime) -> list[ev.Event]:
    """A person resolves the case; the customer is then asked to confirm.

    Raises:
        InvalidCommand: the case is closed or resolved already, or the actor may not resolve cases.
    """
    require_open(state)
    if state.status is Status.RESOLVED:
        raise InvalidCommand(f"case {state.complaint_id} is already resolved")
    if command.actor.role in MAY_NOT_RESOLVE:
        raise InvalidCommand(f"a {command.actor.role.value} cannot resolve a case")
    decision = Decision.on(state, now)
    decision.add(ev.ComplaintResolved, actor=command.actor, outcome=command.outcome, summary=command.summary)
    return decision.events


def withdraw(state: ComplaintState, command: Withdraw, now: datetime) -> list[ev.Event]:
    """The complaint is withdrawn, and the case closes with that reason.

    Raises:
        InvalidCommand: the case is closed or resolved (the confirmation question is the way out then),
            or the actor is an auditor.
    """
    require_open(state)
    if command.actor.role is Role.AUDITOR:
        raise InvalidCommand("an auditor reads cases and cannot withdraw one")
    if state.status is Status.RESOLVED:
        raise InvalidCommand("the case is already resolved: answer the confirmation question instead")
    decision = Decision.on(state, now)
    decision.add(ev.ComplaintWithdrawn, actor=command.actor, reason=command.reason)
    decision.add(ev.ComplaintClosed, actor=command.actor, reason="withdrawn")
    return decision.events
