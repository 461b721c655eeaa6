"""垃圾短信: the customer keeps getting junk (prizes, "your number was stolen") and wants it to stop."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import SPAM_SMS_CUSTOMER

ORDER = 5


def stories(now: datetime | None = None) -> list[Story]:
    # One story: the sandbox seeds one spam customer, and two cases on one number at once would race
    # to end the same SP service. The refused-consent branch is covered by the workflow tests.
    intake = ComplaintIntake(
        complaint_id=demo_id("spam", now),
        category=Category.SPAM_SMS,
        msisdn=SPAM_SMS_CUSTOMER.msisdn,
        customer_name=SPAM_SMS_CUSTOMER.name,
        description="经常收到乱七八糟的短信, 不是说中奖了, 就是说号码被盗用了; 生活被打扰, 要求赔偿",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "垃圾短信 / spam_sms: end the SP never ordered, report the senders, block web SMS with consent",
            intake,
            answers={"block-web-sms": "block", "confirm-resolution": "yes"},
        )
    ]
