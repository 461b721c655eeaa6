"""The billing-system (BOSS) port: what the playbooks may ask of it, and what it answers.

Playbook activities depend on `BillingSystem` only; adapters/billing serves it from the `boss` schema of
PostgreSQL, tests/fakes/billing.py from memory, and a real BOSS gateway would be another class with the
same methods.

Every write takes an idempotency key (complaint id + step). The first call with a key does the work
and records its result; any later call with the same key does nothing more and returns that first
result with `effective=False`. Reusing a key for a different request is refused (IdempotencyConflict).

Errors: every `BillingError` is a business answer that retrying will not change (the activity should
fail non-retryably); connection problems surface as the adapter's I/O errors, which a retry may cure.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Protocol

from domain.billing_records import (
    AgentStore,
    BalanceChange,
    BillingPeriod,
    CallRecord,
    Channel,
    Customer,
    CustomerStatus,
    DailyCharge,
    MonthlyBill,
    ReceivedSmsSource,
    SpSubscription,
    TariffPlan,
)
from domain.citations import Citation
from ports.billing_errors import (
    AlreadyRemedied,
    BillingError,
    BillingRefused,
    IdempotencyConflict,
    InvalidBillingRequest,
    NotFound,
    PriorRemedy,
    UnknownAgentStore,
    UnknownCustomer,
    UnknownSubscription,
    UnknownTariffPlan,
)
from ports.billing_requests import ActionReceipt, AdjustmentReceipt, AdjustmentRequest, CitedRecord, LedgerEntry

__all__ = [
    "ActionReceipt",
    "AdjustmentReceipt",
    "AdjustmentRequest",
    "AlreadyRemedied",
    "BillingError",
    "BillingRefused",
    "BillingSystem",
    "CitedRecord",
    "IdempotencyConflict",
    "InvalidBillingRequest",
    "LedgerEntry",
    "NotFound",
    "PriorRemedy",
    "UnknownAgentStore",
    "UnknownCustomer",
    "UnknownSubscription",
    "UnknownTariffPlan",
]


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

