"""账单不一致: the self-service terminal shows ~50 yuan, the billing system 100+; and a real overcharge.

张小姐's terminal detail stops at day 14 of the period, so days 15-18 are missing from it: no
overcharge, an incident is raised about the terminal. Two reference numbers, whose three channels
agree, are what the store tests the terminal with. 郑先生's is the other branch: the billing system did
charge 12 yuan more on day 9 than the web and the terminal show, and the store refunds it twice over.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from sandboxes.boss_rows import (
    BILLING_PERIOD_DAYS_SO_FAR,
    BillRow,
    BossRows,
    CustomerRow,
    DailyChargeRow,
    customer_row,
    daily_charges,
    static_bills,
)
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.BILL_DISCREPANCY
ORDER = 3

BILL_DISCREPANCY_CUSTOMER = StoryCustomer("张小姐", "330106199007160420", "13567383861")
# Two other numbers whose three channels agree: the store tests the terminal with them.
BILL_REFERENCE_CUSTOMERS = (
    StoryCustomer("周先生", "330109198309170370", "13567380011"),
    StoryCustomer("吴女士", "330104199206280481", "13567380022"),
)
# The discrepancy playbook's other branch: here the billing system really did charge too much.
BILL_OVERCHARGE_CUSTOMER = StoryCustomer("郑先生", "330106196901300172", "13567380033")
CUSTOMER = BILL_DISCREPANCY_CUSTOMER
REFERENCE_MSISDNS = tuple(customer.msisdn for customer in BILL_REFERENCE_CUSTOMERS)
OVERCHARGE_MSISDN = BILL_OVERCHARGE_CUSTOMER.msisdn

DISCREPANCY_BILLING_FEN = 10860  # the billing system and the web: 100-odd yuan
DISCREPANCY_TERMINAL_FEN = 5230  # the self-service terminal: 50-odd yuan
DISCREPANCY_TERMINAL_DAYS = 14  # the terminal only has days 1-14 of the period
# 张小姐's daily charges: days 1-14 (all the terminal shows) and days 15-18 (what it misses).
DISCREPANCY_FIRST_DAYS_FEN = (320, 410, 280, 390, 450, 300, 360, 420, 310, 380, 350, 400, 430, 430)
DISCREPANCY_LAST_DAYS_FEN = (1420, 1530, 1260, 1420)
OVERCHARGE_FEN = 1200  # charged by the billing system on one day beyond what web and terminal show
OVERCHARGE_DAY = 9  # that day, counted from the period's first day as 1


def boss_rows(anchor: date) -> BossRows:
    """Each number's daily charges as the billing system, the web and the terminal show them, and its bills."""
    days = BILLING_PERIOD_DAYS_SO_FAR
    who = BILL_DISCREPANCY_CUSTOMER
    full = list(DISCREPANCY_FIRST_DAYS_FEN + DISCREPANCY_LAST_DAYS_FEN)
    charges: list[DailyChargeRow] = daily_charges(who.msisdn, anchor, "billing", full)
    charges += daily_charges(who.msisdn, anchor, "web", full)
    # The terminal's detail stops at day 14: days 15-18 are simply not there.
    charges += daily_charges(who.msisdn, anchor, "terminal", full[:DISCREPANCY_TERMINAL_DAYS])
    bills: list[BillRow] = static_bills(who.msisdn, anchor, (7120, 6890, 7350, sum(full)))
    customers: list[CustomerRow] = [
        customer_row(
            who,
            plan="SZX-18",
            brand="神州行",
            opened_at=at_local(anchor - timedelta(days=500), 14, 10),
            balance_fen=4120,
            validity_until=anchor + timedelta(days=180),
        ),
    ]
    references = (
        [200 + (d * 37) % 150 for d in range(1, days + 1)],
        [150 + (d * 53) % 220 for d in range(1, days + 1)],
    )
    for index, (ref, amounts) in enumerate(zip(BILL_REFERENCE_CUSTOMERS, references, strict=True)):
        for channel in ("billing", "terminal", "web"):
            charges += daily_charges(ref.msisdn, anchor, channel, amounts)
        bills += static_bills(ref.msisdn, anchor, (4860 + 310 * index, sum(amounts)))
        customers.append(
            customer_row(
                ref,
                plan="SZX-18",
                brand="神州行",
                opened_at=at_local(anchor - timedelta(days=800 - 200 * index), 11, 0),
                balance_fen=3000 + 1000 * index,
                validity_until=anchor + timedelta(days=240),
                is_reference=True,
                remark="营业厅测试参照号码",
            )
        )
    over = BILL_OVERCHARGE_CUSTOMER
    shown = [250 + (d * 41) % 180 for d in range(1, days + 1)]
    billed = list(shown)
    billed[OVERCHARGE_DAY - 1] += OVERCHARGE_FEN
    charges += daily_charges(over.msisdn, anchor, "billing", billed)
    charges += daily_charges(over.msisdn, anchor, "web", shown)
    charges += daily_charges(over.msisdn, anchor, "terminal", shown)
    bills += static_bills(over.msisdn, anchor, (6210, 5980, sum(billed)))
    customers.append(
        customer_row(
            over,
            plan="SZX-18",
            brand="神州行",
            opened_at=at_local(anchor - timedelta(days=400), 16, 30),
            balance_fen=5230,
            validity_until=anchor + timedelta(days=150),
        )
    )
    return BossRows(customers=tuple(customers), daily_charges=tuple(charges), bills=tuple(bills))


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's two tellings: the terminal's missing days, and the real overcharge refunded twice."""
    terminal = filed_at_store(
        "discrepancy",
        now,
        CATEGORY,
        BILL_DISCREPANCY_CUSTOMER,
        "自助终端详单通话费只有50多元, 系统计费明细100多元, 相差50多元; 说我们乱扣费, 要求双倍返还",
    )
    overcharge = filed_at_store(
        "overcharge",
        now,
        CATEGORY,
        BILL_OVERCHARGE_CUSTOMER,
        "系统扣费比网站和自助终端查到的都多, 要求双倍返还",
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
