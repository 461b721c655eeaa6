"""What the billing system (BOSS) holds about a customer: the records playbooks reason over.

Plain frozen values, no I/O: bill lines, call records (CDRs), daily charges, balance changes, SP
subscriptions, received SMS, tariff plans and agent stores. The billing port (ports/billing.py) returns
them; the domain's playbooks decide on them; adapters fill them from wherever the billing system lives.
"""

from __future__ import annotations

from datetime import date
from typing import Literal, NamedTuple

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SPAM_CENTRE = "10086999"

CustomerStatus = Literal["active", "suspended", "cancelled"]
AccountType = Literal["prepaid", "postpaid"]
SalesChannel = Literal["own_store", "agent_store", "web", "hotline"]
Channel = Literal["billing", "terminal", "web"]
CallDirection = Literal["outgoing", "incoming"]
CallType = Literal["local", "long_distance", "roaming"]
BalanceChangeKind = Literal["recharge", "promotion", "usage", "batch_adjustment"]
SmsSourceKind = Literal["point_to_point", "sp", "web"]

class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Customer(_Value):
    msisdn: str
    name: str
    id_number: str = Field(repr=False)
    status: CustomerStatus
    account_type: AccountType
    brand: str
    plan_code: str
    sales_channel: SalesChannel
    agent_code: str | None
    opened_at: AwareDatetime
    balance_fen: int
    validity_until: date | None  # prepaid only: the day the balance stops being usable
    cancelled_at: AwareDatetime | None
    arrears_fen: int
    number_change_notice_active: bool
    number_change_notice_old_msisdn: str | None  # the old number the active notice points at
    web_sms_blocked: bool
    remark: str


class MonthlyBill(_Value):
    msisdn: str
    period_start: date
    period_end: date
    total_fen: int
    closed: bool  # False for the current period, whose total is so far


class CallRecord(_Value):
    """One call as the switch of `msisdn` recorded it; the other party's switch keeps its own record."""

    id: int
    msisdn: str
    other_party: str
    direction: CallDirection
    call_type: CallType
    started_at: AwareDatetime
    duration_seconds: int
    charge_fen: int


class DailyCharge(_Value):
    msisdn: str
    channel: Channel
    day: date  # local (Asia/Shanghai) calendar day
    amount_fen: int


class BillingPeriod(NamedTuple):
    """The current billing period so far: first day and the billing system's today, both included."""

    start: date
    end: date


class BalanceChange(_Value):
    """One line of 资金变化明细: signed amount, balance after, validity before and after."""

    at: AwareDatetime
    kind: BalanceChangeKind
    amount_fen: int  # negative for deductions
    balance_after_fen: int  # negative once usage ran past the balance (arrears)
    validity_before: date | None
    validity_after: date | None
    reason: str


class SpSubscription(_Value):
    sp_code: str
    service_name: str
    sp_name: str
    monthly_fee_fen: int
    ordered_via: Literal["sms", "web", "store", "hotline", "none"]
    customer_confirmed: bool  # the customer's own order is on record
    delivery_source: Literal["sp", "web"]  # "web": blocking web-originated SMS also stops this service
    subscribed_at: AwareDatetime
    status: Literal["active", "unsubscribed"]
    ended_at: AwareDatetime | None


class ReceivedSmsSource(_Value):
    """Everyone who sent the customer messages, with how many and an example."""

    sender: str
    source_kind: SmsSourceKind
    sp_code: str | None
    message_count: int
    first_received_at: AwareDatetime
    last_received_at: AwareDatetime
    sample_text: str


class TariffPlan(_Value):
    code: str
    name: str
    account_type: AccountType
    monthly_fee_fen: int
    included_minutes: int
    per_minute_fen: int
    long_distance_per_minute_fen: int
    sms_fen: int
    description: str


class AgentStore(_Value):
    code: str
    name: str
    contact_phone: str
    address: str


# --- citing records --------------------------------------------------------------------------------
# Each citable record has an id the billing system can look it up by, and a content: the JSON the
# billing system gives for it, limited to what never changes once written (a subscription's order,
# not its status; a sale's channel and date, not the plan the number is on today).
