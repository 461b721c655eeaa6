"""账单不一致: the self-service terminal shows ~50 yuan, the billing system 100+; and a real overcharge."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import BILL_DISCREPANCY_CUSTOMER, BILL_OVERCHARGE_CUSTOMER

ORDER = 3


def stories(now: datetime | None = None) -> list[Story]:
    terminal = ComplaintIntake(
        complaint_id=demo_id("discrepancy", now),
        category=Category("bill_discrepancy"),
        msisdn=BILL_DISCREPANCY_CUSTOMER.msisdn,
        customer_name=BILL_DISCREPANCY_CUSTOMER.name,
        description="自助终端详单通话费只有50多元, 系统计费明细100多元, 相差50多元; 说我们乱扣费, 要求双倍返还",
        filed_by=STORE_AGENT,
    )
    overcharge = ComplaintIntake(
        complaint_id=demo_id("overcharge", now),
        category=Category("bill_discrepancy"),
        msisdn=BILL_OVERCHARGE_CUSTOMER.msisdn,
        customer_name=BILL_OVERCHARGE_CUSTOMER.name,
        description="系统扣费比网站和自助终端查到的都多, 要求双倍返还",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "账单不一致 / bill_discrepancy: the terminal missed days 15-18; no overcharge, an incident is raised",
            terminal,
            answers={"confirm-resolution": "yes"},
        ),
        Story(
            "账单不一致 / bill_discrepancy: the billing system did overcharge; double refund after approval",
            overcharge,
            answers={"confirm-resolution": "yes"},
            approvals={"double_refund": (True, "day 9 is above both the web and the terminal")},
        ),
    ]
