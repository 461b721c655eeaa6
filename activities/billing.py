"""The billing system (BOSS): thin activities over the BillingSystem port, one input model each.

Reads return the facts a playbook keeps as evidence; writes carry the idempotency key the workflow
derives from the case and the step, so a retried activity never applies anything twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio import activity

from activities.errors import permanent
from activities.pending import Pending, SavesPendingEvents
from domain.billing_records import (
    AgentStore,
    BalanceChange,
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
from ports.billing import (
    ActionReceipt,
    AdjustmentReceipt,
    AdjustmentRequest,
    AlreadyRemedied,
    BillingError,
    BillingSystem,
    PriorRemedy,
)
from ports.event_store import EventStore

AdjustmentCommand = AdjustmentRequest


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True)


class AdjustmentOutcome(BaseModel):
    """What became of an adjustment: applied (the receipt), or not, since its charge was already remedied."""

    model_config = ConfigDict(frozen=True)

    receipt: AdjustmentReceipt | None = None
    already_remedied: PriorRemedy | None = None


class MsisdnQuery(_Input):
    msisdn: str


class BillsQuery(_Input):
    msisdn: str
    months: int = Field(default=6, ge=1, le=24)


class CallRecordsQuery(_Input):
    msisdn: str
    since: datetime
    until: datetime


class CounterpartQuery(_Input):
    msisdn: str
    other_party: str
    since: datetime
    until: datetime


class DailyChargesQuery(_Input):
    msisdn: str
    start: date
    end: date
    channel: Channel


class ReferenceNumbersQuery(_Input):
    exclude: list[str]
    limit: int = 2


class CitationsQuery(_Input):
    citations: list[Citation]


class CodeQuery(_Input):
    code: str


class Period(_Input):
    start: date
    end: date


class BillingCommand(_Input):
    msisdn: str
    idempotency_key: str


class SpamReportCommand(_Input):
    msisdn: str
    senders: list[str]
    idempotency_key: str


class IncidentCommand(_Input):
    channel: Channel
    description: str
    idempotency_key: str
    msisdn: str | None = None


class StatusCommand(_Input):
    msisdn: str
    status: CustomerStatus
    idempotency_key: str


class PlanChangeCommand(_Input):
    msisdn: str
    plan_code: str
    idempotency_key: str


@contextlib.contextmanager
def _refusals_are_permanent() -> Iterator[None]:
    """BOSS refusals (unknown number, bad request, key reused) fail at once; connection trouble retries."""
    try:
        yield
    except BillingError as error:
        raise permanent(error) from error


class BillingActivities(SavesPendingEvents):
    def __init__(self, billing: BillingSystem, store: EventStore) -> None:
        super().__init__(store)
        self._billing = billing

    @contextlib.asynccontextmanager
    async def _step(self, pending: Pending) -> AsyncIterator[None]:
        """Save the case's pending events, then run the step with the billing system's refusals made permanent."""
        await self._save_pending(pending)
        with _refusals_are_permanent():
            yield

    def all(self) -> list[Any]:
        """Every activity of this class, for the worker to register."""
        return [
            getattr(self, name)
            for name in dir(type(self))
            if not name.startswith("_") and hasattr(getattr(type(self), name), "__temporal_activity_definition")
        ]

    # --- reads -------------------------------------------------------------------------------

    @activity.defn
    async def get_customer(self, query: MsisdnQuery, pending: Pending = None) -> Customer:
        """The customer record of the number (UnknownCustomer when there is none)."""
        async with self._step(pending):
            return await self._billing.get_customer(query.msisdn)

    @activity.defn
    async def monthly_bills(self, query: BillsQuery, pending: Pending = None) -> list[MonthlyBill]:
        """The current (open) bill first, then up to `months` closed bills, newest first."""
        async with self._step(pending):
            return await self._billing.monthly_bills(query.msisdn, query.months)

    @activity.defn
    async def call_records(self, query: CallRecordsQuery, pending: Pending = None) -> list[CallRecord]:
        """The number's own call records that started in [since, until), oldest first."""
        async with self._step(pending):
            return await self._billing.call_records(query.msisdn, query.since, query.until)

    @activity.defn
    async def counterpart_call_records(self, query: CounterpartQuery, pending: Pending = None) -> list[CallRecord]:
        """The other party's own records of its calls with `msisdn` in [since, until), oldest first."""
        async with self._step(pending):
            return await self._billing.counterpart_call_records(
                query.msisdn, query.other_party, query.since, query.until
            )

    @activity.defn
    async def current_period(self, query: MsisdnQuery, pending: Pending = None) -> Period:
        """The number's current billing period: its first and last day."""
        async with self._step(pending):
            period = await self._billing.current_period(query.msisdn)
        return Period(start=period.start, end=period.end)

    @activity.defn
    async def daily_charges(self, query: DailyChargesQuery, pending: Pending = None) -> list[DailyCharge]:
        """The charges per day as `channel` shows them, for the days it has, first to last (inclusive)."""
        async with self._step(pending):
            return await self._billing.daily_charges(query.msisdn, query.start, query.end, query.channel)

    @activity.defn
    async def reference_numbers(self, query: ReferenceNumbersQuery, pending: Pending = None) -> list[str]:
        """Active numbers the store may test a channel with (the terminal, the web), excluding `exclude`."""
        async with self._step(pending):
            return await self._billing.reference_numbers(query.exclude, query.limit)

    @activity.defn
    async def balance_history(self, query: MsisdnQuery, pending: Pending = None) -> list[BalanceChange]:
        """Every change of the balance, oldest first."""
        async with self._step(pending):
            return await self._billing.balance_history(query.msisdn)

    @activity.defn
    async def sp_subscriptions(self, query: MsisdnQuery, pending: Pending = None) -> list[SpSubscription]:
        """Every SP subscription, active and ended, oldest first."""
        async with self._step(pending):
            return await self._billing.sp_subscriptions(query.msisdn)

    @activity.defn
    async def received_sms_sources(self, query: MsisdnQuery, pending: Pending = None) -> list[ReceivedSmsSource]:
        """Who sent the customer messages, grouped by sender, the most frequent first."""
        async with self._step(pending):
            return await self._billing.received_sms_sources(query.msisdn)

    @activity.defn
    async def tariff_plan(self, query: CodeQuery, pending: Pending = None) -> TariffPlan:
        """The tariff plan of this code (UnknownTariffPlan when there is none)."""
        async with self._step(pending):
            return await self._billing.tariff_plan(query.code)

    @activity.defn
    async def agent_store(self, query: CodeQuery, pending: Pending = None) -> AgentStore:
        """The agent store of this code, which sold numbers (UnknownAgentStore when there is none)."""
        async with self._step(pending):
            return await self._billing.agent_store(query.code)

    @activity.defn
    async def prior_remedy(self, query: CitationsQuery, pending: Pending = None) -> PriorRemedy | None:
        """The remedy that already covers one of the cited charges, if any (a read; apply_adjustment decides)."""
        async with self._step(pending):
            return await self._billing.prior_remedy(query.citations)

    @activity.defn
    async def last_usage(self, query: MsisdnQuery, pending: Pending = None) -> CallRecord | None:
        """The most recent call on the number, or None if it never made or took one."""
        async with self._step(pending):
            return await self._billing.last_usage(query.msisdn)

    # --- writes, each idempotent by its key ------------------------------------------------------

    @activity.defn
    async def apply_adjustment(self, command: AdjustmentCommand, pending: Pending = None) -> AdjustmentOutcome:
        """Apply once; a charge another case (or this one) already remedied is an answer, not a failure."""
        async with self._step(pending):
            try:
                return AdjustmentOutcome(receipt=await self._billing.apply_adjustment(command))
            except AlreadyRemedied as refusal:
                return AdjustmentOutcome(already_remedied=refusal.prior)

    @activity.defn
    async def cancel_number_change_notice(self, command: BillingCommand, pending: Pending = None) -> ActionReceipt:
        """Cancel the active number-change notice (改号通知); not effective if none was active."""
        async with self._step(pending):
            return await self._billing.cancel_number_change_notice(command.msisdn, command.idempotency_key)

    @activity.defn
    async def settle_arrears(self, command: BillingCommand, pending: Pending = None) -> ActionReceipt:
        """The customer pays the arrears in full: a payment row (PAY-...) and arrears back to zero."""
        async with self._step(pending):
            return await self._billing.settle_arrears(command.msisdn, command.idempotency_key)

    @activity.defn
    async def block_web_sms(self, command: BillingCommand, pending: Pending = None) -> ActionReceipt:
        """Block web-originated SMS; this also stops services delivered that way (details['also_stops'])."""
        async with self._step(pending):
            return await self._billing.block_web_sms(command.msisdn, command.idempotency_key)

    @activity.defn
    async def report_spam(self, command: SpamReportCommand, pending: Pending = None) -> ActionReceipt:
        """Report point-to-point spam senders to the spam centre (10086999); `reference` is the report id."""
        async with self._step(pending):
            return await self._billing.report_spam(command.msisdn, command.senders, command.idempotency_key)

    @activity.defn
    async def raise_incident(self, command: IncidentCommand, pending: Pending = None) -> ActionReceipt:
        """Report a faulty channel (e.g. the terminal missing days); `reference` is the incident id."""
        async with self._step(pending):
            return await self._billing.raise_incident(
                command.channel, command.description, command.idempotency_key, command.msisdn
            )

    @activity.defn
    async def set_status(self, command: StatusCommand, pending: Pending = None) -> ActionReceipt:
        """Suspend, reactivate or cancel a number. A cancelled number stays cancelled."""
        async with self._step(pending):
            return await self._billing.set_status(command.msisdn, command.status, command.idempotency_key)

    @activity.defn
    async def change_plan(self, command: PlanChangeCommand, pending: Pending = None) -> ActionReceipt:
        """Move the number to another tariff plan of the same account type (e.g. SZX-58 -> SZX-18)."""
        async with self._step(pending):
            return await self._billing.change_plan(command.msisdn, command.plan_code, command.idempotency_key)
