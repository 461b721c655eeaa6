"""用户资费疑问: nobody explained the tariff when the agent store sold the number.

The store verifies the sale jointly with agent store AG-HZ-017, which agrees it never explained plan
SZX-58: the plan difference, 30 yuan, is refunded and the number moves to SZX-18.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from domain.money import format_yuan
from sandboxes.boss_rows import AgentRow, BossRows, customer_row, static_bills
from sandboxes.partner_records import AgentSale, AgentSaleRecord, PartnerRecords
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.TARIFF_DISPUTE
ORDER = 6

TARIFF_CUSTOMER = StoryCustomer("陈先生", "33011019850314055X", "13758250617")
CUSTOMER = TARIFF_CUSTOMER

TARIFF_PLAN_CODE = "SZX-58"
TARIFF_AGENT_CODE = "AG-HZ-017"
TARIFF_AGENT_NAME = "西湖区文三路代销店"
# What the joint verification with the agent store agrees.
TARIFF_REFUND_FEN = 3000
TARIFF_NEW_PLAN_CODE = "SZX-18"
TARIFF_REMEDY = {
    "kind": "refund_plan_difference",
    "amount_fen": TARIFF_REFUND_FEN,
    "new_plan_code": TARIFF_NEW_PLAN_CODE,
}
TARIFF_FINDING = (
    f"代销店售卡时未向客户说明{TARIFF_PLAN_CODE}套餐资费；双方协商：退还套餐差价"
    f"{format_yuan(TARIFF_REFUND_FEN)}，改为{TARIFF_NEW_PLAN_CODE}套餐"
)

PARTNER_RECORDS = PartnerRecords(
    sales=(
        AgentSaleRecord(
            agent_code=TARIFF_AGENT_CODE,
            agent_name=TARIFF_AGENT_NAME,
            msisdn=TARIFF_CUSTOMER.msisdn,
            sale=AgentSale(
                plan_code=TARIFF_PLAN_CODE, tariff_explained=False, finding=TARIFF_FINDING, remedy=TARIFF_REMEDY
            ),
        ),
    )
)


def boss_rows(anchor: date) -> BossRows:
    """The agent store, and the number it sold 75 days ago with three bills since."""
    customer = customer_row(
        TARIFF_CUSTOMER,
        plan=TARIFF_PLAN_CODE,
        brand="神州行",
        opened_at=at_local(anchor - timedelta(days=75), 16, 45),
        balance_fen=1200,
        validity_until=anchor + timedelta(days=150),
        sales_channel="agent_store",
        agent_code=TARIFF_AGENT_CODE,
        remark="代销店售卡",
    )
    return BossRows(
        agents=(AgentRow(TARIFF_AGENT_CODE, TARIFF_AGENT_NAME, "0571-88231017", "杭州市西湖区文三路 217 号"),),
        customers=(customer,),
        bills=tuple(static_bills(TARIFF_CUSTOMER.msisdn, anchor, (6420, 6180, 6030))),
    )


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: verify jointly with the agent store, refund the plan difference."""
    intake = filed_at_store(
        "tariff",
        now,
        CATEGORY,
        TARIFF_CUSTOMER,
        "买号码的时候没有介绍清楚资费, 导致扣了很多费用; 不接受让我去代销店问的说法",
    )
    return [
        Story(
            "用户资费疑问 / tariff_dispute: verify jointly with the agent store, refund the plan difference",
            intake,
            answers={"confirm-resolution": "yes"},
        )
    ]
