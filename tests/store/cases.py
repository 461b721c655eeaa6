"""Two customers' cases written straight into the event store, full of personal data in every place
it can hide: the filing, evidence facts, a note, a citation's record id, a customer notification."""

from __future__ import annotations

from datetime import timedelta

from domain import events as ev
from domain.actors import Actor, ActorChannel, Role
from domain.citations import Citation
from tests.domain.factories import AGENT, Stream

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER, channel=ActorChannel.STORE)


class Customer:
    def __init__(self, msisdn: str, name: str, id_number: str, partner_msisdn: str) -> None:
        self.msisdn = msisdn
        self.name = name
        self.id_number = id_number
        self.partner_msisdn = partner_msisdn

    @property
    def clear_values(self) -> list[str]:
        return [self.msisdn, self.name, self.id_number, self.partner_msisdn]


ZHAO = Customer("13905710001", "赵先生", "330106198001011235", "13067890001")
QIAN = Customer("13666778765", "钱女士", "11010519491231002X", "13167890002")
CALLED = "13812345678"  # another party the evidence names


def closed_case(complaint_id: str, customer: Customer, *, close: bool = True) -> list[ev.Event]:
    s = Stream(complaint_id)
    events = [
        s.filed(
            msisdn=customer.msisdn,
            customer_name=customer.name,
            id_number=customer.id_number,
            partner_msisdn=customer.partner_msisdn,
            description=f"{customer.name}: calls to {customer.msisdn} go to the old number",
        ),
        s.next(ev.ComplaintAcknowledged, after=timedelta(minutes=1), assignee=AGENT.id, message="we are on it"),
        s.next(
            ev.EvidenceRecorded,
            after=timedelta(minutes=2),
            step="calls",
            summary="two long calls",
            facts={
                "customer": customer.msisdn,
                "calls": [{"other_party": CALLED, "minutes": 58}],
                "matched": True,
                "id_checked": customer.id_number,
            },
        ),
        s.next(ev.NoteAdded, actor=AGENT, text=f"called back {customer.name} on +86 {customer.msisdn[:3]} "
                                               f"{customer.msisdn[3:7]} {customer.msisdn[7:]}"),
        s.next(
            ev.AdjustmentProposed,
            adjustment_id="adj-1",
            kind="refund",
            amount_fen=2400,
            reason="double charged",
            needs_approval=False,
            citations=[Citation(kind="bill_line", record_id=f"{customer.msisdn}/2026-11", sha256="a" * 64,
                                role="charge")],
        ),
        s.next(ev.ComplaintResolved, after=timedelta(minutes=5), outcome="forwarding_cancelled",
               summary="forwarding cancelled at Unicom"),
        s.next(ev.CustomerAnswered, after=timedelta(minutes=3), actor=CUSTOMER,
               question_id="confirm-resolution", answer="yes"),
    ]
    if close:
        events.append(s.next(ev.ComplaintClosed, reason="confirmed"))
    return events
