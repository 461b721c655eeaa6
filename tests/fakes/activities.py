"""Same-named fakes of the engine's activities (the samples-python way), over the in-memory ports.

Each fake is registered under the real activity's name, takes its input model and gives its result
model, so ComplaintWorkflow runs unchanged on a worker that touches neither PostgreSQL nor the partner
sandbox. Refusals fail as the real activities fail them (activities.errors.permanent), so the workflow's
decisions on failures are what is tested. Only the activities the orchestration tests reach are faked;
another would fail the test with "activity not registered", not answer wrongly.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date
from typing import Any

from temporalio import activity

from activities.billing import AdjustmentCommand, AdjustmentOutcome, BillingCommand, CitationsQuery, MsisdnQuery
from activities.cases import OpenCasesQuery
from activities.errors import permanent
from activities.event_store import AppendEventsInput, LoadEventsInput
from activities.notifications import SaveAndNotifyInput
from activities.pending import Pending
from activities.policy import PolicyRequest
from domain.billing_records import BalanceChange, CallRecord, Customer
from domain.events import AnyEvent
from domain.policy import CasePolicy, Policy
from ports.billing import ActionReceipt, AlreadyRemedied, BillingError, PriorRemedy
from ports.notifications import Notification
from ports.partners import CancelForwardingRequest, CancelForwardingResult, PartnerError
from tests.fakes.billing import InMemoryBillingSystem
from tests.fakes.event_store import InMemoryEventStore
from tests.fakes.notifications import InMemoryNotifier
from tests.fakes.partners import InMemoryPartnerCarriers


@contextlib.contextmanager
def _refusals_are_permanent() -> Iterator[None]:
    try:
        yield
    except (BillingError, PartnerError) as error:
        if getattr(error, "retryable", False):
            raise
        raise permanent(error) from error


class FakeActivities:
    """The fakes and the in-memory ports they act on, for the test to inspect afterwards."""

    def __init__(self, anchor: date, policy: Policy | None = None) -> None:
        self.store = InMemoryEventStore()
        self.billing = InMemoryBillingSystem(anchor)
        self.partners = InMemoryPartnerCarriers()
        self.notifier = InMemoryNotifier()
        self.policy = policy or Policy(version="fake-policy")
        self.called: list[str] = []

    def all(self) -> list[Any]:
        """Every fake, for the worker to register."""
        return [
            getattr(self, name)
            for name in dir(type(self))
            if hasattr(getattr(type(self), name), "__temporal_activity_definition")
        ]

    def _called(self) -> None:
        self.called.append(activity.info().activity_type)

    async def _step(self, pending: Pending) -> None:
        """A business step: the case's pending events are saved first, as activities.pending does."""
        self._called()
        if pending is not None:
            await self.store.append(pending.complaint_id, pending.events)

    @activity.defn(name="append_events")
    async def append_events(self, request: AppendEventsInput) -> int:
        self._called()
        return (await self.store.append(request.complaint_id, request.events)).last_seq

    @activity.defn(name="load_events")
    async def load_events(self, request: LoadEventsInput) -> list[AnyEvent]:
        self._called()
        return await self.store.load(request.complaint_id)  # type: ignore[return-value]

    @activity.defn(name="current_policy")
    async def current_policy(self, request: PolicyRequest) -> CasePolicy:
        self._called()
        return self.policy.for_case(request.category, request.priority)

    @activity.defn(name="open_cases_like")
    async def open_cases_like(self, query: OpenCasesQuery, pending: Pending = None) -> list[str]:
        await self._step(pending)
        return []

    @activity.defn(name="notify")
    async def notify(self, notification: Notification) -> bool:
        self._called()
        return await self.notifier.notify(notification)

    @activity.defn(name="save_and_notify")
    async def save_and_notify(self, request: SaveAndNotifyInput) -> bool:
        self._called()
        await self.store.append(request.events.complaint_id, request.events.events)
        return await self.notifier.notify(request.notification)

    @activity.defn(name="cancel_forwarding")
    async def cancel_forwarding(
        self, request: CancelForwardingRequest, pending: Pending = None
    ) -> CancelForwardingResult:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.partners.cancel_forwarding(request)

    @activity.defn(name="get_customer")
    async def get_customer(self, query: MsisdnQuery, pending: Pending = None) -> Customer:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.get_customer(query.msisdn)

    @activity.defn(name="last_usage")
    async def last_usage(self, query: MsisdnQuery, pending: Pending = None) -> CallRecord | None:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.last_usage(query.msisdn)

    @activity.defn(name="balance_history")
    async def balance_history(self, query: MsisdnQuery, pending: Pending = None) -> list[BalanceChange]:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.balance_history(query.msisdn)

    @activity.defn(name="prior_remedy")
    async def prior_remedy(self, query: CitationsQuery, pending: Pending = None) -> PriorRemedy | None:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.prior_remedy(query.citations)

    @activity.defn(name="apply_adjustment")
    async def apply_adjustment(self, command: AdjustmentCommand, pending: Pending = None) -> AdjustmentOutcome:
        await self._step(pending)
        with _refusals_are_permanent():
            try:
                return AdjustmentOutcome(receipt=await self.billing.apply_adjustment(command))
            except AlreadyRemedied as refusal:
                return AdjustmentOutcome(already_remedied=refusal.prior)

    @activity.defn(name="settle_arrears")
    async def settle_arrears(self, command: BillingCommand, pending: Pending = None) -> ActionReceipt:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.settle_arrears(command.msisdn, command.idempotency_key)

    @activity.defn(name="cancel_number_change_notice")
    async def cancel_number_change_notice(self, command: BillingCommand, pending: Pending = None) -> ActionReceipt:
        await self._step(pending)
        with _refusals_are_permanent():
            return await self.billing.cancel_number_change_notice(command.msisdn, command.idempotency_key)
