"""话费有效期被缩短: 王先生's validity fell from 2010-05-25 to 2008-11-26 after a -10 yuan batch adjustment.

A drinks promotion topped his recharge up by 10 yuan by mistake (充值送饮料多返充); the batch adjustment
that took it back also took the validity those 10 yuan had bought.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from sandboxes.batch_population import clawback_batch, population
from sandboxes.boss_rows import BalanceRow, BatchMemberRow, BatchRow, BossRows, customer_row, static_bills
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.VALIDITY_SHORTENED
ORDER = 4

VALIDITY_CUSTOMER = StoryCustomer("王先生", "330108197811230614", "13819408540")
CUSTOMER = VALIDITY_CUSTOMER

BATCH_ADJUSTMENT_FEN = 1000  # the -10 yuan batch adjustment (批量调整)
BATCH_ADJUSTMENT_REASON = "充值送饮料多返充"
VALIDITY_AFTER_DAYS = 30  # validity now ends anchor + 30 days (the seed's 2008-11-26)
VALIDITY_SHORTENED_BY_DAYS = 545  # from 2010-05-25 to 2008-11-26
VALIDITY_BEFORE_DAYS = VALIDITY_AFTER_DAYS + VALIDITY_SHORTENED_BY_DAYS  # the seed's 2010-05-25

# The batch behind the story: the same clawback went to 2,000 numbers, 王先生's among them (issue 18).
CLAWBACK_BATCH_ID = "B-DRINKS-CLAWBACK"
CREDIT_BATCH_ID = "B-GOODWILL-CREDIT"  # a harmless batch, for contrast: a credit that moved no validity
BATCH_NUMBERS = 2000
BATCH_FIRST_MSISDN = 13820900000  # the generated numbers: 13820900000 and up, nobody else's
BATCH_DAYS_AGO = 5


def boss_rows(anchor: date) -> BossRows:
    """Recharges, the promotion, monthly usage and the batch adjustment, each with the validity it left."""
    who = VALIDITY_CUSTOMER

    def day(offset: int) -> date:
        return anchor + timedelta(days=offset)

    steps: list[tuple[datetime, str, int, date | None, date | None, str]] = [
        (at_local(day(-300), 10, 5), "recharge", 10000, day(-280), day(65), "营业厅充值100元"),
        (at_local(day(-200), 23, 59), "usage", -2600, None, None, "月度消费"),
        (
            at_local(day(-120), 11, 20),
            "recharge",
            10000,
            day(65),
            day(VALIDITY_AFTER_DAYS + 515),
            "充值100元（充值送饮料活动）",
        ),
        (
            at_local(day(-120), 11, 20, 5),
            "promotion",
            BATCH_ADJUSTMENT_FEN,
            day(VALIDITY_AFTER_DAYS + 515),
            day(VALIDITY_BEFORE_DAYS),
            "充值送饮料活动返充",
        ),
        (at_local(day(-90), 23, 59), "usage", -2800, None, None, "月度消费"),
        (at_local(day(-60), 23, 59), "usage", -2700, None, None, "月度消费"),
        (at_local(day(-30), 23, 59), "usage", -2900, None, None, "月度消费"),
        (
            batch_applied_at(anchor),
            "batch_adjustment",
            -BATCH_ADJUSTMENT_FEN,
            day(VALIDITY_BEFORE_DAYS),
            day(VALIDITY_AFTER_DAYS),
            BATCH_ADJUSTMENT_REASON,
        ),
    ]
    history = []
    balance, validity = 0, day(-280)
    for instant, kind, amount, before, after, reason in steps:
        balance += amount
        before = before or validity
        validity = after or validity
        history.append(BalanceRow(who.msisdn, instant, kind, amount, balance, before, validity, reason))
    customer = customer_row(
        who,
        plan="SZX-18",
        brand="神州行",
        opened_at=at_local(day(-700), 9, 15),
        balance_fen=balance,
        validity_until=validity,
    )
    bills = static_bills(who.msisdn, anchor, (2800, 2700, 2900, 1350))
    story = BossRows(
        customers=(customer,),
        bills=tuple(bills),
        balance_changes=tuple(history),
        batch_rows=(BatchMemberRow(CLAWBACK_BATCH_ID, who.msisdn, batch_applied_at(anchor)),),
    )
    # The batches themselves first: the story customer's row references the clawback.
    return population(anchor, seed_batch(anchor), size=BATCH_NUMBERS - 1, first_msisdn=BATCH_FIRST_MSISDN,
                      credit_batch_id=CREDIT_BATCH_ID) + story


def batch_applied_at(anchor: date) -> datetime:
    """When the story's bad batch ran, relative to the demo's anchor day (local time)."""
    return at_local(anchor - timedelta(days=BATCH_DAYS_AGO), 9, 0)


def seed_batch(anchor: date) -> BatchRow:
    """The seed's clawback: -10 yuan from each of 2,000 numbers, five days before the customer came in."""
    return clawback_batch(CLAWBACK_BATCH_ID, batch_applied_at(anchor), -BATCH_ADJUSTMENT_FEN, BATCH_ADJUSTMENT_REASON)


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: extend the validity then, if the number is suspended when it runs out."""
    intake = filed_at_store(
        "validity",
        now,
        CATEGORY,
        VALIDITY_CUSTOMER,
        "两条10086短信: 原来有效期到2010年5月25日, 后来一条说到2008年11月26日; 有效期被缩短了, 要求延长回去",
    )
    return [
        Story(
            "话费有效期被缩短 / validity_shortened: extend the validity then, if the number is suspended when it runs out",
            intake,
            # The remedy the seed's store agreed and the customer accepted.
            answers={"validity-remedy": "extend-if-suspended", "confirm-resolution": "yes"},
        )
    ]
