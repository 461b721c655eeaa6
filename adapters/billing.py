"""The billing-system (BOSS) port and its PostgreSQL adapter.

Playbook activities depend on `BillingSystem` only; `PostgresBillingSystem` serves it from the
`boss` schema (store/migrations/0002_boss_sandbox.sql, seeded by sandboxes/boss_seed.py), and a real
BOSS gateway would be another class with the same methods.

Every write takes an idempotency key (complaint id + step). The first call with a key does the work
and records its result; any later call with the same key does nothing more and returns that first
result with `effective=False`. Reusing a key for a different request is refused (IdempotencyConflict).
Each write and its record commit in one transaction, so a crash leaves either both or neither.

Errors: every `BillingError` is a business answer that retrying will not change (the activity should
fail non-retryably); connection problems surface as asyncpg/OS errors, which a retry may cure.
Messages mask phone numbers (136****8765): they end up in workflow histories, stored in clear.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import date, datetime
from typing import Any, Literal, NamedTuple, Protocol

import asyncpg
from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from domain.citations import MONEY_KINDS, Citation, CitationRole, RecordKind, charges, cite, record_hash
from domain.errors import InvalidMsisdn
from domain.events import AdjustmentKind
from domain.intake import check_complaint_id
from domain.masking import scrub
from domain.money import Fen, format_yuan
from domain.msisdn import Msisdn, parse_msisdn
from domain.validation import describe

SPAM_CENTRE = "10086999"

CustomerStatus = Literal["active", "suspended", "cancelled"]
AccountType = Literal["prepaid", "postpaid"]
SalesChannel = Literal["own_store", "agent_store", "web", "hotline"]
Channel = Literal["billing", "terminal", "web"]
CallDirection = Literal["outgoing", "incoming"]
CallType = Literal["local", "long_distance", "roaming"]
BalanceChangeKind = Literal["recharge", "promotion", "usage", "batch_adjustment"]
SmsSourceKind = Literal["point_to_point", "sp", "web"]

_CUSTOMER_STATUSES: frozenset[str] = frozenset({"active", "suspended", "cancelled"})
_CHANNELS: frozenset[str] = frozenset({"billing", "terminal", "web"})
_IDEMPOTENCY_KEY = re.compile(r"^[!-~]{1,200}$")  # printable ASCII, no spaces
_CODE = re.compile(r"^[A-Z0-9][A-Z0-9-]{1,31}$")
_SENDER = re.compile(r"^[0-9]{3,20}$")
# Keys are serialised with pg_advisory_xact_lock(class, hashtext(key)); the class keeps them apart
# from the migration and seeding locks, which use the one-argument form.
_KEY_LOCK_CLASS = 1_0086
# Charges are serialised the same way, in their own class: two cases remedying one charge take turns.
_CHARGE_LOCK_CLASS = 1_0087


# --- errors --------------------------------------------------------------------------------------


class BillingError(Exception):
    """The billing system's answer to a request it will not carry out; retrying will not change it."""


class InvalidBillingRequest(BillingError, ValueError):
    """Malformed input: a bad number, key, channel, amount or date range."""


class NotFound(BillingError):
    """The thing asked about does not exist in the billing system."""


class UnknownCustomer(NotFound):
    """No customer with this number."""


class UnknownTariffPlan(NotFound):
    pass


class UnknownAgentStore(NotFound):
    pass


class UnknownSubscription(NotFound):
    """The customer has no subscription to this SP service."""


class IdempotencyConflict(BillingError):
    """An idempotency key already used for a different request."""


class BillingRefused(BillingError):
    """A well-formed request that the account's state does not allow (e.g. refunding a cancelled number)."""


