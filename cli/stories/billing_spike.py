"""话费突增: this month's bill is over 4x the usual one; 58.20 yuan of long calls yesterday."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import BILLING_SPIKE_CUSTOMER

ORDER = 1


def stories(now: datetime | None = None) -> list[Story]:
    intake = ComplaintIntake(
        complaint_id=demo_id("spike", now),
        category=Category("billing_spike"),
        msisdn=BILLING_SPIKE_CUSTOMER.msisdn,
        customer_name=BILLING_SPIKE_CUSTOMER.name,
        description="本月话费用得特别快, 比平时多了4倍多; 昨天的电话只打了几分钟, 不可能产生那么多费用",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "话费突增 / billing_spike: the other party's records agree, so no refund, and advice on the flip phone",
            intake,
            answers={"compare-with-other-party": "yes", "confirm-resolution": "yes"},
        )
    ]
