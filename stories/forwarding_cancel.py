"""取消改号通知: the customer who left Unicom cannot receive calls on the Unicom phone he carries.

His old China Unicom number still forwards to the new China Mobile one (a number-change notice).
Away on business with only the Unicom phone, he wants the forwarding cancelled within 30 minutes;
China Unicom cancels it once the holder's name and ID number check out (the store called 10010).
The store records name no numbers here: these are invented in the same style.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from sandboxes.boss_rows import BossRows, NoticeRow, customer_row, static_bills
from sandboxes.partner_records import ForwardingRecord, PartnerRecords
from stories.people import ForwardingCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.FORWARDING_CANCEL
ORDER = 7

FORWARDING_CUSTOMER = ForwardingCustomer(
    name="赵先生",
    id_number="330106198001011235",
    msisdn="13905710001",
    partner_msisdn="13067890001",
    partner_carrier="china_unicom",
    number_change_notice=True,
)
CUSTOMER = FORWARDING_CUSTOMER

PARTNER_RECORDS = PartnerRecords(
    forwardings=(
        ForwardingRecord(
            carrier=FORWARDING_CUSTOMER.partner_carrier,
            msisdn=FORWARDING_CUSTOMER.partner_msisdn,
            holder_name=FORWARDING_CUSTOMER.name,
            id_number=FORWARDING_CUSTOMER.id_number,
            forward_to=FORWARDING_CUSTOMER.msisdn,
        ),
    )
)


def boss_rows(anchor: date) -> BossRows:
    """He joined yesterday, on 全球通 88, with the number-change notice a customer manager set up."""
    who = FORWARDING_CUSTOMER
    joined = anchor - timedelta(days=1)
    customer = customer_row(
        who,
        plan="GOTONE-88",
        brand="全球通",
        account_type="postpaid",
        opened_at=at_local(joined, 11, 0),
        balance_fen=0,
        validity_until=None,
        remark="客户经理发展的联通转网用户",
    )
    notice = NoticeRow(
        who.msisdn,
        who.partner_msisdn,
        who.partner_carrier,
        who.number_change_notice,
        at_local(joined, 11, 30),
        None,
    )
    return BossRows(customers=(customer,), notices=(notice,), bills=tuple(static_bills(who.msisdn, anchor, (0,))))


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: calls must reach the Unicom phone again within 30 minutes."""
    intake = filed_at_store(
        "forwarding",
        now,
        CATEGORY,
        FORWARDING_CUSTOMER,
        "刚从联通转网, 办了改号通知; 出差只带了联通手机, 电话打不进来, 要求半小时内解决, 否则转回联通",
    )
    return [
        Story(
            "取消改号通知 / forwarding_cancel: calls must reach the Unicom phone again within 30 minutes",
            intake,
            answers={"confirm-resolution": "yes"},
        )
    ]
