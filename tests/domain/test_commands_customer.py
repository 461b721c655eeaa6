"""The customer's answer, and how the confirmation answer closes the case (escalating a "no")."""

from __future__ import annotations

from typing import Any

import pytest

from domain import events as ev
from domain.actors import Actor, Role
from domain.commands import AnswerQuestion, answer, close_on_confirmation
from domain.errors import InvalidCommand
from domain.sla import escalation_role
from domain.state import ComplaintState
from tests.domain.factories import T0, engine_event, opened, then

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
AGENT_LI = Actor(id="agent-li", role=Role.AGENT)


def _asked() -> ComplaintState:
    state = opened()
    return then(state, [engine_event(state, ev.CustomerAsked, question_id="confirm-resolution",
                                     question="solved?", options=["yes", "no"])])


def _answer(**fields: Any) -> AnswerQuestion:
    return AnswerQuestion(**{"actor": CUSTOMER, "question_id": "confirm-resolution", "answer": "yes", **fields})


def test_the_customer_answers_the_open_question() -> None:
    state = _asked()
    events = answer(state, _answer(comment="works now"), T0)
    [answered] = events
    assert isinstance(answered, ev.CustomerAnswered) and answered.actor == CUSTOMER
    assert answered.seq == state.last_seq + 1
    assert then(state, events).answers == {"confirm-resolution": "yes"}


def test_staff_relay_an_answer_only_saying_for_whom() -> None:
    state = _asked()
    with pytest.raises(InvalidCommand, match="relay the customer's answer"):
        answer(state, _answer(actor=AGENT_LI), T0)
    [relayed] = answer(state, _answer(actor=AGENT_LI, on_behalf_of="customer"), T0)
    assert isinstance(relayed, ev.CustomerAnswered) and relayed.on_behalf_of == "customer"


def test_an_answer_to_a_question_not_asked_or_not_an_option_is_refused() -> None:
    with pytest.raises(InvalidCommand, match="no question is open"):
        answer(opened(), _answer(), T0)
    with pytest.raises(InvalidCommand, match="the open question is 'confirm-resolution'"):
        answer(_asked(), _answer(question_id="other"), T0)
    with pytest.raises(InvalidCommand, match="is not one of"):
        answer(_asked(), _answer(answer="maybe"), T0)


@pytest.mark.parametrize(("said", "reason"), [("yes", "confirmed"), (None, "unconfirmed")])
def test_the_confirmation_closes_the_case_with_its_reason(said: str | None, reason: str) -> None:
    state = opened()
    [closed] = close_on_confirmation(state, said, T0)
    assert isinstance(closed, ev.ComplaintClosed) and closed.reason == reason
    assert not then(state, [closed]).is_open


@pytest.mark.parametrize("level", [0, 1, 2, 3])
def test_a_no_escalates_one_rung_by_the_one_ladder_then_closes(level: int) -> None:
    state = opened().model_copy(update={"escalation_level": level})
    escalated, closed = close_on_confirmation(state, "no", T0)
    assert isinstance(escalated, ev.CaseEscalated) and isinstance(closed, ev.ComplaintClosed)
    assert escalated.level == level + 1 and escalated.to_role == escalation_role(level + 1)
    assert closed.reason == "not_satisfied" and closed.seq == escalated.seq + 1
    assert then(state, [escalated, closed]).escalation_level == level + 1


def test_a_closed_case_is_not_closed_again_and_a_strange_answer_closes_nothing() -> None:
    state = opened()
    closed = then(state, close_on_confirmation(state, "yes", T0))
    with pytest.raises(InvalidCommand, match="is closed"):
        close_on_confirmation(closed, "yes", T0)
    with pytest.raises(InvalidCommand, match="does not answer"):
        close_on_confirmation(state, "perhaps", T0)
