"""The fold: state is only ever derived from events, in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as ev
from domain.approval import check_approver, needs_approval
from domain.cases import Status
from domain.errors import ApprovalRefused
from domain.hashing import GENESIS_HASH, chain_hash
from domain.state import EventOutOfOrder, apply, fold
from tests.domain.factories import AGENT, SUPERVISOR, T0, Stream


def test_a_forwarding_case_folds_to_closed() -> None:
    s = Stream()
    events = [
        s.filed(),
        s.next(ev.SlaClockStarted, clock="resolve", budget_seconds=1800, warn_percent=80),
        s.next(ev.ComplaintAcknowledged, assignee=AGENT.id, message="we will fix it"),
        s.next(ev.IdentityVerified, method="name + ID"),
        s.next(ev.ComplaintResolved, after=timedelta(minutes=5), outcome="forwarding_cancelled", summary="done"),
        s.next(ev.SlaClockStopped, clock="resolve"),
        s.next(ev.CustomerAsked, question_id="confirm", question="fixed?", options=["yes", "no"]),
        s.next(ev.CustomerAnswered, question_id="confirm", answer="yes"),
        s.next(ev.ComplaintClosed, reason="confirmed"),
    ]
    state = fold(events)
    assert state is not None
    assert state.status is Status.CLOSED
    assert state.outcome == "forwarding_cancelled"
    assert state.identity_verified is True
    assert state.answers == {"confirm": "yes"}
    assert state.sla_due_at is None
    assert state.last_seq == 9


def test_the_resolve_deadline_moves_by_exactly_the_pause() -> None:
    s = Stream()
    state = fold([s.filed(), s.next(ev.SlaClockStarted, clock="resolve", budget_seconds=1800, warn_percent=80)])
    assert state is not None and state.sla_due_at == T0 + timedelta(minutes=30)
    state = apply(state, s.next(ev.SlaClockPaused, after=timedelta(minutes=10), clock="resolve", reason="asked"))
    assert state.sla_due_at is None
    state = apply(state, s.next(ev.SlaClockResumed, after=timedelta(minutes=7), clock="resolve", paused_ms=420_000))
    assert state.sla_due_at == T0 + timedelta(minutes=37)
    assert state.clocks["resolve"].warn_at == T0 + timedelta(minutes=24 + 7)


def test_events_out_of_order_are_refused() -> None:
    s = Stream()
    filed = s.filed()
    s.next(ev.NoteAdded, text="skipped")
    with pytest.raises(EventOutOfOrder):
        apply(apply(None, filed), s.next(ev.NoteAdded, text="gap"))
    with pytest.raises(EventOutOfOrder):
        apply(None, Stream().next(ev.NoteAdded, text="no filing"))


def test_approval_rules() -> None:
    assert needs_approval("refund", 5001, 5000)
    assert not needs_approval("refund", 5000, 5000)
    assert needs_approval("double_refund", 100, 5000)
    s = Stream()
    state = fold([
        s.filed(),
        s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="double_refund", amount_fen=2400,
               reason="overcharge", needs_approval=True),
    ])
    assert state is not None and state.status is Status.AWAITING_APPROVAL
    check_approver(state, "adj-1", SUPERVISOR)
    with pytest.raises(ApprovalRefused, match="approvals need one of"):
        check_approver(state, "adj-1", AGENT.model_copy(update={"id": "agent-2"}))
    with pytest.raises(ApprovalRefused, match="filed case"):
        check_approver(state, "adj-1", SUPERVISOR.model_copy(update={"id": AGENT.id}))
    with pytest.raises(ApprovalRefused, match="no adjustment"):
        check_approver(state, "adj-9", SUPERVISOR)


def test_hash_chain_changes_with_any_content() -> None:
    s = Stream()
    filed = s.filed()
    first = chain_hash(GENESIS_HASH, filed)
    assert first == chain_hash(GENESIS_HASH, filed)
    tampered = filed.model_copy(update={"description": "something else"})
    assert chain_hash(GENESIS_HASH, tampered) != first
    assert chain_hash("1" * 64, filed) != first
