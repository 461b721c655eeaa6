"""Events and intakes for domain tests, with the seed's forwarding customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain import events as ev
from domain.actors import ENGINE, Actor, Role
from domain.cases import Category, IntakeChannel, Priority
from domain.clock import local_day
from domain.commands import FileComplaint, file_complaint
from domain.intake import parse_intake
from domain.policy import Policy
from domain.state import ComplaintState, fold
from stories.forwarding_cancel import FORWARDING_CUSTOMER

T0 = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)
AGENT = Actor(id="agent-007", role=Role.AGENT)
SUPERVISOR = Actor(id="sup-01", role=Role.SUPERVISOR)


def intake_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "complaint_id": "CASE-0001",
        "category": "forwarding_cancel",
        "msisdn": FORWARDING_CUSTOMER.msisdn,
        "customer_name": FORWARDING_CUSTOMER.name,
        "description": "改号通知后联通手机无法接听电话, 要求半小时内解决",
        "id_number": FORWARDING_CUSTOMER.id_number,
        "partner_msisdn": FORWARDING_CUSTOMER.partner_msisdn,
        "filed_by": {"id": AGENT.id, "role": AGENT.role.value},
    }
    data.update(overrides)
    return data


class Stream:
    """Builds consecutive events of one case."""

    def __init__(self, complaint_id: str = "CASE-0001") -> None:
        self.complaint_id = complaint_id
        self.seq = 0
        self.at = T0

    def next(self, event_type: type[ev.Event], *, after: timedelta = timedelta(0), actor: Actor = ENGINE,
             **fields: Any) -> Any:
        self.seq += 1
        self.at += after
        return event_type(complaint_id=self.complaint_id, seq=self.seq, at=self.at, actor=actor, **fields)

    def filed(self, **fields: Any) -> ev.ComplaintFiled:
        base: dict[str, Any] = {
            "category": Category.FORWARDING_CANCEL,
            "priority": Priority.NORMAL,
            "channel": IntakeChannel.STORE,
            "msisdn": FORWARDING_CUSTOMER.msisdn,
            "customer_name": FORWARDING_CUSTOMER.name,
            "description": "calls do not reach me",
        }
        base.update(fields)
        return self.next(ev.ComplaintFiled, actor=AGENT, **base)


def regulated_case(complaint_id: str = "CASE-REG1", *, filed_at: datetime = T0) -> list[ev.Event]:
    """A case under regulatory clocks: the MIIT deadline warned, one partner request answered in time and
    one whose 30-minute window breached (the seed's forwarding story, as the workflow records it)."""
    s = Stream(complaint_id)
    s.at = filed_at
    policy = Policy(version="v1").for_case(Category.FORWARDING_CANCEL, Priority.HIGH, local_day(filed_at))
    filed = s.filed(priority=Priority.HIGH, policy=policy)
    return [
        filed,
        s.next(ev.ComplaintAcknowledged, after=timedelta(minutes=1), assignee=AGENT.id, message="on it"),
        s.next(ev.PartnerRequestSent, after=timedelta(minutes=1), partner="unicom", action="lookup",
               request_key=f"{complaint_id}:lookup"),
        s.next(ev.PartnerRequestConfirmed, after=timedelta(minutes=5), partner="unicom", action="lookup",
               request_key=f"{complaint_id}:lookup", effective=True),
        s.next(ev.PartnerRequestSent, partner="unicom", action="cancel_forwarding",
               request_key=f"{complaint_id}:cancel"),
        s.next(ev.SlaBreached, after=timedelta(minutes=30), clock=f"partner_window:{complaint_id}:cancel",
               due_at=s.at + timedelta(minutes=30)),
        s.next(ev.SlaWarned, after=timedelta(days=9), clock="miit_answer", due_at=s.at + timedelta(days=15)),
    ]
def opened(filer: Actor = AGENT, at: datetime = T0, **intake: Any) -> ComplaintState:
    """A case as the file command opens it, under the default policy: filed, acknowledged, resolve clock running."""
    command = FileComplaint(intake=parse_intake(intake_data(**intake)), filer=filer)
    policy = Policy(version="test").for_case(command.intake.category, command.intake.priority)
    state = fold(file_complaint(command, at, policy))
    assert state is not None
    return state


def then(state: ComplaintState, events: list[ev.Event]) -> ComplaintState:
    """The state after a command's events: folding them also checks they follow the case in order."""
    after = fold(events, state)
    assert after is not None
    return after


def engine_event(state: ComplaintState, event_type: type[ev.Event], **fields: Any) -> ev.Event:
    """The next event of the case by the engine (a playbook's step), one second after its last one."""
    return event_type(complaint_id=state.complaint_id, seq=state.last_seq + 1,
                      at=state.updated_at + timedelta(seconds=1), actor=ENGINE, **fields)
