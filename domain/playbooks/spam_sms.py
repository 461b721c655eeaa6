"""spam_sms decisions: which SP services to end, whom to report, and what blocking web SMS would cost.

The seed (record 5): the customer keeps getting junk (prizes, "your number was stolen"). The store
checks whether the messages come from SP services the customer subscribed to, ends what they never
ordered, reports point-to-point senders to the spam centre (10086999), and offers to block
web-originated SMS, warning that the weather forecast they ordered would stop too.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from domain.billing_records import ReceivedSmsSource, SpSubscription
from domain.masking import scrub

BLOCK_QUESTION = "block-web-sms"
BLOCK = "block"
KEEP = "keep"
BLOCK_OPTIONS = [BLOCK, KEEP]


class SpService(BaseModel):
    model_config = ConfigDict(frozen=True)

    sp_code: str
    service_name: str
    sp_name: str
    monthly_fee_fen: int


class SpamPlan(BaseModel):
    """What the store does about the junk, before asking the customer anything."""

    model_config = ConfigDict(frozen=True)

    unsubscribe: list[SpService]  # active, never ordered by the customer
    kept: list[SpService]  # active and ordered by the customer
    report_senders: list[str]  # point-to-point senders, for the spam centre
    web_junk_senders: list[str]  # web-originated senders that no kept service explains
    block_would_stop: list[str]  # kept services delivered as web SMS: a block stops them too

    @property
    def offer_web_block(self) -> bool:
        return bool(self.web_junk_senders)

    def block_question(self) -> str:
        """The consent question, naming what a block would also stop."""
        junk = ", ".join(mask_sender(sender) for sender in self.web_junk_senders)
        cost = (
            f"It would also stop services you ordered: {', '.join(self.block_would_stop)}."
            if self.block_would_stop
            else "No service you ordered would be affected."
        )
        return f"We can block SMS sent from websites (junk from {junk}). {cost} Block them?"


def mask_sender(sender: str) -> str:
    """Mobile numbers masked (135****0001); service numbers (1065..., 10086999) are public and stay."""
    return scrub(sender)


def _service(subscription: SpSubscription) -> SpService:
    return SpService(
        sp_code=subscription.sp_code,
        service_name=subscription.service_name,
        sp_name=subscription.sp_name,
        monthly_fee_fen=subscription.monthly_fee_fen,
    )


def plan_spam_response(subscriptions: Sequence[SpSubscription], sources: Sequence[ReceivedSmsSource]) -> SpamPlan:
    """Sort the subscriptions and senders into: end, keep, report, and what a web block would do."""
    active = [s for s in subscriptions if s.status == "active"]
    unordered = [s for s in active if not s.customer_confirmed]
    ordered = [s for s in active if s.customer_confirmed]
    ordered_codes = {s.sp_code for s in ordered}
    report = [s.sender for s in sources if s.source_kind == "point_to_point"]
    web_junk = [
        s.sender
        for s in sources
        if s.source_kind == "web" and (s.sp_code is None or s.sp_code not in ordered_codes)
    ]
    return SpamPlan(
        unsubscribe=[_service(s) for s in unordered],
        kept=[_service(s) for s in ordered],
        report_senders=list(dict.fromkeys(report)),
        web_junk_senders=list(dict.fromkeys(web_junk)),
        block_would_stop=[s.service_name for s in ordered if s.delivery_source == "web"],
    )
