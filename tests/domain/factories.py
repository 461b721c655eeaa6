"""Events and intakes for domain tests, with the seed's forwarding customer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from domain import events as ev
from domain.actors import ENGINE, Actor, Role
from domain.cases import Category, IntakeChannel, Priority
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
