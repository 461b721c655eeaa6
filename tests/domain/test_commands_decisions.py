"""Money: an adjustment waits for approval when the policy says so; who may approve or refuse it, and how."""

from __future__ import annotations

import pytest

from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Status
from domain.commands import DecideAdjustment, ProposeAdjustment, close_on_confirmation, decide, propose_adjustment
from domain.errors import ApprovalRefused, InvalidCommand
from domain.events import AdjustmentKind
from domain.state import ComplaintState
from tests.domain.factories import AGENT, SUPERVISOR, T0, opened, then


def _proposed(kind: AdjustmentKind = "refund", amount_fen: int = 9000) -> ComplaintState:
    state = opened()
    return then(state, propose_adjustment(state, ProposeAdjustment(kind=kind, amount_fen=amount_fen, reason="r"), T0))


@pytest.mark.parametrize(("kind", "amount_fen", "waits"), [
    ("refund", 5000, False),  # the default limit is 50 yuan: at the limit, no approval
    ("refund", 5001, True),
    ("double_refund", 100, True),  # always, whatever the amount
    ("arrears_waiver", 100, True),
    ("validity_extension", 0, False),
])
def test_a_proposal_waits_for_approval_by_the_cases_policy_or_its_kind(
    kind: AdjustmentKind, amount_fen: int, waits: bool
) -> None:
    state = opened()
    [proposed] = propose_adjustment(state, ProposeAdjustment(kind=kind, amount_fen=amount_fen, reason="r"), T0)
    assert isinstance(proposed, ev.AdjustmentProposed) and proposed.adjustment_id == "adj-1"
    assert proposed.needs_approval is waits
    after = then(state, [proposed])
    assert (after.status is Status.AWAITING_APPROVAL) is waits


def test_adjustments_are_numbered_in_order() -> None:
    state = _proposed()
    [second] = propose_adjustment(state, ProposeAdjustment(kind="refund", amount_fen=1, reason="r"), T0)
    assert isinstance(second, ev.AdjustmentProposed) and second.adjustment_id == "adj-2"


def test_a_supervisor_approves() -> None:
    state = _proposed()
    [approved] = decide(state, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=True), T0)
    assert isinstance(approved, ev.AdjustmentApproved) and approved.actor == SUPERVISOR
    assert then(state, [approved]).adjustments["adj-1"].status == "approved"


def test_a_refusal_needs_a_reason_and_is_recorded_with_it() -> None:
    state = _proposed()
    with pytest.raises(InvalidCommand, match="a refusal needs a reason"):
        decide(state, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=False, reason="  "), T0)
    [refused] = decide(state, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=False,
                                               reason="the records agree"), T0)
    assert isinstance(refused, ev.AdjustmentRefused) and refused.reason == "the records agree"
    assert then(state, [refused]).adjustments["adj-1"].status == "refused"


def test_the_filer_an_agent_or_a_decided_or_unknown_adjustment_is_refused() -> None:
    state = _proposed()
    with pytest.raises(ApprovalRefused, match="may not approve"):
        decide(state, DecideAdjustment(actor=AGENT.model_copy(update={"role": Role.SUPERVISOR}),
                                       adjustment_id="adj-1", approve=True), T0)
    with pytest.raises(ApprovalRefused, match="approvals need one of"):
        decide(state, DecideAdjustment(actor=Actor(id="agent-2", role=Role.AGENT), adjustment_id="adj-1",
                                       approve=True), T0)
    with pytest.raises(ApprovalRefused, match="no adjustment 'adj-9'"):
        decide(state, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-9", approve=True), T0)
    decided = then(state, decide(state, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=True), T0))
    with pytest.raises(ApprovalRefused, match="not waiting for approval"):
        decide(decided, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=True), T0)
    with pytest.raises(ApprovalRefused, match="not waiting for approval"):
        decide(_proposed(amount_fen=100), DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=True),
               T0)


def test_a_closed_case_takes_no_decision_and_no_proposal() -> None:
    state = _proposed()
    closed = then(state, close_on_confirmation(state, None, T0))
    with pytest.raises(InvalidCommand, match="is closed"):
        decide(closed, DecideAdjustment(actor=SUPERVISOR, adjustment_id="adj-1", approve=True), T0)
    with pytest.raises(InvalidCommand, match="is closed"):
        propose_adjustment(closed, ProposeAdjustment(kind="refund", amount_fen=1, reason="r"), T0)
