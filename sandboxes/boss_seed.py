"""The billing-system (BOSS) sandbox's data: the seed's seven stories, with their figures, in PostgreSQL.

Every story is anchored to the date of the first seeding (the day "the customer came in"), kept in
boss.seed_info so that seeding again later neither moves the stories nor changes anything else.
`rearm_stories` puts the stories' mutable state (notices, subscriptions, balances, status) back as
seeded, so the demo can run again; money and audit records (ledger, payments, reports, incidents)
are never touched.

The data itself is built by the pure `build_seed(anchor)`; the two coroutines only write it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import NamedTuple

import asyncpg

from domain.cases import Category
from sandboxes import seed_data as sd

# China has kept UTC+8 without daylight saving since 1991: a fixed offset needs no tz database.
LOCAL = timezone(timedelta(hours=8), "Asia/Shanghai")

_SEED_LOCK_ID = 7_210_087  # pg_advisory_xact_lock: two seeders at once take turns

# The number each category's demo complaint is about, keyed by category (a str enum: either key works).
STORIES: dict[str, str] = {
    Category.BILLING_SPIKE: sd.BILLING_SPIKE_CUSTOMER.msisdn,
    Category.ARREARS_DISPUTE: sd.ARREARS_CUSTOMER.msisdn,
    Category.BILL_DISCREPANCY: sd.BILL_DISCREPANCY_CUSTOMER.msisdn,
    Category.VALIDITY_SHORTENED: sd.VALIDITY_CUSTOMER.msisdn,
    Category.SPAM_SMS: sd.SPAM_SMS_CUSTOMER.msisdn,
    Category.TARIFF_DISPUTE: sd.TARIFF_CUSTOMER.msisdn,
    Category.FORWARDING_CANCEL: sd.FORWARDING_CUSTOMER.msisdn,
}
SPIKE_COUNTERPART_MSISDN = sd.BILLING_SPIKE_COUNTERPART.msisdn
REFERENCE_MSISDNS = tuple(customer.msisdn for customer in sd.BILL_REFERENCE_CUSTOMERS)
OVERCHARGE_MSISDN = sd.BILL_OVERCHARGE_CUSTOMER.msisdn

# 张小姐's daily charges: days 1-14 (all the terminal shows) and days 15-18 (what it misses).
DISCREPANCY_FIRST_DAYS_FEN = (320, 410, 280, 390, 450, 300, 360, 420, 310, 380, 350, 400, 430, 430)
DISCREPANCY_LAST_DAYS_FEN = (1420, 1530, 1260, 1420)


# --- rows, in the column order of their INSERT -------------------------------------------------


class PlanRow(NamedTuple):
    code: str
    name: str
    account_type: str
    monthly_fee_fen: int
    included_minutes: int
    per_minute_fen: int
    long_distance_per_minute_fen: int
    sms_fen: int
    description: str


class AgentRow(NamedTuple):
    code: str
    name: str
    contact_phone: str
    address: str


class CustomerRow(NamedTuple):
    msisdn: str
    name: str
    id_number: str
    status: str
    account_type: str
    brand: str
    plan_code: str
    sales_channel: str
    agent_code: str | None
    opened_at: datetime
    balance_fen: int
    validity_until: date | None
    cancelled_at: datetime | None
    arrears_fen: int
    is_reference: bool
    remark: str


class NoticeRow(NamedTuple):
    msisdn: str
    old_msisdn: str
    old_carrier: str
    active: bool
    created_at: datetime
    cancelled_at: datetime | None


class BillRow(NamedTuple):
    msisdn: str
    period_start: date
    period_end: date
    total_fen: int
    closed: bool


class CallRow(NamedTuple):
    msisdn: str
    other_party: str
    direction: str
    call_type: str
    started_at: datetime
    duration_seconds: int
    charge_fen: int


class DailyChargeRow(NamedTuple):
    msisdn: str
    channel: str
    day: date
    amount_fen: int


class BalanceRow(NamedTuple):
    msisdn: str
    at: datetime
    kind: str
    amount_fen: int
    balance_after_fen: int
    validity_before: date | None
    validity_after: date | None
    reason: str


class SubscriptionRow(NamedTuple):
    msisdn: str
    sp_code: str
    service_name: str
    sp_name: str
    monthly_fee_fen: int
    ordered_via: str
    customer_confirmed: bool
    delivery_source: str
    subscribed_at: datetime
    status: str
    ended_at: datetime | None


class SmsRow(NamedTuple):
    msisdn: str
    sender: str
    source_kind: str
    sp_code: str | None
    received_at: datetime
    text: str


@dataclass(frozen=True)
class BossSeed:
    anchor: date
    period_start: date
    plans: tuple[PlanRow, ...]
    agents: tuple[AgentRow, ...]
    customers: tuple[CustomerRow, ...]
    notices: tuple[NoticeRow, ...]
    bills: tuple[BillRow, ...]
    calls: tuple[CallRow, ...]
    daily_charges: tuple[DailyChargeRow, ...]
    balance_changes: tuple[BalanceRow, ...]
    subscriptions: tuple[SubscriptionRow, ...]
    sms: tuple[SmsRow, ...]


# --- calendar -----------------------------------------------------------------------------------


def at_local(day: date, hour: int, minute: int, second: int = 0) -> datetime:
    """A wall-clock time in the store's time zone, as the UTC instant the database keeps."""
    return datetime.combine(day, time(hour, minute, second), LOCAL).astimezone(UTC)


