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

    async def get_customer(self, msisdn: str) -> Customer:
        """The customer record of the number (UnknownCustomer when there is none)."""

    async def monthly_bills(self, msisdn: str, months: int = 6) -> list[MonthlyBill]:
        """The current (open) bill first, then up to `months` closed bills, newest first."""

    async def call_records(self, msisdn: str, since: datetime, until: datetime) -> list[CallRecord]:
        """The number's own call records that started in [since, until), oldest first."""

    async def counterpart_call_records(
        self, msisdn: str, other_party: str, since: datetime, until: datetime
    ) -> list[CallRecord]:
        """The other party's own records of its calls with `msisdn` in [since, until), oldest first."""

    async def daily_charges(
        self, msisdn: str, period_start: date, period_end: date, channel: Channel
    ) -> list[DailyCharge]:
        """The charges per day as `channel` shows them, for the days it has, first to last (inclusive)."""

    async def reference_numbers(self, exclude: str | Iterable[str] = (), limit: int = 2) -> list[str]:
        """Active numbers the store may test a channel with (the terminal, the web), excluding `exclude`."""

    async def current_period(self, msisdn: str) -> BillingPeriod:
        """The number's current billing period: its first and last day."""

    async def balance_history(self, msisdn: str) -> list[BalanceChange]:
        """Every change of the balance, oldest first."""

    async def sp_subscriptions(self, msisdn: str) -> list[SpSubscription]:
        """Every SP subscription, active and ended, oldest first."""

    async def received_sms_sources(self, msisdn: str) -> list[ReceivedSmsSource]:
        """Who sent the customer messages, grouped by sender, the most frequent first."""

    async def tariff_plan(self, code: str) -> TariffPlan:
        """The tariff plan of this code (UnknownTariffPlan when there is none)."""

    async def agent_store(self, code: str) -> AgentStore:
        """The agent store of this code, which sold numbers (UnknownAgentStore when there is none)."""

    async def last_usage(self, msisdn: str) -> CallRecord | None:
        """The most recent call on the number, or None if it never made or took one."""

    async def cancel_number_change_notice(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Cancel the active number-change notice (改号通知); not effective if none was active."""

    async def apply_adjustment(self, request: AdjustmentRequest) -> AdjustmentReceipt:
        """Write the ledger row and its effect on the account in one transaction, once per key.

        The cited records must be the billing system's own, unchanged (their hashes match), and the
        cited charges must be this number's. A charge already remedied by any case raises
        AlreadyRemedied: one remedy per charge, ever, even when two cases ask at the same moment.
        """

    async def prior_remedy(self, citations: Sequence[Citation]) -> PriorRemedy | None:
        """The remedy that already covers one of the cited charges, if any (a read; apply_adjustment decides)."""

    async def cited_records(self, citations: Sequence[Citation]) -> list[CitedRecord]:
        """Each cited record as the billing system holds it now, with the hash of its content."""

    async def ledger(self, complaint_ids: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The adjustment ledger, oldest first; only these cases' rows when `complaint_ids` is given."""

    async def settle_arrears(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """The customer pays the arrears in full: a payment row (PAY-...) and arrears back to zero."""

    async def unsubscribe_sp(self, msisdn: str, sp_code: str, idempotency_key: str) -> ActionReceipt:
        """End an SP subscription; not effective if it had already ended."""

    async def block_web_sms(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Block web-originated SMS; this also stops services delivered that way (details['also_stops'])."""

    async def report_spam(
        self, msisdn: str, senders: Sequence[str], idempotency_key: str
    ) -> ActionReceipt:
        """Report point-to-point spam senders to the spam centre (10086999); `reference` is the report id."""

    async def raise_incident(
        self, channel: Channel, description: str, idempotency_key: str, msisdn: str | None = None
    ) -> ActionReceipt:
        """Report a faulty channel (e.g. the terminal missing days); `reference` is the incident id."""

    async def set_status(
        self, msisdn: str, status: CustomerStatus, idempotency_key: str
    ) -> ActionReceipt:
        """Suspend, reactivate or cancel a number. A cancelled number stays cancelled."""

    async def change_plan(self, msisdn: str, plan_code: str, idempotency_key: str) -> ActionReceipt:
        """Move the number to another tariff plan of the same account type (e.g. SZX-58 -> SZX-18)."""