class PriorRemedy(BaseModel):
    """The ledger row that already remedied a charge: which case, when, which row."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    charge: str  # the charge key, kind:record_id
    complaint_id: str
    ledger_id: str
    applied_at: AwareDatetime


class AlreadyRemedied(BillingError):
    """A charge this adjustment cites was already remedied (by any case): no money moves a second time."""

    def __init__(self, prior: PriorRemedy) -> None:
        super().__init__(
            f"{prior.charge} was already remedied on case {prior.complaint_id} ({prior.ledger_id})"
        )
        self.prior = prior


# --- values it returns ---------------------------------------------------------------------------


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


def sale_record(customer: Customer) -> dict[str, Any]:
    """The sale of a number: who sold it, through which channel, when."""
    return {
        "msisdn": customer.msisdn,
        "sales_channel": customer.sales_channel,
        "agent_code": customer.agent_code,
        "opened_at": customer.opened_at.isoformat(),
    }


def sp_order_record(msisdn: str, subscription: SpSubscription) -> dict[str, Any]:
    """The order behind an SP subscription (or its absence): what, from whom, how it was ordered."""
    return {
        "msisdn": msisdn,
        **subscription.model_dump(
            mode="json",
            include={
                "sp_code",
                "service_name",
                "sp_name",
                "monthly_fee_fen",
                "ordered_via",
                "customer_confirmed",
                "delivery_source",
                "subscribed_at",
            },
        ),
    }


def balance_change_record(msisdn: str, change: BalanceChange) -> dict[str, Any]:
    return {"msisdn": msisdn, **change.model_dump(mode="json")}


def cite_bill(bill: MonthlyBill, role: CitationRole = "evidence") -> Citation:
    return cite("bill_line", f"{bill.msisdn}/{bill.period_start.isoformat()}", bill.model_dump(mode="json"), role)


def cite_call(call: CallRecord, role: CitationRole = "evidence") -> Citation:
    return cite("cdr", str(call.id), call.model_dump(mode="json"), role)


def cite_daily_charge(row: DailyCharge, role: CitationRole = "evidence") -> Citation:
    return cite("daily_charge", f"{row.msisdn}/{row.channel}/{row.day.isoformat()}", row.model_dump(mode="json"), role)


def cite_sale(customer: Customer, role: CitationRole = "evidence") -> Citation:
    record = sale_record(customer)
    return cite("sale", f"{customer.msisdn}/{record['opened_at']}", record, role)


def cite_balance_change(msisdn: str, change: BalanceChange, role: CitationRole = "evidence") -> Citation:
    record_id = f"{msisdn}/{change.at.isoformat()}/{change.kind}"
    return cite("balance_change", record_id, balance_change_record(msisdn, change), role)


def cite_sp_order(msisdn: str, subscription: SpSubscription, role: CitationRole = "evidence") -> Citation:
    return cite("sp_order", f"{msisdn}/{subscription.sp_code}", sp_order_record(msisdn, subscription), role)


class CitedRecord(_Value):
    """A cited record as the billing system holds it now, and whether it still matches the citation."""

    citation: Citation
    content: dict[str, Any] | None  # None: the billing system no longer holds the record
    sha256: str | None

    @property
    def matches(self) -> bool:
        return self.sha256 == self.citation.sha256


async def _fetch_record(conn: asyncpg.Connection, kind: RecordKind, record_id: str) -> dict[str, Any] | None:
    """The content of a citable record, exactly as the cite_* helpers hash it; None if there is none."""
    parts = record_id.split("/")
    try:
        if kind == "cdr":
            row = await conn.fetchrow(f"SELECT {_CALL_COLUMNS} FROM boss.call_records WHERE id = $1", int(record_id))
            return None if row is None else CallRecord(**dict(row)).model_dump(mode="json")
        if kind == "bill_line" and len(parts) == 2:
            row = await conn.fetchrow(
                "SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND period_start = $2",
                parts[0],
                date.fromisoformat(parts[1]),
            )
            return None if row is None else MonthlyBill(**dict(row)).model_dump(mode="json")
        if kind == "daily_charge" and len(parts) == 3:
            row = await conn.fetchrow(
                """SELECT msisdn, channel, day, amount_fen FROM boss.daily_charges
                    WHERE msisdn = $1 AND channel = $2 AND day = $3""",
                parts[0],
                parts[1],
                date.fromisoformat(parts[2]),
            )
            return None if row is None else DailyCharge(**dict(row)).model_dump(mode="json")
        if kind == "sale" and len(parts) == 2:
            row = await conn.fetchrow(_CUSTOMER_SQL, parts[0])
            if row is None:
                return None
            record = sale_record(_customer(row))
            # A number sold again is another sale: the cited one is no longer on record.
            return record if record["opened_at"] == parts[1] else None
        if kind == "balance_change" and len(parts) == 3:
            row = await conn.fetchrow(
                """SELECT at, kind, amount_fen, balance_after_fen, validity_before, validity_after, reason
                     FROM boss.balance_history WHERE msisdn = $1 AND at = $2 AND kind = $3""",
                parts[0],
                datetime.fromisoformat(parts[1]),
                parts[2],
            )
            return None if row is None else balance_change_record(parts[0], BalanceChange(**dict(row)))
        if kind == "sp_order" and len(parts) == 2:
            row = await conn.fetchrow(
                """SELECT sp_code, service_name, sp_name, monthly_fee_fen, ordered_via, customer_confirmed,
                          delivery_source, subscribed_at, status, ended_at
                     FROM boss.sp_subscriptions WHERE msisdn = $1 AND sp_code = $2""",
                parts[0],
                parts[1],
            )
            return None if row is None else sp_order_record(parts[0], SpSubscription(**dict(row)))
    except ValueError:
        pass  # a malformed id names no record
    return None


# --- writes --------------------------------------------------------------------------------------


def _idempotency_key(value: str) -> str:
    if not isinstance(value, str) or not _IDEMPOTENCY_KEY.match(value):
        raise ValueError("an idempotency key is 1-200 printable ASCII characters without spaces")
    return value


class AdjustmentRequest(BaseModel):
    """A change of money or validity made for a complaint, written to the ledger with its effect.

    - refund / double_refund: `amount_fen` (> 0) is credited to the balance. For a double refund it
      is the amount credited, i.e. twice the overcharge.
    - arrears_waiver: `amount_fen` must equal the arrears, which become zero.
    - validity_extension: sets the validity to `validity_until` (never earlier); `amount_fen` is 0.
    - sp_unsubscription: ends the subscription `sp_code`; `amount_fen` is 0 (refund money separately).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    idempotency_key: str
    complaint_id: str
    msisdn: Msisdn
    kind: AdjustmentKind
    amount_fen: Fen
    reason: str = Field(min_length=1, max_length=500)
    validity_until: date | None = None
    sp_code: str | None = None
    # The records the adjustment rests on; a money adjustment cites the charges it remedies.
    citations: list[Citation] = Field(default_factory=list, max_length=500)

    @field_validator("idempotency_key")
    @classmethod
    def _valid_key(cls, value: str) -> str:
        return _idempotency_key(value)

    @field_validator("complaint_id")
    @classmethod
    def _valid_complaint_id(cls, value: str) -> str:
        return check_complaint_id(value)

    @field_validator("reason")
    @classmethod
    def _has_text(cls, value: str) -> str:
        if not value.strip() or "\x00" in value:
            raise ValueError("the reason must be readable text")
        return value

    @field_validator("sp_code")
    @classmethod
    def _valid_sp_code(cls, value: str | None) -> str | None:
        if value is not None and not _CODE.match(value):
            raise ValueError("an SP code is 2-32 capital letters, digits and '-'")
        return value

    @model_validator(mode="after")
    def _fits_kind(self) -> AdjustmentRequest:
        money = self.kind in ("refund", "double_refund", "arrears_waiver")
        if money and self.amount_fen == 0:
            raise ValueError(f"a {self.kind} needs an amount above zero")
        if not money and self.amount_fen != 0:
            raise ValueError(f"a {self.kind} moves no money: amount_fen must be 0 (refund separately)")
        if (self.kind == "validity_extension") != (self.validity_until is not None):
            raise ValueError("validity_until is required for, and only for, a validity_extension")
        if (self.kind == "sp_unsubscription") != (self.sp_code is not None):
            raise ValueError("sp_code is required for, and only for, an sp_unsubscription")
        if money and not charges(self.citations):
            raise ValueError(f"a {self.kind} must cite the charge it remedies (a citation with role 'charge')")
        if not money and charges(self.citations):
            raise ValueError(f"a {self.kind} moves no money: it cannot remedy a charge")
        if len({c.key for c in self.citations}) != len(self.citations):
            raise ValueError("each record is cited once")
        return self


