"""A story as the demo tells it: the complaint as filed, and how the people in it answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.cases import Category
from domain.intake import ComplaintIntake
from stories.people import STORE_AGENT, ForwardingCustomer, StoryCustomer


@dataclass(frozen=True)
class Story:
    """One seed story: the complaint as filed and how the people in it answer."""

    title: str
    intake: ComplaintIntake
    answers: dict[str, str] = field(default_factory=dict)
    # adjustment kind -> (approve?, reason); kinds not listed are approved.
    approvals: dict[str, tuple[bool, str]] = field(default_factory=dict)

    def answer(self, question_id: str, options: list[str]) -> str:
        """What the customer answers to a question: the story's answer, or the first option offered."""
        return self.answers.get(question_id, options[0])

    def decision(self, kind: str) -> tuple[bool, str]:
        """How the supervisor decides an adjustment of this kind: (approve?, reason)."""
        return self.approvals.get(kind, (True, "checked against the records"))


def demo_id(prefix: str, now: datetime | None = None) -> str:
    """A complaint id for one telling of a story: a new one every second, so stories can be told again."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"DEMO-{stamp}-{prefix}"


def filed_at_store(
    prefix: str,
    now: datetime | None,
    category: Category,
    customer: StoryCustomer | ForwardingCustomer,
    description: str,
) -> ComplaintIntake:
    """The complaint as the store agent files it for the customer, in the customer's own words."""
    forwarding = customer if isinstance(customer, ForwardingCustomer) else None
    return ComplaintIntake(
        complaint_id=demo_id(prefix, now),
        category=category,
        msisdn=customer.msisdn,
        customer_name=customer.name,
        id_number=forwarding.id_number if forwarding else None,
        partner_msisdn=forwarding.partner_msisdn if forwarding else None,
        description=description,
        filed_by=STORE_AGENT,
    )
