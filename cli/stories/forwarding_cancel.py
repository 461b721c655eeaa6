"""取消改号通知: the customer who left Unicom cannot receive calls on the Unicom phone he carries."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import FORWARDING_CUSTOMER

ORDER = 7


def stories(now: datetime | None = None) -> list[Story]:
    intake = ComplaintIntake(
        complaint_id=demo_id("forwarding", now),
        category=Category("forwarding_cancel"),
        msisdn=FORWARDING_CUSTOMER.msisdn,
        customer_name=FORWARDING_CUSTOMER.name,
        id_number=FORWARDING_CUSTOMER.id_number,
        partner_msisdn=FORWARDING_CUSTOMER.partner_msisdn,
        description="刚从联通转网, 办了改号通知; 出差只带了联通手机, 电话打不进来, 要求半小时内解决, 否则转回联通",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "取消改号通知 / forwarding_cancel: calls must reach the Unicom phone again within 30 minutes",
            intake,
            answers={"confirm-resolution": "yes"},
        )
    ]
