"""The billing-system (BOSS) sandbox's rows and the generic builders the seed's stories write them with.

The rows mirror the `boss` schema (store/migrations/0002_boss_sandbox.sql) in the column order of
their INSERT. A story (stories/<category>.py) returns its rows as a `BossRows`; the seeder
(sandboxes/boss_seed.py) adds every story's rows up and writes them. Everything here is pure.

Every story is anchored to one date, the day "the customer came in": the current billing period began
17 days before it, so the customer asked on the period's 18th day.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import NamedTuple, Protocol

from domain.clock import at_local, local_day

BILLING_PERIOD_DAYS_SO_FAR = 18  # the customer asked on the period's 18th day


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


class BatchRow(NamedTuple):
    """A batch adjustment (批量调整): one operation applied to many numbers (boss.batch_adjustments)."""

    batch_id: str
    applied_at: datetime
    amount_fen: int
    reason: str
    description: str


class BatchMemberRow(NamedTuple):
    """The balance_history row a batch wrote for one number (boss.batch_adjustment_rows)."""

    batch_id: str
    msisdn: str
    at: datetime


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
class BossRows:
    """Rows of the sandbox, by table: one story's, or (added up) every story's."""

    plans: tuple[PlanRow, ...] = ()
    agents: tuple[AgentRow, ...] = ()
    customers: tuple[CustomerRow, ...] = ()
    notices: tuple[NoticeRow, ...] = ()
    bills: tuple[BillRow, ...] = ()
    calls: tuple[CallRow, ...] = ()
    daily_charges: tuple[DailyChargeRow, ...] = ()
    balance_changes: tuple[BalanceRow, ...] = ()
    subscriptions: tuple[SubscriptionRow, ...] = ()
    sms: tuple[SmsRow, ...] = ()
    batches: tuple[BatchRow, ...] = ()
    batch_rows: tuple[BatchMemberRow, ...] = ()

    def __add__(self, other: BossRows) -> BossRows:
        return BossRows(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})


class Registered(Protocol):
    """Whoever the billing system registers: a name, an ID number and a China Mobile number."""

    @property
    def name(self) -> str:
        """The registered name."""

    @property
    def id_number(self) -> str:
        """The registered ID number."""

    @property
    def msisdn(self) -> str:
        """The China Mobile number."""


# --- the billing calendar -------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """The same day of another month, clamped to that month's length (Jan 31 + 1 month = Feb 28/29)."""
    year, month_index = divmod(day.month - 1 + months, 12)
    year += day.year
    return date(year, month_index + 1, min(day.day, calendar.monthrange(year, month_index + 1)[1]))


def current_period_start(anchor: date) -> date:
    """The current billing period began 17 days before the anchor: the customer came in on its 18th day."""
    return anchor - timedelta(days=BILLING_PERIOD_DAYS_SO_FAR - 1)


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


# --- generators -------------------------------------------------------------------------------------

_MINUTES_PATTERN = (3, 5, 2, 4, 6, 1, 4, 3, 5, 2, 7, 3)


def short_calls(
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


def bills_from_calls(msisdn: str, calls: list[CallRow], anchor: date, backs: range) -> list[BillRow]:
    """The bills of the periods `backs` periods ago, each the sum of its calls; closed but the current one."""
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


def static_bills(msisdn: str, anchor: date, totals_oldest_first: tuple[int, ...]) -> list[BillRow]:
    """Bills whose totals are given, the last of them the current (open) one."""
    count = len(totals_oldest_first)
    bills = []
    for index, total in enumerate(totals_oldest_first):
        back = count - 1 - index
        start, end = period_bounds(anchor, back)
        bills.append(BillRow(msisdn, start, end, total, closed=back > 0))
    return bills


def daily_charges(msisdn: str, anchor: date, channel: str, amounts: list[int]) -> list[DailyChargeRow]:
    """One channel's view of the current period's daily charges, from its first day on."""
    start = current_period_start(anchor)
    return [DailyChargeRow(msisdn, channel, start + timedelta(days=i), fen) for i, fen in enumerate(amounts)]


def customer_row(
    who: Registered,
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
    """A customer's account as the billing system registered it."""
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
