"""销户欠费: a cancelled prepaid number that "cannot" owe 20-odd yuan; the customer pays and buys a new number."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import ARREARS_CUSTOMER

ORDER = 2


def stories(now: datetime | None = None) -> list[Story]:
    # The seed's ending: once heard, the customer pays. The waiver branches (approved, refused) are in
    # the workflow tests; one case per number here, since two at once would race for the same arrears.
    intake = ComplaintIntake(
        complaint_id=demo_id("arrears", now),
        category=Category("arrears_dispute"),
        msisdn=ARREARS_CUSTOMER.msisdn,
        customer_name=ARREARS_CUSTOMER.name,
        description="来充值才知道号码已销户; 办的是神州行轻松卡(免来显), 号码原是女儿用的, 不可能欠20多元, 要求提供清单",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "销户欠费 / arrears_dispute: the last long call explains the arrears; the customer pays",
            intake,
            answers={"settle-arrears": "pay", "confirm-resolution": "yes"},
        )
    ]
