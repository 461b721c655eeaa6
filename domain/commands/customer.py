"""The customer's side of a case: answering a question, and closing on the confirmation answer."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.actors import Actor
from domain.approval import check_answerer
from domain.commands.base import Decision, require_open
from domain.commands.escalation import escalate
from domain.errors import InvalidCommand
from domain.state import ComplaintState

CloseReason = Literal["confirmed", "unconfirmed", "not_satisfied"]

# How the answer to "is your problem solved?" closes the case (None: the customer stayed silent).
CLOSE_REASONS: dict[str | None, CloseReason] = {"yes": "confirmed", "no": "not_satisfied", None: "unconfirmed"}


class AnswerQuestion(BaseModel):
    """The customer's answer to the open question, given by the customer or relayed by staff who say so."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    question_id: str
    answer: str
    comment: str = ""
    on_behalf_of: str | None = None


def answer(state: ComplaintState, command: AnswerQuestion, now: datetime) -> list[ev.Event]:
    """Record the answer to the question the case asked.

    Raises:
        InvalidCommand: the actor may not answer for the customer, no such question is open (none is, on
            a closed case), or the answer is not one of its options.
    """
    check_answerer(command.actor, command.on_behalf_of)
    pending = state.pending_question
    if pending is None or pending.question_id != command.question_id:
        asked = f"the open question is {pending.question_id!r}" if pending else "no question is open"
        raise InvalidCommand(f"case {state.complaint_id} did not ask {command.question_id!r}: {asked}")
    if command.answer not in pending.options:
        raise InvalidCommand(f"answer {command.answer!r} is not one of {pending.options}")
    decision = Decision.on(state, now)
    decision.add(
        ev.CustomerAnswered,
        actor=command.actor,
        question_id=command.question_id,
        answer=command.answer,
        comment=command.comment,
        on_behalf_of=command.on_behalf_of,
    )
    return decision.events


def close_on_confirmation(state: ComplaintState, confirmation: str | None, now: datetime) -> list[ev.Event]:
    """Close a resolved case on the customer's confirmation answer ("yes", "no", or None for silence).

    A customer who says the problem is not solved has the case escalated one rung first, so a person
    picks it up with the full timeline.

    Raises:
        InvalidCommand: the case is closed already, or the answer is not a confirmation answer.
    """
    require_open(state)
    if confirmation not in CLOSE_REASONS:
        raise InvalidCommand(f"{confirmation!r} does not answer whether the problem is solved")
    reason = CLOSE_REASONS[confirmation]
    events: list[ev.Event] = []
    if reason == "not_satisfied":
        events = escalate(state, now, "the customer says the problem is not solved")
    decision = Decision(state.complaint_id, state.last_seq + len(events), now)
    decision.add(ev.ComplaintClosed, reason=reason)
    return [*events, *decision.events]