class AdjustmentReceipt(_Value):
    """The ledger row of an adjustment and the account right after it."""

    ledger_id: str
    idempotency_key: str
    complaint_id: str
    msisdn: str
    kind: AdjustmentKind
    amount_fen: int
    validity_until: date | None
    sp_code: str | None
    reason: str
    balance_after_fen: int
    arrears_after_fen: int
    validity_after: date | None
    applied_at: AwareDatetime
    effective: bool  # True only for the call that applied it; a retry with the same key gets False
    citations: list[Citation] = Field(default_factory=list)


class LedgerEntry(_Value):
    """One row of the adjustment ledger, as `starter reconcile` compares it with the cases' events."""

    ledger_id: str
    idempotency_key: str
    complaint_id: str
    msisdn: str
    kind: AdjustmentKind
    amount_fen: int
    applied_at: AwareDatetime


class ActionReceipt(_Value):
    """The result of a non-money write (notice, block, report, incident, status, plan, payment).

    `reference` is the id of the record the write created, if any: the spam report (SR-...), the
    incident (INC-...), the payment (PAY-...).
    """

    action: str
    idempotency_key: str
    msisdn: str | None
    effective: bool  # True only for the call that changed something
    reference: str | None
    details: dict[str, Any]
    applied_at: AwareDatetime


# --- the port ------------------------------------------------------------------------------------


class BillingSystem(Protocol):
    """What the playbooks may ask of the billing system (BOSS)."""

    async def get_customer(self, msisdn: str) -> Customer: ...

    async def monthly_bills(self, msisdn: str, months: int = 6) -> list[MonthlyBill]: ...

    async def call_records(self, msisdn: str, since: datetime, until: datetime) -> list[CallRecord]: ...

    async def counterpart_call_records(
        self, msisdn: str, other_party: str, since: datetime, until: datetime
    ) -> list[CallRecord]: ...

    async def daily_charges(
        self, msisdn: str, period_start: date, period_end: date, channel: Channel
    ) -> list[DailyCharge]: ...

    async def reference_numbers(self, exclude: str | Iterable[str] = (), limit: int = 2) -> list[str]: ...

    async def current_period(self, msisdn: str) -> BillingPeriod: ...

    async def balance_history(self, msisdn: str) -> list[BalanceChange]: ...

    async def sp_subscriptions(self, msisdn: str) -> list[SpSubscription]: ...

    async def received_sms_sources(self, msisdn: str) -> list[ReceivedSmsSource]: ...

    async def tariff_plan(self, code: str) -> TariffPlan: ...

    async def agent_store(self, code: str) -> AgentStore: ...

    async def last_usage(self, msisdn: str) -> CallRecord | None: ...

    async def cancel_number_change_notice(self, msisdn: str, idempotency_key: str) -> ActionReceipt: ...

    async def apply_adjustment(self, request: AdjustmentRequest) -> AdjustmentReceipt: ...

    async def prior_remedy(self, citations: Sequence[Citation]) -> PriorRemedy | None: ...

    async def cited_records(self, citations: Sequence[Citation]) -> list[CitedRecord]: ...

    async def ledger(self, complaint_ids: Sequence[str] | None = None) -> list[LedgerEntry]: ...

    async def settle_arrears(self, msisdn: str, idempotency_key: str) -> ActionReceipt: ...

    async def unsubscribe_sp(self, msisdn: str, sp_code: str, idempotency_key: str) -> ActionReceipt: ...

    async def block_web_sms(self, msisdn: str, idempotency_key: str) -> ActionReceipt: ...

    async def report_spam(
        self, msisdn: str, senders: Sequence[str], idempotency_key: str
    ) -> ActionReceipt: ...

    async def raise_incident(
        self, channel: Channel, description: str, idempotency_key: str, msisdn: str | None = None
    ) -> ActionReceipt: ...

    async def set_status(
        self, msisdn: str, status: CustomerStatus, idempotency_key: str
    ) -> ActionReceipt: ...

    async def change_plan(self, msisdn: str, plan_code: str, idempotency_key: str) -> ActionReceipt: ...


# --- input checks --------------------------------------------------------------------------------


def _msisdn(value: object) -> str:
    try:
        return parse_msisdn(value)
    except InvalidMsisdn as error:
        raise InvalidBillingRequest(str(error)) from None


def _key(value: object) -> str:
    try:
        return _idempotency_key(value)  # type: ignore[arg-type]
    except ValueError as error:
        raise InvalidBillingRequest(str(error)) from None


def _code(value: object, what: str) -> str:
    if not isinstance(value, str) or not _CODE.match(value):
        raise InvalidBillingRequest(f"{what} {value!r} is not a code (2-32 capital letters, digits and '-')")
    return value


def _channel(value: object) -> Channel:
    if value not in _CHANNELS:
        raise InvalidBillingRequest(f"channel must be one of billing, terminal, web; got {value!r}")
    return value  # type: ignore[return-value]


def _aware(value: object, what: str) -> datetime:
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise InvalidBillingRequest(f"{what} must be a timezone-aware datetime")
    return value


def _range(since: object, until: object) -> tuple[datetime, datetime]:
    start, end = _aware(since, "since"), _aware(until, "until")
    if start > end:
        raise InvalidBillingRequest("since is after until")
    return start, end


def _dates(first: object, last: object) -> tuple[date, date]:
    for value, what in ((first, "period_start"), (last, "period_end")):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise InvalidBillingRequest(f"{what} must be a date")
    assert isinstance(first, date) and isinstance(last, date)
    if first > last:
        raise InvalidBillingRequest("period_start is after period_end")
    return first, last


def _text(value: object, what: str, limit: int) -> str:
    if not isinstance(value, str) or not value.strip() or "\x00" in value or len(value) > limit:
        raise InvalidBillingRequest(f"{what} must be readable text of at most {limit} characters")
    return value


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str)


