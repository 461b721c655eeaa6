"""话费突增: this month's bill is over 4x the usual one; 58.20 yuan of long calls yesterday.

The customer's flip phone does not hang up when it is closed: yesterday three calls ran on for 48, 31
and 18 billed minutes. The other party is a China Mobile number too, so its own records can be compared.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from domain.cases import Category
from domain.clock import at_local
from domain.playbooks.common import billed_minutes
from sandboxes.boss_rows import (
    BossRows,
    CallRow,
    bills_from_calls,
    current_period_start,
    customer_row,
    period_bounds,
    short_calls,
)
from stories.people import StoryCustomer
from stories.story import Story, filed_at_store

CATEGORY = Category.BILLING_SPIKE
ORDER = 1

BILLING_SPIKE_CUSTOMER = StoryCustomer("薛小姐", "33010519860412032X", "13666778765")
# The other party of the long calls: a China Mobile number too, so its own call records can be compared.
BILLING_SPIKE_COUNTERPART = StoryCustomer("钱女士", "330103198802050243", "13666771234")
CUSTOMER = BILLING_SPIKE_CUSTOMER

SPIKE_LONG_CALLS_FEN = 5820  # 58.20 yuan of long calls the day before
SPIKE_USUAL_MONTHLY_FEN = 3000  # the usual monthly bill, about 30 yuan
_SPIKE_FRIENDS = ("13666770031", "13588120456", "15157163320", "13906510877", "18867120915")
# (hour, minute, seconds) of yesterday's long calls: 48 + 31 + 18 billed minutes at 0.60 = 58.20 yuan
SPIKE_LONG_CALLS = ((19, 2, 2870), (20, 15, 1850), (21, 40, 1065))
SPIKE_PAST_MINUTES = (49, 52, 48, 51, 50, 50)  # six closed periods, oldest first: about 30 yuan each
SPIKE_CURRENT_SHORT_MINUTES = 120


def boss_rows(anchor: date) -> BossRows:
    """Six ordinary months, this month's short calls, yesterday's long calls and the other party's side."""
    spike, counterpart = BILLING_SPIKE_CUSTOMER, BILLING_SPIKE_COUNTERPART
    rate = 60  # SZX-QS
    calls: list[CallRow] = []
    for back, minutes in zip(range(len(SPIKE_PAST_MINUTES), 0, -1), SPIKE_PAST_MINUTES, strict=True):
        start, end = period_bounds(anchor, back)
        calls += short_calls(spike.msisdn, _SPIKE_FRIENDS, start, (end - start).days + 1, minutes, rate, back)
    start = current_period_start(anchor)
    # Ordinary calls until two days ago; yesterday holds only the long calls.
    calls += short_calls(
        spike.msisdn, _SPIKE_FRIENDS, start, (anchor - start).days - 1, SPIKE_CURRENT_SHORT_MINUTES, rate, 0
    )
    yesterday = anchor - timedelta(days=1)
    for hour, minute, seconds in SPIKE_LONG_CALLS:
        started = at_local(yesterday, hour, minute)
        calls.append(
            CallRow(
                msisdn=spike.msisdn,
                other_party=counterpart.msisdn,
                direction="outgoing",
                call_type="local",
                started_at=started,
                duration_seconds=seconds,
                charge_fen=billed_minutes(seconds) * rate,
            )
        )
        # The other party's switch recorded the same call, at the same time, for as long.
        calls.append(CallRow(counterpart.msisdn, spike.msisdn, "incoming", "local", started, seconds, 0))
    calls += short_calls(counterpart.msisdn, ("13588120456", "13757100921"), anchor - timedelta(days=6), 5, 22, 19, 3)
    customers = (
        customer_row(
            spike,
            plan="SZX-QS",
            brand="神州行轻松卡",
            opened_at=at_local(anchor - timedelta(days=1000), 10, 5),
            balance_fen=2380,
            validity_until=anchor + timedelta(days=90),
            remark="翻盖手机，合上翻盖不挂断",
        ),
        customer_row(
            counterpart,
            plan="SZX-18",
            brand="神州行",
            opened_at=at_local(anchor - timedelta(days=900), 15, 40),
            balance_fen=5600,
            validity_until=anchor + timedelta(days=200),
        ),
    )
    bills = bills_from_calls(spike.msisdn, calls, anchor, range(len(SPIKE_PAST_MINUTES), -1, -1))
    bills += bills_from_calls(counterpart.msisdn, calls, anchor, range(0, -1, -1))
    return BossRows(customers=customers, calls=tuple(calls), bills=tuple(bills))


def stories(now: datetime | None = None) -> list[Story]:
    """The demo's telling: the other party's records agree, so no refund, and advice on the flip phone."""
    intake = filed_at_store(
        "spike",
        now,
        CATEGORY,
        BILLING_SPIKE_CUSTOMER,
        "本月话费用得特别快, 比平时多了4倍多; 昨天的电话只打了几分钟, 不可能产生那么多费用",
    )
    return [
        Story(
            "话费突增 / billing_spike: the other party's records agree, so no refund, and advice on the flip phone",
            intake,
            answers={"compare-with-other-party": "yes", "confirm-resolution": "yes"},
        )
    ]
