"""用户资费疑问: nobody explained the tariff when the agent store sold the number."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import TARIFF_CUSTOMER

ORDER = 6


def stories(now: datetime | None = None) -> list[Story]:
    intake = ComplaintIntake(
        complaint_id=demo_id("tariff", now),
        category=Category.TARIFF_DISPUTE,
        msisdn=TARIFF_CUSTOMER.msisdn,
        customer_name=TARIFF_CUSTOMER.name,
        description="买号码的时候没有介绍清楚资费, 导致扣了很多费用; 不接受让我去代销店问的说法",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "用户资费疑问 / tariff_dispute: verify jointly with the agent store, refund the plan difference",
            intake,
            answers={"confirm-resolution": "yes"},
        )
    ]