def _same_request(stored: str, request: dict[str, Any]) -> bool:
    return bool(json.loads(stored) == json.loads(_json(request)))


class _Outcome(NamedTuple):
    effective: bool
    reference: str | None
    details: dict[str, Any]


# --- the adapter ---------------------------------------------------------------------------------

_CUSTOMER_SQL = """
    SELECT c.*, n.old_msisdn AS notice_old_msisdn,
           EXISTS (SELECT 1 FROM boss.sms_blocks b
                    WHERE b.msisdn = c.msisdn AND b.kind = 'web_originated' AND b.lifted_at IS NULL)
               AS web_sms_blocked
      FROM boss.customers c
      LEFT JOIN boss.number_change_notices n ON n.msisdn = c.msisdn AND n.active
     WHERE c.msisdn = $1
"""

_CALL_COLUMNS = "id, msisdn, other_party, direction, call_type, started_at, duration_seconds, charge_fen"


class PostgresBillingSystem:
    """The billing system served from the `boss` schema of a PostgreSQL database."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    # --- reads -----------------------------------------------------------------------------------

    async def get_customer(self, msisdn: str) -> Customer:
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow(_CUSTOMER_SQL, number)
        if row is None:
            raise _unknown(number)
        return _customer(row)

    async def monthly_bills(self, msisdn: str, months: int = 6) -> list[MonthlyBill]:
        """The current (open) bill first, then up to `months` closed bills, newest first."""
        number = _msisdn(msisdn)
        if not isinstance(months, int) or isinstance(months, bool) or not 0 <= months <= 120:
            raise InvalidBillingRequest("months must be a whole number from 0 to 120")
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """(SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND NOT closed)
                   UNION ALL
                   (SELECT * FROM boss.monthly_bills WHERE msisdn = $1 AND closed
                     ORDER BY period_start DESC LIMIT $2)
                   ORDER BY period_start DESC""",
                number,
                months,
            )
        return [MonthlyBill(**dict(row)) for row in rows]

    async def call_records(self, msisdn: str, since: datetime, until: datetime) -> list[CallRecord]:
        """The number's own call records that started in [since, until), oldest first."""
        number = _msisdn(msisdn)
        start, end = _range(since, until)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records
                     WHERE msisdn = $1 AND started_at >= $2 AND started_at < $3
                     ORDER BY started_at, id""",
                number,
                start,
                end,
            )
        return [CallRecord(**dict(row)) for row in rows]

    async def counterpart_call_records(
        self, msisdn: str, other_party: str, since: datetime, until: datetime
    ) -> list[CallRecord]:
        """The other party's own records of its calls with `msisdn` in [since, until), oldest first."""
        number, other = _msisdn(msisdn), _msisdn(other_party)
        start, end = _range(since, until)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            if not await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM boss.customers WHERE msisdn = $1)", other
            ):
                raise UnknownCustomer(
                    f"{scrub(other)} is not a customer of this billing system:"
                    " its records are kept by its own carrier"
                )
            rows = await conn.fetch(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records
                     WHERE msisdn = $1 AND other_party = $2 AND started_at >= $3 AND started_at < $4
                     ORDER BY started_at, id""",
                other,
                number,
                start,
                end,
            )
        return [CallRecord(**dict(row)) for row in rows]

    async def daily_charges(
        self, msisdn: str, period_start: date, period_end: date, channel: Channel
    ) -> list[DailyCharge]:
        """The charges per day as `channel` shows them, for the days it has, first to last (inclusive)."""
        number = _msisdn(msisdn)
        first, last = _dates(period_start, period_end)
        shown_by = _channel(channel)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT msisdn, channel, day, amount_fen FROM boss.daily_charges
                    WHERE msisdn = $1 AND channel = $2 AND day BETWEEN $3 AND $4 ORDER BY day""",
                number,
                shown_by,
                first,
                last,
            )
        return [DailyCharge(**dict(row)) for row in rows]

    async def reference_numbers(self, exclude: str | Iterable[str] = (), limit: int = 2) -> list[str]:
        """Active numbers the store may test a channel with (the terminal, the web), excluding `exclude`."""
        excluded = [_msisdn(exclude)] if isinstance(exclude, str) else [_msisdn(value) for value in exclude]
        if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= 20:
            raise InvalidBillingRequest("limit must be a whole number from 1 to 20")
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT msisdn FROM boss.customers
                    WHERE is_reference AND status = 'active' AND NOT (msisdn = ANY($1::text[]))
                    ORDER BY msisdn LIMIT $2""",
                excluded,
                limit,
            )
        return [row["msisdn"] for row in rows]

    async def current_period(self, msisdn: str) -> BillingPeriod:
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            row = await conn.fetchrow("SELECT period_start, anchor_date FROM boss.seed_info")
        if row is None:
            raise BillingError("the billing system has no current period: the sandbox has not been seeded")
        return BillingPeriod(row["period_start"], row["anchor_date"])

    async def balance_history(self, msisdn: str) -> list[BalanceChange]:
        """Every change of the balance, oldest first."""
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT at, kind, amount_fen, balance_after_fen, validity_before, validity_after, reason
                     FROM boss.balance_history WHERE msisdn = $1 ORDER BY at, id""",
                number,
            )
        return [BalanceChange(**dict(row)) for row in rows]

    async def sp_subscriptions(self, msisdn: str) -> list[SpSubscription]:
        """Every SP subscription, active and ended, oldest first."""
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT sp_code, service_name, sp_name, monthly_fee_fen, ordered_via, customer_confirmed,
                          delivery_source, subscribed_at, status, ended_at
                     FROM boss.sp_subscriptions WHERE msisdn = $1 ORDER BY subscribed_at, sp_code""",
                number,
            )
        return [SpSubscription(**dict(row)) for row in rows]

    async def received_sms_sources(self, msisdn: str) -> list[ReceivedSmsSource]:
        """Who sent the customer messages, grouped by sender, the most frequent first."""
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            rows = await conn.fetch(
                """SELECT sender, source_kind, max(sp_code) AS sp_code, count(*) AS message_count,
                          min(received_at) AS first_received_at, max(received_at) AS last_received_at,
                          (array_agg(text ORDER BY received_at DESC))[1] AS sample_text
                     FROM boss.received_sms WHERE msisdn = $1
                    GROUP BY sender, source_kind
                    ORDER BY count(*) DESC, sender""",
                number,
            )
        return [ReceivedSmsSource(**dict(row)) for row in rows]

    async def tariff_plan(self, code: str) -> TariffPlan:
        plan_code = _code(code, "tariff plan")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM boss.tariff_plans WHERE code = $1", plan_code)
        if row is None:
            raise UnknownTariffPlan(f"no tariff plan {plan_code} in the billing system")
        return TariffPlan(**dict(row))

    async def agent_store(self, code: str) -> AgentStore:
        agent_code = _code(code, "agent store")
        async with self._pool.acquire() as conn:
            row = await conn.fetchrow("SELECT * FROM boss.agent_stores WHERE code = $1", agent_code)
        if row is None:
            raise UnknownAgentStore(f"no agent store {agent_code} in the billing system")
        return AgentStore(**dict(row))

    async def last_usage(self, msisdn: str) -> CallRecord | None:
        """The most recent call on the number, or None if it never made or took one."""
        number = _msisdn(msisdn)
        async with self._pool.acquire() as conn:
            await _require_customer(conn, number)
            row = await conn.fetchrow(
                f"""SELECT {_CALL_COLUMNS} FROM boss.call_records WHERE msisdn = $1
                     ORDER BY started_at DESC, id DESC LIMIT 1""",
                number,
            )
        return None if row is None else CallRecord(**dict(row))

    # --- writes ----------------------------------------------------------------------------------

    async def apply_adjustment(self, request: AdjustmentRequest) -> AdjustmentReceipt:
        """Write the ledger row and its effect on the account in one transaction, once per key.

        The cited records must be the billing system's own, unchanged (their hashes match), and the
        cited charges must be this number's. A charge already remedied by any case raises
        AlreadyRemedied: one remedy per charge, ever, even when two cases ask at the same moment.
        """
        if not isinstance(request, AdjustmentRequest):
            raise InvalidBillingRequest(f"expected an AdjustmentRequest, got {type(request).__name__}")
        try:
            # Checked again: model_construct() or a hand-built copy skips the model's validation.
            request = AdjustmentRequest.model_validate(request.model_dump())
        except ValidationError as error:
            raise InvalidBillingRequest(describe(error)) from None
        try:
            async with self._pool.acquire() as conn, conn.transaction():
                await _lock_key(conn, request.idempotency_key)
                first = await conn.fetchrow(
                    "SELECT * FROM boss.adjustment_ledger WHERE idempotency_key = $1", request.idempotency_key
                )
                if first is not None:
                    return _replayed_adjustment(first, request)
                await _refuse_key_used_by_action(conn, request.idempotency_key, "apply_adjustment")
                # Locks in one order everywhere (key, customer, charges by key): no two cases wait in a circle.
                customer = await _lock_customer(conn, request.msisdn)
                await _check_citations(conn, request)
                remedied = charges(request.citations) if request.kind in MONEY_KINDS else []
                for charge in remedied:
                    await conn.execute(
                        "SELECT pg_advisory_xact_lock($1, hashtext($2))", _CHARGE_LOCK_CLASS, charge.key
                    )
                prior = await _prior_remedy(conn, [c.key for c in remedied])
                if prior is not None:
                    raise AlreadyRemedied(prior)
                balance, arrears, validity = await _adjust(conn, customer, request)
                row = await conn.fetchrow(
                    """INSERT INTO boss.adjustment_ledger (idempotency_key, complaint_id, msisdn, kind,
                           amount_fen, validity_until, sp_code, reason, balance_after_fen, arrears_after_fen,
                           validity_after, citations)
                       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb)
                       RETURNING *""",
                    request.idempotency_key,
                    request.complaint_id,
                    request.msisdn,
                    request.kind,
                    request.amount_fen,
                    request.validity_until,
                    request.sp_code,
                    request.reason,
                    balance,
                    arrears,
                    validity,
                    _citations_json(request.citations),
                )
                await conn.executemany(
                    """INSERT INTO boss.remedied_charges (charge_key, ledger_id, complaint_id, remedied_at)
                       VALUES ($1, $2, $3, $4)""",
                    [(c.key, row["id"], request.complaint_id, row["applied_at"]) for c in remedied],
                )
                return _adjustment_receipt(row, effective=True)
        except asyncpg.UniqueViolationError as error:
            if error.constraint_name != "remedied_charges_once":
                raise
            # The advisory locks make this unreachable; the index is the last word all the same.
            async with self._pool.acquire() as conn:
                prior = await _prior_remedy(conn, [c.key for c in charges(request.citations)])
            if prior is None:
                raise
            raise AlreadyRemedied(prior) from None
        except asyncpg.CheckViolationError as error:
            raise InvalidBillingRequest(
                f"the billing system refused the values ({error.constraint_name})"
            ) from None

    async def prior_remedy(self, citations: Sequence[Citation]) -> PriorRemedy | None:
        """The remedy that already covers one of the cited charges, if any (a read; apply_adjustment decides)."""
        async with self._pool.acquire() as conn:
            return await _prior_remedy(conn, [c.key for c in charges(list(citations))])

    async def cited_records(self, citations: Sequence[Citation]) -> list[CitedRecord]:
        """Each cited record as the billing system holds it now, with the hash of its content."""
        found = []
        async with self._pool.acquire() as conn:
            for citation in citations:
                content = await _fetch_record(conn, citation.kind, citation.record_id)
                found.append(
                    CitedRecord(
                        citation=citation,
                        content=content,
                        sha256=None if content is None else record_hash(content),
                    )
                )
        return found

    async def ledger(self, complaint_ids: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The adjustment ledger, oldest first; only these cases' rows when `complaint_ids` is given."""
        async with self._pool.acquire() as conn:
            rows = await conn.fetch(
                """SELECT id, idempotency_key, complaint_id, msisdn, kind, amount_fen, applied_at
                     FROM boss.adjustment_ledger
                    WHERE $1::text[] IS NULL OR complaint_id = ANY($1::text[])
                    ORDER BY id""",
                None if complaint_ids is None else list(complaint_ids),
            )
        return [
            LedgerEntry(
                ledger_id=f"ADJ-{row['id']:06d}",
                idempotency_key=row["idempotency_key"],
                complaint_id=row["complaint_id"],
                msisdn=row["msisdn"],
                kind=row["kind"],
                amount_fen=row["amount_fen"],
                applied_at=row["applied_at"],
            )
            for row in rows
        ]

    async def cancel_number_change_notice(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Cancel the active number-change notice (改号通知); not effective if none was active."""
        number = _msisdn(msisdn)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            row = await conn.fetchrow(
                """UPDATE boss.number_change_notices SET active = false, cancelled_at = now()
                    WHERE msisdn = $1 AND active RETURNING id, old_msisdn, old_carrier""",
                number,
            )
            if row is None:
                return _Outcome(False, None, {"notice_was_active": False})
            return _Outcome(
                True,
                f"NCN-{row['id']:06d}",
                {
                    "notice_was_active": True,
                    "old_msisdn": row["old_msisdn"],
                    "old_carrier": row["old_carrier"],
                },
            )

        return await self._act("cancel_number_change_notice", idempotency_key, number, {}, perform)

    async def settle_arrears(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """The customer pays the arrears in full: a payment row (PAY-...) and arrears back to zero."""
        number = _msisdn(msisdn)
        key = _key(idempotency_key)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            owed = customer["arrears_fen"]
            if owed == 0:
                return _Outcome(False, None, {"amount_fen": 0})
            payment_id = await conn.fetchval(
                """INSERT INTO boss.payments (idempotency_key, msisdn, purpose, amount_fen)
                   VALUES ($1, $2, 'arrears_settlement', $3) RETURNING id""",
                key,
                number,
                owed,
            )
            await conn.execute("UPDATE boss.customers SET arrears_fen = 0 WHERE msisdn = $1", number)
            return _Outcome(True, f"PAY-{payment_id:06d}", {"amount_fen": owed})

        return await self._act("settle_arrears", key, number, {}, perform)

    async def unsubscribe_sp(self, msisdn: str, sp_code: str, idempotency_key: str) -> ActionReceipt:
        """End an SP subscription; not effective if it had already ended."""
        number = _msisdn(msisdn)
        code = _code(sp_code, "SP code")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            ended = await _end_subscription(conn, number, code)
            return _Outcome(ended is not None, None, {"sp_code": code})

        return await self._act("unsubscribe_sp", idempotency_key, number, {"sp_code": code}, perform)

    async def block_web_sms(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Block web-originated SMS; this also stops services delivered that way (details['also_stops'])."""
        number = _msisdn(msisdn)
        key = _key(idempotency_key)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            block_id = await conn.fetchval(
                """INSERT INTO boss.sms_blocks (idempotency_key, msisdn, kind)
                   VALUES ($1, $2, 'web_originated')
                   ON CONFLICT DO NOTHING RETURNING id""",
                key,
                number,
            )
            stops = await conn.fetchval(
                """SELECT coalesce(array_agg(service_name ORDER BY service_name), '{}')
                     FROM boss.sp_subscriptions
                    WHERE msisdn = $1 AND status = 'active' AND delivery_source = 'web'""",
                number,
            )
            reference = None if block_id is None else f"BLK-{block_id:06d}"
            return _Outcome(block_id is not None, reference, {"also_stops": list(stops)})

        return await self._act("block_web_sms", key, number, {}, perform)

    async def report_spam(self, msisdn: str, senders: Sequence[str], idempotency_key: str) -> ActionReceipt:
        """Report point-to-point spam senders to the spam centre (10086999); `reference` is the report id."""
        number = _msisdn(msisdn)
        key = _key(idempotency_key)
        if isinstance(senders, str) or not senders:
            raise InvalidBillingRequest("senders must be a non-empty list of sender numbers")
        reported: list[str] = []
        for sender in senders:
            if not isinstance(sender, str) or not _SENDER.match(sender):
                raise InvalidBillingRequest(f"sender {scrub(str(sender))!r} is not a number of 3-20 digits")
            if sender not in reported:
                reported.append(sender)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            await _lock_customer(conn, number)
            report_id = await conn.fetchval(
                """INSERT INTO boss.spam_reports (idempotency_key, msisdn, senders, reported_to)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                key,
                number,
                reported,
                SPAM_CENTRE,
            )
            return _Outcome(True, f"SR-{report_id:06d}", {"senders": reported, "reported_to": SPAM_CENTRE})

        return await self._act("report_spam", key, number, {"senders": reported}, perform)

    async def raise_incident(
        self, channel: Channel, description: str, idempotency_key: str, msisdn: str | None = None
    ) -> ActionReceipt:
        """Report a faulty channel (e.g. the terminal missing days); `reference` is the incident id."""
        shown_by = _channel(channel)
        text = _text(description, "description", 2000)
        key = _key(idempotency_key)
        number = None if msisdn is None else _msisdn(msisdn)

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            if number is not None:
                await _require_customer(conn, number)
            incident_id = await conn.fetchval(
                """INSERT INTO boss.incidents (idempotency_key, channel, description, msisdn)
                   VALUES ($1, $2, $3, $4) RETURNING id""",
                key,
                shown_by,
                text,
                number,
            )
            return _Outcome(True, f"INC-{incident_id:06d}", {"channel": shown_by})

        request = {"channel": shown_by, "description": text}
        return await self._act("raise_incident", key, number, request, perform)

    async def set_status(self, msisdn: str, status: CustomerStatus, idempotency_key: str) -> ActionReceipt:
        """Suspend, reactivate or cancel a number. A cancelled number stays cancelled."""
        number = _msisdn(msisdn)
        if status not in _CUSTOMER_STATUSES:
            raise InvalidBillingRequest(f"status must be one of active, suspended, cancelled; got {status!r}")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            before = customer["status"]
            if before == status:
                return _Outcome(False, None, {"from": before, "to": status})
            if before == "cancelled":
                raise BillingRefused(f"{scrub(number)} is cancelled: it cannot become {status} again")
            await conn.execute(
                """UPDATE boss.customers
                      SET status = $2, cancelled_at = CASE WHEN $2 = 'cancelled' THEN now() END
                    WHERE msisdn = $1""",
                number,
                status,
            )
            return _Outcome(True, None, {"from": before, "to": status})

        return await self._act("set_status", idempotency_key, number, {"status": status}, perform)

    async def change_plan(self, msisdn: str, plan_code: str, idempotency_key: str) -> ActionReceipt:
        """Move the number to another tariff plan of the same account type (e.g. SZX-58 -> SZX-18)."""
        number = _msisdn(msisdn)
        code = _code(plan_code, "tariff plan")

        async def perform(conn: asyncpg.Connection) -> _Outcome:
            customer = await _lock_customer(conn, number)
            plan = await conn.fetchrow("SELECT account_type FROM boss.tariff_plans WHERE code = $1", code)
            if plan is None:
                raise UnknownTariffPlan(f"no tariff plan {code} in the billing system")
            before = customer["plan_code"]
            if before == code:
                return _Outcome(False, None, {"from": before, "to": code})
            if customer["status"] == "cancelled":
                raise BillingRefused(f"{scrub(number)} is cancelled: its plan cannot change")
            if plan["account_type"] != customer["account_type"]:
                raise BillingRefused(
                    f"{code} is a {plan['account_type']} plan; this number is {customer['account_type']}"
                )
            await conn.execute("UPDATE boss.customers SET plan_code = $2 WHERE msisdn = $1", number, code)
            return _Outcome(True, None, {"from": before, "to": code})

        return await self._act("change_plan", idempotency_key, number, {"plan_code": code}, perform)

    # --- the idempotent write, shared ------------------------------------------------------------

    async def _act(
        self,
        action: str,
        idempotency_key: str,
        msisdn: str | None,
        request: dict[str, Any],
        perform: Callable[[asyncpg.Connection], Awaitable[_Outcome]],
    ) -> ActionReceipt:
        """Run `perform` and record its outcome under the key, in one transaction, unless already done."""
        key = _key(idempotency_key)
        fingerprint = {"msisdn": msisdn, **request}
        async with self._pool.acquire() as conn, conn.transaction():
            await _lock_key(conn, key)
            first = await conn.fetchrow(
                "SELECT *, request::text AS request_text, details::text AS details_text"
                " FROM boss.actions WHERE idempotency_key = $1",
                key,
            )
            if first is not None:
                if first["action"] != action or not _same_request(first["request_text"], fingerprint):
                    raise IdempotencyConflict(
                        f"idempotency key {scrub(key)!r} was already used for another request ({first['action']}"
                        f" on {scrub(first['msisdn'] or '-')}): use a new key for a new request"
                    )
                return ActionReceipt(
                    action=action,
                    idempotency_key=key,
                    msisdn=msisdn,
                    effective=False,
                    reference=first["reference"],
                    details=json.loads(first["details_text"]),
                    applied_at=first["applied_at"],
                )
            if await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM boss.adjustment_ledger WHERE idempotency_key = $1)", key
            ):
                raise IdempotencyConflict(f"idempotency key {scrub(key)!r} was already used for an adjustment")
            outcome = await perform(conn)
            applied_at = await conn.fetchval(
                """INSERT INTO boss.actions (idempotency_key, action, msisdn, request, effective, reference,
                       details)
                   VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7::jsonb) RETURNING applied_at""",
                key,
                action,
                msisdn,
                _json(fingerprint),
                outcome.effective,
                outcome.reference,
                _json(outcome.details),
            )
            return ActionReceipt(
                action=action,
                idempotency_key=key,
                msisdn=msisdn,
                effective=outcome.effective,
                reference=outcome.reference,
                details=json.loads(_json(outcome.details)),
                applied_at=applied_at,
            )


# --- helpers used inside a transaction ------------------------------------------------------------


def _unknown(msisdn: str) -> UnknownCustomer:
    return UnknownCustomer(f"no customer with number {scrub(msisdn)} in the billing system")


async def _require_customer(conn: asyncpg.Connection, msisdn: str) -> None:
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM boss.customers WHERE msisdn = $1)", msisdn):
        raise _unknown(msisdn)


async def _lock_customer(conn: asyncpg.Connection, msisdn: str) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM boss.customers WHERE msisdn = $1 FOR UPDATE", msisdn)
    if row is None:
        raise _unknown(msisdn)
    return row


async def _lock_key(conn: asyncpg.Connection, key: str) -> None:
    # Two calls with one key take turns: the second waits for the first to commit, then finds its result.
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", _KEY_LOCK_CLASS, key)


async def _refuse_key_used_by_action(conn: asyncpg.Connection, key: str, action: str) -> None:
    used_by = await conn.fetchval("SELECT action FROM boss.actions WHERE idempotency_key = $1", key)
    if used_by is not None:
        raise IdempotencyConflict(
            f"idempotency key {scrub(key)!r} was already used for {used_by}, not {action}"
        )


async def _end_subscription(conn: asyncpg.Connection, msisdn: str, sp_code: str) -> datetime | None:
    """End an active subscription and return when; None if it had already ended."""
    ended: datetime | None = await conn.fetchval(
        """UPDATE boss.sp_subscriptions SET status = 'unsubscribed', ended_at = now()
            WHERE msisdn = $1 AND sp_code = $2 AND status = 'active' RETURNING ended_at""",
        msisdn,
        sp_code,
    )
    if ended is None and not await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM boss.sp_subscriptions WHERE msisdn = $1 AND sp_code = $2)",
        msisdn,
        sp_code,
    ):
        raise UnknownSubscription(f"{scrub(msisdn)} has no subscription to {sp_code}")
    return ended


async def _adjust(
    conn: asyncpg.Connection, customer: asyncpg.Record, request: AdjustmentRequest
) -> tuple[int, int, date | None]:
    """Apply the request's effect to the locked customer row; return balance, arrears, validity after."""
    number = scrub(request.msisdn)
    balance, arrears, validity = customer["balance_fen"], customer["arrears_fen"], customer["validity_until"]
    status = customer["status"]
    if request.kind in ("refund", "double_refund"):
        if status == "cancelled":
            raise BillingRefused(f"{number} is cancelled: a refund cannot be credited to it")
        balance += request.amount_fen
    elif request.kind == "arrears_waiver":
        if request.amount_fen != arrears:
            raise BillingRefused(
                f"{number} owes {format_yuan(arrears)}, not {format_yuan(request.amount_fen)}:"
                " a waiver waives the arrears as they are"
            )
        arrears = 0
    elif request.kind == "validity_extension":
        assert request.validity_until is not None
        if customer["account_type"] != "prepaid":
            raise BillingRefused(f"{number} is postpaid: it has no balance validity to extend")
        if status == "cancelled":
            raise BillingRefused(f"{number} is cancelled: its validity cannot be extended")
        if validity is not None and request.validity_until < validity:
            raise BillingRefused(
                f"the validity of {number} runs to {validity}: {request.validity_until} would shorten it"
            )
        validity = request.validity_until
    elif request.kind == "sp_unsubscription":
        assert request.sp_code is not None
        # Already ended (say, by the customer's other complaint) is the state asked for: the ledger
        # still records this complaint's request, and the case carries on instead of failing.
        await _end_subscription(conn, request.msisdn, request.sp_code)
    await conn.execute(
        "UPDATE boss.customers SET balance_fen = $2, arrears_fen = $3, validity_until = $4 WHERE msisdn = $1",
        request.msisdn,
        balance,
        arrears,
        validity,
    )
    return balance, arrears, validity


def _citations_json(citations: Sequence[Citation]) -> str:
    return json.dumps([c.model_dump(mode="json") for c in citations], ensure_ascii=False)


async def _check_citations(conn: asyncpg.Connection, request: AdjustmentRequest) -> None:
    """Refuse citations of records the billing system does not hold as cited, or charges of another number."""
    for citation in request.citations:
        content = await _fetch_record(conn, citation.kind, citation.record_id)
        if content is None:
            raise InvalidBillingRequest(f"the billing system holds no {citation.kind} {scrub(citation.record_id)}")
        if record_hash(content) != citation.sha256:
            raise InvalidBillingRequest(
                f"{citation.kind} {scrub(citation.record_id)} is not what was cited: its content hash differs"
            )
        if citation.role == "charge" and content.get("msisdn") != request.msisdn:
            raise InvalidBillingRequest(
                f"{citation.kind} {scrub(citation.record_id)} is not a charge of {scrub(request.msisdn)}"
            )


async def _prior_remedy(conn: asyncpg.Connection, charge_keys: list[str]) -> PriorRemedy | None:
    if not charge_keys:
        return None
    row = await conn.fetchrow(
        """SELECT r.charge_key, r.complaint_id, r.ledger_id, l.applied_at
             FROM boss.remedied_charges r JOIN boss.adjustment_ledger l ON l.id = r.ledger_id
            WHERE r.charge_key = ANY($1::text[]) AND r.released_at IS NULL
            ORDER BY r.id LIMIT 1""",
        charge_keys,
    )
    if row is None:
        return None
    return PriorRemedy(
        charge=row["charge_key"],
        complaint_id=row["complaint_id"],
        ledger_id=f"ADJ-{row['ledger_id']:06d}",
        applied_at=row["applied_at"],
    )


def _adjustment_receipt(row: asyncpg.Record, *, effective: bool) -> AdjustmentReceipt:
    return AdjustmentReceipt(
        ledger_id=f"ADJ-{row['id']:06d}",
        idempotency_key=row["idempotency_key"],
        complaint_id=row["complaint_id"],
        msisdn=row["msisdn"],
        kind=row["kind"],
        amount_fen=row["amount_fen"],
        validity_until=row["validity_until"],
        sp_code=row["sp_code"],
        reason=row["reason"],
        balance_after_fen=row["balance_after_fen"],
        arrears_after_fen=row["arrears_after_fen"],
        validity_after=row["validity_after"],
        applied_at=row["applied_at"],
        effective=effective,
        citations=json.loads(row["citations"]) if isinstance(row["citations"], str) else row["citations"],
    )


def _replayed_adjustment(row: asyncpg.Record, request: AdjustmentRequest) -> AdjustmentReceipt:
    stored = {
        field: row[field]
        for field in ("complaint_id", "msisdn", "kind", "amount_fen", "validity_until", "sp_code", "reason")
    }
    asked = request.model_dump(include=set(stored))
    if stored != asked:
        differing = sorted(field for field in stored if stored[field] != asked[field])
        raise IdempotencyConflict(
            f"idempotency key {scrub(request.idempotency_key)!r} was already used for a different adjustment"
            f" (differs in {', '.join(differing)}): use a new key for a new adjustment"
        )
    return _adjustment_receipt(row, effective=False)


def _customer(row: asyncpg.Record) -> Customer:
    return Customer(
        msisdn=row["msisdn"],
        name=row["name"],
        id_number=row["id_number"],
        status=row["status"],
        account_type=row["account_type"],
        brand=row["brand"],
        plan_code=row["plan_code"],
        sales_channel=row["sales_channel"],
        agent_code=row["agent_code"],
        opened_at=row["opened_at"],
        balance_fen=row["balance_fen"],
        validity_until=row["validity_until"],
        cancelled_at=row["cancelled_at"],
        arrears_fen=row["arrears_fen"],
        number_change_notice_active=row["notice_old_msisdn"] is not None,
        number_change_notice_old_msisdn=row["notice_old_msisdn"],
        web_sms_blocked=row["web_sms_blocked"],
        remark=row["remark"],
    )