def local_day(instant: datetime) -> date:
    return instant.astimezone(LOCAL).date()


def add_months(day: date, months: int) -> date:
    """The same day of another month, clamped to that month's length (Jan 31 + 1 month = Feb 28/29)."""
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month_index + 1, min(day.day, calendar.monthrange(year, month_index + 1)[1]))


def current_period_start(anchor: date) -> date:
    """The current billing period began 17 days before the anchor: the customer came in on its 18th day."""
    return anchor - timedelta(days=sd.BILLING_PERIOD_DAYS_SO_FAR - 1)


def period_bounds(anchor: date, back: int) -> tuple[date, date]:
    """The whole billing period `back` periods before the current one (0 = current), first and last day."""
    start = current_period_start(anchor)
    return add_months(start, -back), add_months(start, -back + 1) - timedelta(days=1)


def periods_back_of(anchor: date, day: date) -> int:
    """How many periods before the current one holds `day` (0 = the current period)."""
    back = 0
    while period_bounds(anchor, back)[0] > day:
        back += 1
    return back


# --- generators ---------------------------------------------------------------------------------

_MINUTES_PATTERN = (3, 5, 2, 4, 6, 1, 4, 3, 5, 2, 7, 3)


def _short_calls(
    msisdn: str,
    parties: tuple[str, ...],
    first_day: date,
    days: int,
    total_minutes: int,
    per_minute_fen: int,
    salt: int,
) -> list[CallRow]:
    """Ordinary outgoing calls of a few minutes each, spread over `days`, billed `total_minutes` in all."""
    chunks: list[int] = []
    left, i = total_minutes, salt
    while left > 0:
        minutes = min(_MINUTES_PATTERN[i % len(_MINUTES_PATTERN)], left)
        chunks.append(minutes)
        left -= minutes
        i += 1
    calls = []
    for j, minutes in enumerate(chunks):
        day = first_day + timedelta(days=(j * days) // len(chunks))
        # 08:30 to 18:29, distinct for every call of one batch
        offset = 8 * 60 + 30 + (j * 97 + salt * 31) % 600
        # Billing rounds up to whole minutes: one to 45 seconds short of `minutes` still bills `minutes`.
        seconds = minutes * 60 - 1 - (j * 13 + salt) % 45
        calls.append(
            CallRow(
                msisdn=msisdn,
                other_party=parties[(j + salt) % len(parties)],
                direction="outgoing",
                call_type="local",
                started_at=at_local(day, offset // 60, offset % 60),
                duration_seconds=seconds,
                charge_fen=minutes * per_minute_fen,
            )
        )
    return calls


def billed_minutes(seconds: int) -> int:
    return -(-seconds // 60)


def _bills_from_calls(msisdn: str, calls: list[CallRow], anchor: date, backs: range) -> list[BillRow]:
    bills = []
    for back in backs:
        start, end = period_bounds(anchor, back)
        total = sum(
            call.charge_fen
            for call in calls
            if call.msisdn == msisdn and start <= local_day(call.started_at) <= end
        )
        bills.append(BillRow(msisdn, start, end, total, closed=back > 0))
    return bills


def _static_bills(msisdn: str, anchor: date, totals_oldest_first: tuple[int, ...]) -> list[BillRow]:
    """Bills whose totals are given, the last of them the current (open) one."""
    count = len(totals_oldest_first)
    bills = []
    for index, total in enumerate(totals_oldest_first):
        back = count - 1 - index
        start, end = period_bounds(anchor, back)
        bills.append(BillRow(msisdn, start, end, total, closed=back > 0))
    return bills


def _customer(
    who: sd.StoryCustomer | sd.ForwardingCustomer,
    *,
    plan: str,
    brand: str,
    opened_at: datetime,
    balance_fen: int,
    validity_until: date | None,
    account_type: str = "prepaid",
    status: str = "active",
    sales_channel: str = "own_store",
    agent_code: str | None = None,
    cancelled_at: datetime | None = None,
    arrears_fen: int = 0,
    is_reference: bool = False,
    remark: str = "",
) -> CustomerRow:
    return CustomerRow(
        msisdn=who.msisdn,
        name=who.name,
        id_number=who.id_number,
        status=status,
        account_type=account_type,
        brand=brand,
        plan_code=plan,
        sales_channel=sales_channel,
        agent_code=agent_code,
        opened_at=opened_at,
        balance_fen=balance_fen,
        validity_until=validity_until,
        cancelled_at=cancelled_at,
        arrears_fen=arrears_fen,
        is_reference=is_reference,
        remark=remark,
    )


# --- the stories ----------------------------------------------------------------------------------

PLANS = (
    PlanRow(
        code="SZX-QS",
        name="神州行轻松卡",
        account_type="prepaid",
        monthly_fee_fen=0,
        included_minutes=0,
        per_minute_fen=60,
        long_distance_per_minute_fen=60,
        sms_fen=10,
        description="无月租，本地及长途通话0.60元/分钟，短信0.10元/条",
    ),
    PlanRow(
        code="SZX-18",
        name="神州行18元套餐",
        account_type="prepaid",
        monthly_fee_fen=1800,
        included_minutes=100,
        per_minute_fen=19,
        long_distance_per_minute_fen=19,
        sms_fen=10,
        description="月租18元，含本地主叫100分钟，超出部分0.19元/分钟，国内长途0.19元/分钟",
    ),
    PlanRow(
        code="SZX-58",
        name="神州行58元套餐",
        account_type="prepaid",
        monthly_fee_fen=5800,
        included_minutes=450,
        per_minute_fen=15,
        long_distance_per_minute_fen=15,
        sms_fen=10,
        description="月租58元，含国内主叫450分钟，超出部分0.15元/分钟",
    ),
    PlanRow(
        code="GOTONE-88",
        name="全球通88元套餐",
        account_type="postpaid",
        monthly_fee_fen=8800,
        included_minutes=500,
        per_minute_fen=15,
        long_distance_per_minute_fen=15,
        sms_fen=10,
        description="月租88元，含国内主叫500分钟，来电显示免费，超出部分0.15元/分钟",
    ),
)

AGENTS = (AgentRow(sd.TARIFF_AGENT_CODE, sd.TARIFF_AGENT_NAME, "0571-88231017", "杭州市西湖区文三路 217 号"),)

_SPIKE_FRIENDS = ("13666770031", "13588120456", "15157163320", "13906510877", "18867120915")
# (hour, minute, seconds) of yesterday's long calls: 48 + 31 + 18 billed minutes at 0.60 = 58.20 yuan
SPIKE_LONG_CALLS = ((19, 2, 2870), (20, 15, 1850), (21, 40, 1065))
SPIKE_PAST_MINUTES = (49, 52, 48, 51, 50, 50)  # six closed periods, oldest first: about 30 yuan each
SPIKE_CURRENT_SHORT_MINUTES = 120


def _billing_spike(anchor: date) -> tuple[list[CustomerRow], list[CallRow], list[BillRow]]:
    spike, counterpart = sd.BILLING_SPIKE_CUSTOMER, sd.BILLING_SPIKE_COUNTERPART
    rate = 60  # SZX-QS
    calls: list[CallRow] = []
    for back, minutes in zip(range(len(SPIKE_PAST_MINUTES), 0, -1), SPIKE_PAST_MINUTES, strict=True):
        start, end = period_bounds(anchor, back)
        calls += _short_calls(
            spike.msisdn, _SPIKE_FRIENDS, start, (end - start).days + 1, minutes, rate, back
        )
    start = current_period_start(anchor)
    # Ordinary calls until two days ago; yesterday holds only the long calls.
    calls += _short_calls(
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
    calls += _short_calls(
        counterpart.msisdn, ("13588120456", "13757100921"), anchor - timedelta(days=6), 5, 22, 19, 3
    )
    customers = [
        _customer(
            spike,
            plan="SZX-QS",
            brand="神州行轻松卡",
            opened_at=at_local(anchor - timedelta(days=1000), 10, 5),
            balance_fen=2380,
            validity_until=anchor + timedelta(days=90),
            remark="翻盖手机，合上翻盖不挂断",
        ),
        _customer(
            counterpart,
            plan="SZX-18",
            brand="神州行",
            opened_at=at_local(anchor - timedelta(days=900), 15, 40),
            balance_fen=5600,
            validity_until=anchor + timedelta(days=200),
        ),
    ]
    bills = _bills_from_calls(spike.msisdn, calls, anchor, range(len(SPIKE_PAST_MINUTES), -1, -1))
    bills += _bills_from_calls(counterpart.msisdn, calls, anchor, range(0, -1, -1))
    return customers, calls, bills


ARREARS_LONG_CALL_SECONDS = 2437  # 41 billed minutes of long distance at 0.60: 24.60 yuan
ARREARS_EARLIER_MINUTES = (16, 17, 15)


def _arrears(anchor: date) -> tuple[list[CustomerRow], list[CallRow], list[BillRow], list[BalanceRow]]:
    who = sd.ARREARS_CUSTOMER
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
        calls += _short_calls(who.msisdn, ("13967340288", "13857160551"), first, 30, minutes, rate, 7 + index)
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
    assert balance == -sd.ARREARS_FEN, balance
    customer = _customer(
        who,
        plan="SZX-QS",
        brand="神州行轻松卡(免来显)",
        opened_at=at_local(anchor - timedelta(days=700), 9, 40),
        balance_fen=0,
        validity_until=validity,
        status="cancelled",
        cancelled_at=at_local(anchor - timedelta(days=60), 10, 0),
        arrears_fen=sd.ARREARS_FEN,
        remark="号码原为机主女儿使用",
    )
    backs = range(
        periods_back_of(anchor, anchor - timedelta(days=250)), periods_back_of(anchor, last_call_day) - 1, -1
    )
    bills = _bills_from_calls(who.msisdn, calls, anchor, backs)
    return [customer], calls, bills, history


def _daily(msisdn: str, anchor: date, channel: str, amounts: list[int]) -> list[DailyChargeRow]:
    start = current_period_start(anchor)
    return [DailyChargeRow(msisdn, channel, start + timedelta(days=i), fen) for i, fen in enumerate(amounts)]


def _bill_discrepancy(anchor: date) -> tuple[list[CustomerRow], list[DailyChargeRow], list[BillRow]]:
    days = sd.BILLING_PERIOD_DAYS_SO_FAR
    who = sd.BILL_DISCREPANCY_CUSTOMER
    full = list(DISCREPANCY_FIRST_DAYS_FEN + DISCREPANCY_LAST_DAYS_FEN)
    charges = _daily(who.msisdn, anchor, "billing", full) + _daily(who.msisdn, anchor, "web", full)
    # The terminal's detail stops at day 14: days 15-18 are simply not there.
    charges += _daily(who.msisdn, anchor, "terminal", full[: sd.DISCREPANCY_TERMINAL_DAYS])
    bills = _static_bills(who.msisdn, anchor, (7120, 6890, 7350, sum(full)))
    customers = [
        _customer(
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
    for index, (ref, amounts) in enumerate(zip(sd.BILL_REFERENCE_CUSTOMERS, references, strict=True)):
        for channel in ("billing", "terminal", "web"):
            charges += _daily(ref.msisdn, anchor, channel, amounts)
        bills += _static_bills(ref.msisdn, anchor, (4860 + 310 * index, sum(amounts)))
        customers.append(
            _customer(
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
    over = sd.BILL_OVERCHARGE_CUSTOMER
    shown = [250 + (d * 41) % 180 for d in range(1, days + 1)]
    billed = list(shown)
    billed[sd.OVERCHARGE_DAY - 1] += sd.OVERCHARGE_FEN
    charges += _daily(over.msisdn, anchor, "billing", billed)
    charges += _daily(over.msisdn, anchor, "web", shown)
    charges += _daily(over.msisdn, anchor, "terminal", shown)
    bills += _static_bills(over.msisdn, anchor, (6210, 5980, sum(billed)))
    customers.append(
        _customer(
            over,
            plan="SZX-18",
            brand="神州行",
            opened_at=at_local(anchor - timedelta(days=400), 16, 30),
            balance_fen=5230,
            validity_until=anchor + timedelta(days=150),
        )
    )
    return customers, charges, bills


VALIDITY_BEFORE_DAYS = sd.VALIDITY_AFTER_DAYS + sd.VALIDITY_SHORTENED_BY_DAYS  # the seed's 2010-05-25


def _validity(anchor: date) -> tuple[list[CustomerRow], list[BillRow], list[BalanceRow]]:
    who = sd.VALIDITY_CUSTOMER

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
            day(sd.VALIDITY_AFTER_DAYS + 515),
            "充值100元（充值送饮料活动）",
        ),
        (
            at_local(day(-120), 11, 20, 5),
            "promotion",
            sd.BATCH_ADJUSTMENT_FEN,
            day(sd.VALIDITY_AFTER_DAYS + 515),
            day(VALIDITY_BEFORE_DAYS),
            "充值送饮料活动返充",
        ),
        (at_local(day(-90), 23, 59), "usage", -2800, None, None, "月度消费"),
        (at_local(day(-60), 23, 59), "usage", -2700, None, None, "月度消费"),
        (at_local(day(-30), 23, 59), "usage", -2900, None, None, "月度消费"),
        (
            at_local(day(-5), 9, 0),
            "batch_adjustment",
            -sd.BATCH_ADJUSTMENT_FEN,
            day(VALIDITY_BEFORE_DAYS),
            day(sd.VALIDITY_AFTER_DAYS),
            sd.BATCH_ADJUSTMENT_REASON,
        ),
    ]
    history = []
    balance, validity = 0, day(-280)
    for instant, kind, amount, before, after, reason in steps:
        balance += amount
        before = before or validity
        validity = after or validity
        history.append(BalanceRow(who.msisdn, instant, kind, amount, balance, before, validity, reason))
    customer = _customer(
        who,
        plan="SZX-18",
        brand="神州行",
        opened_at=at_local(day(-700), 9, 15),
        balance_fen=balance,
        validity_until=validity,
    )
    return [customer], _static_bills(who.msisdn, anchor, (2800, 2700, 2900, 1350)), history


WEATHER_SP = "801116-TQYB"
HOROSCOPE_SP = "901808-XZYC"
SPAM_SENDERS = {
    "13512340001": "【中奖通知】恭喜您的号码在周年庆抽奖中荣获二等奖，奖金58000元，请速致电领取。",
    "15912340002": "您的手机号码已被他人盗用，涉嫌违法，请立即回电配合调查。",
    "18812340003": "尊敬的用户：您已被抽中为幸运客户，点击链接即可领取手机一部。",
}


def _spam(anchor: date) -> tuple[list[CustomerRow], list[BillRow], list[SubscriptionRow], list[SmsRow]]:
    who = sd.SPAM_SMS_CUSTOMER
    m = who.msisdn

    def day(offset: int) -> date:
        return anchor + timedelta(days=offset)

    subscriptions = [
        SubscriptionRow(
            m,
            WEATHER_SP,
            "天气预报",
            "浙江气象信息服务",
            300,
            "web",
            True,
            "web",
            at_local(day(-200), 20, 14),
            "active",
            None,
        ),
        SubscriptionRow(
            m,
            HOROSCOPE_SP,
            "星座运程",
            "星运科技",
            500,
            "none",
            False,
            "sp",
            at_local(day(-45), 3, 12),
            "active",
            None,
        ),
    ]
    sms: list[SmsRow] = []
    for index, (sender, text) in enumerate(SPAM_SENDERS.items()):
        for n in range(3 - index // 2):
            sms.append(
                SmsRow(
                    m,
                    sender,
                    "point_to_point",
                    None,
                    at_local(day(-20 + 6 * n + index), 12 + index, 7 * n),
                    text,
                )
            )
    for week in range(6):
        sms.append(
            SmsRow(
                m,
                "1066901808",
                "sp",
                HOROSCOPE_SP,
                at_local(day(-42 + 7 * week), 9, 30),
                "【星座运程】本周运势：财运上扬，贵人相助。包月5元，回复TD退订。",
            )
        )
    for back in range(7, 0, -1):
        sms.append(
            SmsRow(
                m,
                "10658801116",
                "web",
                WEATHER_SP,
                at_local(day(-back), 7, 0),
                "【天气预报】杭州今天多云转晴，12~20℃，东北风3级。",
            )
        )
    for n in range(2):
        sms.append(
            SmsRow(
                m,
                "1065710086",
                "web",
                None,
                at_local(day(-9 + 4 * n), 22, 41),
                "（网站短信）你好，我在网上给你留言了，速回。",
            )
        )
    customer = _customer(
        who,
        plan="SZX-18",
        brand="神州行",
        opened_at=at_local(day(-365), 18, 2),
        balance_fen=4560,
        validity_until=day(200),
    )
    return [customer], _static_bills(m, anchor, (3350, 3420, 3280, 1900)), subscriptions, sms


def _tariff(anchor: date) -> tuple[list[CustomerRow], list[BillRow]]:
    who = sd.TARIFF_CUSTOMER
    customer = _customer(
        who,
        plan=sd.TARIFF_PLAN_CODE,
        brand="神州行",
        opened_at=at_local(anchor - timedelta(days=75), 16, 45),
        balance_fen=1200,
        validity_until=anchor + timedelta(days=150),
        sales_channel="agent_store",
        agent_code=sd.TARIFF_AGENT_CODE,
        remark="代销店售卡",
    )
    return [customer], _static_bills(who.msisdn, anchor, (6420, 6180, 6030))


def _forwarding(anchor: date) -> tuple[list[CustomerRow], list[NoticeRow], list[BillRow]]:
    who = sd.FORWARDING_CUSTOMER
    joined = anchor - timedelta(days=1)
    customer = _customer(
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
    return [customer], [notice], _static_bills(who.msisdn, anchor, (0,))


def build_seed(anchor: date) -> BossSeed:
    """Every row of the sandbox for stories anchored to `anchor`: pure, the same for the same date."""
    spike_customers, spike_calls, spike_bills = _billing_spike(anchor)
    arrears_customers, arrears_calls, arrears_bills, arrears_history = _arrears(anchor)
    bill_customers, charges, bill_bills = _bill_discrepancy(anchor)
    validity_customers, validity_bills, validity_history = _validity(anchor)
    spam_customers, spam_bills, subscriptions, sms = _spam(anchor)
    tariff_customers, tariff_bills = _tariff(anchor)
    forwarding_customers, notices, forwarding_bills = _forwarding(anchor)
    return BossSeed(
        anchor=anchor,
        period_start=current_period_start(anchor),
        plans=PLANS,
        agents=AGENTS,
        customers=tuple(
            spike_customers
            + arrears_customers
            + bill_customers
            + validity_customers
            + spam_customers
            + tariff_customers
            + forwarding_customers
        ),
        notices=tuple(notices),
        bills=tuple(
            spike_bills
            + arrears_bills
            + bill_bills
            + validity_bills
            + spam_bills
            + tariff_bills
            + forwarding_bills
        ),
        calls=tuple(spike_calls + arrears_calls),
        daily_charges=tuple(charges),
        balance_changes=tuple(arrears_history + validity_history),
        subscriptions=tuple(subscriptions),
        sms=tuple(sms),
    )


# --- writing it -----------------------------------------------------------------------------------

_INSERTS: tuple[tuple[str, str], ...] = (
    (
        "plans",
        """INSERT INTO boss.tariff_plans (code, name, account_type, monthly_fee_fen, included_minutes,
               per_minute_fen, long_distance_per_minute_fen, sms_fen, description)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT DO NOTHING""",
    ),
    (
        "agents",
        """INSERT INTO boss.agent_stores (code, name, contact_phone, address)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
    ),
    (
        "customers",
        """INSERT INTO boss.customers (msisdn, name, id_number, status, account_type, brand, plan_code,
               sales_channel, agent_code, opened_at, balance_fen, validity_until, cancelled_at, arrears_fen,
               is_reference, remark)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
           ON CONFLICT DO NOTHING""",
    ),
    (
        "notices",
        """INSERT INTO boss.number_change_notices (msisdn, old_msisdn, old_carrier, active, created_at,
               cancelled_at)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
    ),
    (
        "bills",
        """INSERT INTO boss.monthly_bills (msisdn, period_start, period_end, total_fen, closed)
           VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING""",
    ),
    (
        "calls",
        """INSERT INTO boss.call_records (msisdn, other_party, direction, call_type, started_at,
               duration_seconds, charge_fen)
           VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING""",
    ),
    (
        "daily_charges",
        """INSERT INTO boss.daily_charges (msisdn, channel, day, amount_fen)
           VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING""",
    ),
    (
        "balance_changes",
        """INSERT INTO boss.balance_history (msisdn, at, kind, amount_fen, balance_after_fen,
               validity_before, validity_after, reason)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING""",
    ),
    (
        "subscriptions",
        """INSERT INTO boss.sp_subscriptions (msisdn, sp_code, service_name, sp_name, monthly_fee_fen,
               ordered_via, customer_confirmed, delivery_source, subscribed_at, status, ended_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT DO NOTHING""",
    ),
    (
        "sms",
        """INSERT INTO boss.received_sms (msisdn, sender, source_kind, sp_code, received_at, text)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING""",
    ),
)


async def _anchor(conn: asyncpg.Connection) -> date | None:
    value: date | None = await conn.fetchval("SELECT anchor_date FROM boss.seed_info")
    return value


async def seed_boss(conn: asyncpg.Connection, today: date) -> None:
    """Seed the stories anchored to `today`, or, once seeded, to the first seeding's date.

    Idempotent: rows already there are left exactly as they are (mutable state included: putting
    it back is `rearm_stories`' job), so a second call changes nothing. Needs the migrations applied.
    """
    if isinstance(today, datetime) or not isinstance(today, date):
        raise TypeError(f"seed_boss wants a date, not {type(today).__name__}")
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEED_LOCK_ID)
        await conn.execute(
            "INSERT INTO boss.seed_info (anchor_date, period_start) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            today,
            current_period_start(today),
        )
        anchor = await _anchor(conn)
        assert anchor is not None
        seed = build_seed(anchor)
        for field_name, sql in _INSERTS:
            rows = getattr(seed, field_name)
            if rows:
                await conn.executemany(sql, rows)


async def rearm_stories(conn: asyncpg.Connection) -> None:
    """Put every story's mutable state back as seeded, so the demo can run again.

    Customers get their seeded status, plan, balance, validity and arrears back; number-change
    notices and SP subscriptions are restored; web-SMS blocks are lifted (kept, with their lift time).
    Ledger, payments, spam reports, incidents and the action log are money and audit records: never
    touched. Remedied charges are released (kept, with their release time), so a story's overcharge
    can be refunded again when the story is told again. Raises RuntimeError if the sandbox was never seeded.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _SEED_LOCK_ID)
        anchor = await _anchor(conn)
        if anchor is None:
            raise RuntimeError("the billing sandbox has not been seeded: run seed_boss first")
        seed = build_seed(anchor)
        await conn.executemany(
            """UPDATE boss.customers
                  SET status = $2, plan_code = $3, balance_fen = $4, validity_until = $5,
                      cancelled_at = $6, arrears_fen = $7
                WHERE msisdn = $1""",
            [
                (
                    c.msisdn,
                    c.status,
                    c.plan_code,
                    c.balance_fen,
                    c.validity_until,
                    c.cancelled_at,
                    c.arrears_fen,
                )
                for c in seed.customers
            ],
        )
        # Deactivate first so re-activating the seeded notice never meets the one-active-notice index.
        msisdns = [c.msisdn for c in seed.customers]
        await conn.execute(
            """UPDATE boss.number_change_notices
                  SET active = false, cancelled_at = coalesce(cancelled_at, now())
                WHERE active AND msisdn = ANY($1::text[])""",
            msisdns,
        )
        await conn.executemany(
            """UPDATE boss.number_change_notices SET active = $3, cancelled_at = $4
                WHERE msisdn = $1 AND old_msisdn = $2""",
            [(n.msisdn, n.old_msisdn, n.active, n.cancelled_at) for n in seed.notices],
        )
        await conn.executemany(
            "UPDATE boss.sp_subscriptions SET status = $3, ended_at = $4 WHERE msisdn = $1 AND sp_code = $2",
            [(s.msisdn, s.sp_code, s.status, s.ended_at) for s in seed.subscriptions],
        )
        await conn.execute(
            "UPDATE boss.sms_blocks SET lifted_at = now()"
            " WHERE lifted_at IS NULL AND msisdn = ANY($1::text[])",
            msisdns,
        )
        await conn.execute(
            """UPDATE boss.remedied_charges SET released_at = now(), release_reason = 'stories rearmed'
                WHERE released_at IS NULL"""
        )
