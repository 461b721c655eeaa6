"""What staff do to an open case: notes, reassignment, resolving by hand, withdrawal, and who may."""

from __future__ import annotations

import pytest

from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Status
from domain.commands import AddNote, Reassign, Resolve, Withdraw, add_note, reassign, resolve, withdraw
from domain.errors import InvalidCommand
from tests.domain.factories import AGENT, SUPERVISOR, T0, opened, then

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AUDITOR = Actor(id="aud-1", role=Role.AUDITOR)


def test_anyone_proven_adds_a_note_to_an_open_case() -> None:
    state = opened()
    [note] = add_note(state, AddNote(actor=CUSTOMER, text="called twice"), T0)
    assert isinstance(note, ev.NoteAdded) and note.actor == CUSTOMER and then(state, [note]).notes == 1
    closed = then(state, withdraw(state, Withdraw(actor=CUSTOMER, reason="fixed"), T0))
    with pytest.raises(InvalidCommand, match="is closed"):
        add_note(closed, AddNote(actor=CUSTOMER, text="again"), T0)


def test_staff_reassign_to_someone_else() -> None:
    state = opened()
    [moved] = reassign(state, Reassign(actor=SUPERVISOR, to_assignee="agent-9", reason="leave"), T0)
    assert isinstance(moved, ev.CaseReassigned) and (moved.from_assignee, moved.to_assignee) == (AGENT.id, "agent-9")
    assert then(state, [moved]).assignee == "agent-9"
    with pytest.raises(InvalidCommand, match="already assigned to agent-007"):
        reassign(state, Reassign(actor=SUPERVISOR, to_assignee=AGENT.id), T0)


@pytest.mark.parametrize("actor", [CUSTOMER, AUDITOR])
def test_the_customer_and_auditors_do_not_reassign(actor: Actor) -> None:
    with pytest.raises(InvalidCommand, match=f"a {actor.role.value} cannot reassign"):
        reassign(opened(), Reassign(actor=actor, to_assignee="agent-9"), T0)


def test_staff_resolve_once() -> None:
    state = opened()
    [resolved] = resolve(state, Resolve(actor=AGENT, outcome="fixed_by_hand", summary="done"), T0)
    assert isinstance(resolved, ev.ComplaintResolved) and resolved.actor == AGENT
    after = then(state, [resolved])
    assert after.status is Status.RESOLVED and after.outcome == "fixed_by_hand"
    with pytest.raises(InvalidCommand, match="already resolved"):
        resolve(after, Resolve(actor=AGENT, outcome="again", summary="again"), T0)


@pytest.mark.parametrize("role", [Role.CUSTOMER, Role.SYSTEM, Role.AUDITOR])
def test_the_customer_the_engine_and_auditors_do_not_resolve_by_hand(role: Role) -> None:
    with pytest.raises(InvalidCommand, match=f"a {role.value} cannot resolve"):
        resolve(opened(), Resolve(actor=Actor(id="x-1", role=role), outcome="o", summary="s"), T0)


def test_a_withdrawal_closes_the_case_by_whoever_withdrew() -> None:
    state = opened()
    withdrawn, closed = withdraw(state, Withdraw(actor=CUSTOMER, reason="fixed by itself"), T0)
    assert isinstance(withdrawn, ev.ComplaintWithdrawn) and isinstance(closed, ev.ComplaintClosed)
    assert closed.reason == "withdrawn" and closed.actor == CUSTOMER and closed.seq == withdrawn.seq + 1
    after = then(state, [withdrawn, closed])
    assert not after.is_open and after.outcome == "withdrawn"


def test_an_auditor_or_a_resolved_case_is_not_withdrawn() -> None:
    state = opened()
    with pytest.raises(InvalidCommand, match="auditor reads cases"):
        withdraw(state, Withdraw(actor=AUDITOR, reason="r"), T0)
    resolved = then(state, resolve(state, Resolve(actor=AGENT, outcome="o", summary="s"), T0))
    with pytest.raises(InvalidCommand, match="answer the confirmation question instead"):
        withdraw(resolved, Withdraw(actor=CUSTOMER, reason="r"), T0)
