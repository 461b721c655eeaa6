"""Approvals compare identities, not strings; answering is the customer's act."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from domain import events as ev
from domain.actors import Actor, Role, normalise_actor_id
from domain.approval import check_answerer, check_approver
from domain.errors import ApprovalRefused, InvalidCommand
from domain.state import fold
from tests.domain.factories import Stream


@pytest.mark.parametrize("spelling", ["sup-li", "SUP-LI", "Sup-Li", " sup-li ", "\tSUP-LI\n", "ＳＵＰ-ＬＩ"])
def test_every_spelling_of_one_id_is_the_same_person(spelling: str) -> None:
    assert normalise_actor_id(spelling) == "sup-li"
    assert Actor(id=spelling, role=Role.SUPERVISOR).id == "sup-li"


def test_inner_space_and_control_characters_are_still_refused() -> None:
    for bad in ["sup li", "sup\x00li", "   "]:
        with pytest.raises(ValidationError):
            Actor(id=bad, role=Role.AGENT)


def _waiver_filed_by(filer: Actor) -> object:
    s = Stream()
    return fold([
        s.filed().model_copy(update={"actor": filer}),
        s.next(ev.AdjustmentProposed, adjustment_id="adj-1", kind="arrears_waiver", amount_fen=2400,
               reason="arrears after cancellation", needs_approval=True),
    ])


@pytest.mark.parametrize("approver_id", ["SUP-LI", "sup-li", " Sup-Li"])
def test_the_filer_may_not_approve_under_another_spelling(approver_id: str) -> None:
    state = _waiver_filed_by(Actor(id="sup-li", role=Role.SUPERVISOR))
    with pytest.raises(ApprovalRefused, match=r"filed case .* may not approve"):
        check_approver(state, "adj-1", Actor(id=approver_id, role=Role.SUPERVISOR))  # type: ignore[arg-type]


def test_a_filer_id_recorded_in_capitals_is_matched_too() -> None:
    # An event stored before ids were normalised keeps its spelling in the payload; the rule still matches.
    filer = Actor.model_construct(id="SUP-LI", role=Role.SUPERVISOR)
    state = _waiver_filed_by(filer)
    with pytest.raises(ApprovalRefused):
        check_approver(state, "adj-1", Actor(id="sup-li", role=Role.SUPERVISOR))  # type: ignore[arg-type]
    check_approver(state, "adj-1", Actor(id="sup-wang", role=Role.SUPERVISOR))  # type: ignore[arg-type]


def test_an_agent_may_not_approve() -> None:
    state = _waiver_filed_by(Actor(id="agent-li", role=Role.AGENT))
    with pytest.raises(ApprovalRefused, match="agent-zhou is agent; approvals need one of"):
        check_approver(state, "adj-1", Actor(id="agent-zhou", role=Role.AGENT))  # type: ignore[arg-type]


def test_the_customer_answers_for_themselves() -> None:
    check_answerer(Actor(id="customer", role=Role.CUSTOMER), None)
    with pytest.raises(InvalidCommand, match="answers for themselves"):
        check_answerer(Actor(id="customer", role=Role.CUSTOMER), "customer")


@pytest.mark.parametrize("role", [Role.AGENT, Role.STORE_MANAGER, Role.REGIONAL_SUPPORT, Role.SUPERVISOR])
def test_staff_relay_an_answer_only_on_behalf_of_the_customer(role: Role) -> None:
    staff = Actor(id="agent-li", role=role)
    check_answerer(staff, "customer")
    with pytest.raises(InvalidCommand, match="not the customer: relay"):
        check_answerer(staff, None)
    with pytest.raises(InvalidCommand):
        check_answerer(staff, "agent-li")


@pytest.mark.parametrize("role", [Role.SYSTEM, Role.AUDITOR])
def test_the_engine_and_auditors_never_answer(role: Role) -> None:
    with pytest.raises(InvalidCommand, match="cannot answer for the customer"):
        check_answerer(Actor(id="x", role=role), "customer")
