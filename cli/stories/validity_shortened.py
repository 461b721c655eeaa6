"""话费有效期被缩短: 王先生's validity fell from 2010-05-25 to 2008-11-26 after a -10 yuan batch adjustment."""

from __future__ import annotations

from datetime import datetime

from cli.demo import Story, demo_id
from cli.stories.actors import STORE_AGENT
from domain.cases import Category
from domain.intake import ComplaintIntake
from sandboxes.seed_data import VALIDITY_CUSTOMER

ORDER = 4


def stories(now: datetime | None = None) -> list[Story]:
    intake = ComplaintIntake(
        complaint_id=demo_id("validity", now),
        category=Category.VALIDITY_SHORTENED,
        msisdn=VALIDITY_CUSTOMER.msisdn,
        customer_name=VALIDITY_CUSTOMER.name,
        description="两条10086短信: 原来有效期到2010年5月25日, 后来一条说到2008年11月26日; 有效期被缩短了, 要求延长回去",
        filed_by=STORE_AGENT,
    )
    return [
        Story(
            "话费有效期被缩短 / validity_shortened: extend the validity then, if the number is suspended when it runs out",
            intake,
            # The remedy the seed's store agreed and the customer accepted.
            answers={"validity-remedy": "extend-if-suspended", "confirm-resolution": "yes"},
        )
    ]
