"""销户欠费: a cancelled prepaid number that "cannot" owe 20-odd yuan; the customer pays and buys a new number.

The number was the customer's daughter's. Its last call, 41 minutes of long distance, ran on after the
balance was gone: that call is the arrears.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from domain.playbooks.common import billed_minutes
from sandboxes.boss_rows import (
    BalanceRow,
    BossRows,
    CallRow,
    bills_from_calls,
    customer_row,
    periods_back_of,
    short_calls,
)
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.ARREARS_DISPUTE
ORDER = 2

ARREARS_CUSTOMER = StoryCustomer("胡先生", "330102195203080512", "13967341014")
CUSTOMER = ARREARS_CUSTOMER

ARREARS_FEN = 2340  # "20-odd yuan" owed by the cancelled prepaid number
ARREARS_LONG_CALL_SECONDS = 2437  # 41 billed minutes of long distance at 0.60: 24.60 yuan
ARREARS_EARLIER_MINUTES = (16, 17, 15)


def boss_rows(anchor: date) -> BossRows:
    """A 30-yuan recharge, three months of calls, the long call that overdrew it, then the cancellation."""
    who = ARREARS_CUSTOMER
    rate = 60  # SZX-QS
    recharged = anchor - timedelta(days=260)
    validity = anchor - timedelta(days=120)
    balance = 3000
    history = [
        BalanceRow(
            who.msisdn,
            at_local(recharged, 10, 12),
            "recharge",
            3000,
            balance,
            anchor - timedelta(days=255),
            validity,
            "营业厅充值30元",
        )
    ]
    calls: list[CallRow] = []
    for index, minutes in enumerate(ARREARS_EARLIER_MINUTES):
        first = anchor - timedelta(days=250 - 30 * index)
        calls += short_calls(who.msisdn, ("13967340288", "13857160551"), first, 30, minutes, rate, 7 + index)
        balance -= minutes * rate
        history.append(
            BalanceRow(
                who.msisdn,
                at_local(first + timedelta(days=29), 23, 59),
                "usage",
                -minutes * rate,
                balance,
                validity,
                validity,
                "月度通话费",
            )
        )
    last_call_day = anchor - timedelta(days=150)
    long_call = CallRow(
        who.msisdn,
        "13857761234",
        "outgoing",
        "long_distance",
        at_local(last_call_day, 15, 20),
        ARREARS_LONG_CALL_SECONDS,
        billed_minutes(ARREARS_LONG_CALL_SECONDS) * rate,
    )
    calls.append(long_call)
    balance -= long_call.charge_fen
    history.append(
        BalanceRow(
            who.msisdn,
            long_call.started_at + timedelta(seconds=ARREARS_LONG_CALL_SECONDS),
            "usage",
            -long_call.charge_fen,
            balance,
            validity,
            validity,
            "长途通话41分钟（通话中余额不足，产生欠费）",
        )
    )
    assert balance == -ARREARS_FEN, balance
    customer = customer_row(
        who,
        plan="SZX-QS",
        brand="神州行轻松卡(免来显)",
        opened_at=at_local(anchor - timedelta(days=700), 9, 40),
        balance_fen=0,
        validity_until=validity,
        status="cancelled",
        cancelled_at=at_local(anchor - timedelta(days=60), 10, 0),
        arrears_fen=ARREARS_FEN,
        remark="号码原为机主女儿使用",
    )
    backs = range(
        periods_back_of(anchor, anchor - timedelta(days=250)), periods_back_of(anchor, last_call_day) - 1, -1
    )
    bills = bills_from_calls(who.msisdn, calls, anchor, backs)
    return BossRows(customers=(customer,), calls=tuple(calls), bills=tuple(bills), balance_changes=tuple(history))


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: the last long call explains the arrears; the customer pays."""
    # The seed's ending: once heard, the customer pays. The waiver branches (approved, refused) are in
    # the workflow tests; one case per number here, since two at once would race for the same arrears.
    intake = filed_at_store(
        "arrears",
        now,
        CATEGORY,
        ARREARS_CUSTOMER,
        "来充值才知道号码已销户; 办的是神州行轻松卡(免来显), 号码原是女儿用的, 不可能欠20多元, 要求提供清单",
    )
    return [
        Story(
            "销户欠费 / arrears_dispute: the last long call explains the arrears; the customer pays",
            intake,
            answers={"settle-arrears": "pay", "confirm-resolution": "yes"},
        )
    ]
