"""The billing port in memory, holding the very rows the sandbox is seeded with (sandboxes/boss_seed.py).

It keeps the port's rules that the contract suite checks (tests/contracts/test_billing_contract.py):
unknown numbers, one result per idempotency key, a key reused for another request refused, one remedy
per charge, the effect of each adjustment kind. Requests the workflow tests never make raise
NotImplementedError rather than answer something the real billing system would not.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from domain.billing_citations import balance_change_record
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
from domain.citations import MONEY_KINDS, Citation, charges, record_hash
from ports.billing import (
    ActionReceipt,
    AdjustmentReceipt,
    AdjustmentRequest,
    AlreadyRemedied,
    BillingRefused,
    CitedRecord,
    IdempotencyConflict,
    InvalidBillingRequest,
    LedgerEntry,
    PriorRemedy,
    UnknownAgentStore,
    UnknownCustomer,
    UnknownTariffPlan,
)
from ports.billing_checks import valid_key, valid_msisdn
from sandboxes.boss_seed import BossSeed, build_seed


class InMemoryBillingSystem:
    """`ports.billing.BillingSystem` over the seed's rows, changed in memory by the writes."""

    def __init__(self, anchor: date, seed: BossSeed | None = None) -> None:
        seed = seed or build_seed(anchor)
        self._seed = seed
        self._customers = {row.msisdn: row._asdict() for row in seed.customers}
        self._notices = {row.msisdn: row._asdict() for row in seed.notices if row.active}
        self._calls = [CallRecord(id=n, **row._asdict()) for n, row in enumerate(seed.calls, start=1)]
        self._ledger: dict[str, AdjustmentReceipt] = {}
        self._actions: dict[str, tuple[str, dict[str, Any], ActionReceipt]] = {}
        self._remedied: dict[str, PriorRemedy] = {}

    # --- reads -----------------------------------------------------------------------------------

    async def get_customer(self, msisdn: str) -> Customer:
        """The customer with this number."""
        row = self._customer_row(msisdn)
        notice = self._notices.get(row["msisdn"])
        fields = {name: value for name, value in row.items() if name != "is_reference"}
        return Customer(
            **fields,
            number_change_notice_active=notice is not None,
            number_change_notice_old_msisdn=None if notice is None else notice["old_msisdn"],
            web_sms_blocked=False,
        )

    async def monthly_bills(self, msisdn: str, months: int = 6) -> list[MonthlyBill]:
        """The open bill, then up to `months` closed ones, newest first."""
        number = self._customer_row(msisdn)["msisdn"]
        bills = sorted(
            (MonthlyBill(**row._asdict()) for row in self._seed.bills if row.msisdn == number),
            key=lambda bill: bill.period_start,
            reverse=True,
        )
        return [bill for bill in bills if not bill.closed] + [bill for bill in bills if bill.closed][:months]

    async def call_records(self, msisdn: str, since: datetime, until: datetime) -> list[CallRecord]:
        """The number's calls that started in [since, until), oldest first."""
        number = self._customer_row(msisdn)["msisdn"]
        if since > until:
            raise InvalidBillingRequest("since is after until")
        found = [c for c in self._calls if c.msisdn == number and since <= c.started_at < until]
        return sorted(found, key=lambda call: (call.started_at, call.id))

    async def counterpart_call_records(
        self, msisdn: str, other_party: str, since: datetime, until: datetime
    ) -> list[CallRecord]:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("counterpart_call_records")

    async def daily_charges(
        self, msisdn: str, period_start: date, period_end: date, channel: Channel
    ) -> list[DailyCharge]:
        """The charges per day as `channel` shows them."""
        number = self._customer_row(msisdn)["msisdn"]
        rows = [
            DailyCharge(**row._asdict())
            for row in self._seed.daily_charges
            if row.msisdn == number and row.channel == channel and period_start <= row.day <= period_end
        ]
        return sorted(rows, key=lambda row: row.day)

    async def reference_numbers(self, exclude: str | Iterable[str] = (), limit: int = 2) -> list[str]:
        """Active reference numbers, excluding `exclude`."""
        excluded = {exclude} if isinstance(exclude, str) else set(exclude)
        found = sorted(
            number
            for number, row in self._customers.items()
            if row["is_reference"] and row["status"] == "active" and number not in excluded
        )
        return found[:limit]

    async def current_period(self, msisdn: str) -> BillingPeriod:
        """The current billing period so far."""
        self._customer_row(msisdn)
        return BillingPeriod(self._seed.period_start, self._seed.anchor)

    async def balance_history(self, msisdn: str) -> list[BalanceChange]:
        """Every change of the balance, oldest first."""
        number = self._customer_row(msisdn)["msisdn"]
        rows = [row for row in self._seed.balance_changes if row.msisdn == number]
        return [
            BalanceChange(**{k: v for k, v in row._asdict().items() if k != "msisdn"})
            for row in sorted(rows, key=lambda row: row.at)
        ]

    async def sp_subscriptions(self, msisdn: str) -> list[SpSubscription]:
        """Every SP subscription, oldest first."""
        number = self._customer_row(msisdn)["msisdn"]
        rows = sorted(
            (r for r in self._seed.subscriptions if r.msisdn == number), key=lambda r: (r.subscribed_at, r.sp_code)
        )
        return [SpSubscription(**{k: v for k, v in row._asdict().items() if k != "msisdn"}) for row in rows]

    async def received_sms_sources(self, msisdn: str) -> list[ReceivedSmsSource]:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("received_sms_sources")

    async def tariff_plan(self, code: str) -> TariffPlan:
        """The tariff plan with this code."""
        for row in self._seed.plans:
            if row.code == code:
                return TariffPlan(**row._asdict())
        raise UnknownTariffPlan(f"no tariff plan {code} in the billing system")

    async def agent_store(self, code: str) -> AgentStore:
        """The agent store with this code."""
        for row in self._seed.agents:
            if row.code == code:
                return AgentStore(**row._asdict())
        raise UnknownAgentStore(f"no agent store {code} in the billing system")

    async def last_usage(self, msisdn: str) -> CallRecord | None:
        """The most recent call on the number."""
        number = self._customer_row(msisdn)["msisdn"]
        calls = [c for c in self._calls if c.msisdn == number]
        return max(calls, key=lambda call: (call.started_at, call.id), default=None)

    async def prior_remedy(self, citations: Sequence[Citation]) -> PriorRemedy | None:
        """The remedy that already covers one of the cited charges, if any."""
        return next((self._remedied[c.key] for c in charges(list(citations)) if c.key in self._remedied), None)

    async def cited_records(self, citations: Sequence[Citation]) -> list[CitedRecord]:
        """Each cited record as held now, with the hash of its content."""
        found = []
        for citation in citations:
            content = self._record(citation)
            sha256 = None if content is None else record_hash(content)
            found.append(CitedRecord(citation=citation, content=content, sha256=sha256))
        return found

    async def ledger(self, complaint_ids: Sequence[str] | None = None) -> list[LedgerEntry]:
        """The adjustment ledger, oldest first."""
        return [
            LedgerEntry(**receipt.model_dump(include=set(LedgerEntry.model_fields)))
            for receipt in self._ledger.values()
            if complaint_ids is None or receipt.complaint_id in complaint_ids
        ]

    # --- writes ----------------------------------------------------------------------------------

    async def apply_adjustment(self, request: AdjustmentRequest) -> AdjustmentReceipt:
        """Write the ledger row and its effect, once per key; one remedy per charge."""
        first = self._ledger.get(request.idempotency_key)
        if first is not None:
            asked = request.model_dump(include={"complaint_id", "msisdn", "kind", "amount_fen", "reason"})
            if first.model_dump(include=set(asked)) != asked:
                raise IdempotencyConflict("the idempotency key was already used for a different adjustment")
            return first.model_copy(update={"effective": False})
        if request.idempotency_key in self._actions:
            raise IdempotencyConflict("the idempotency key was already used for an action")
        customer = self._customer_row(request.msisdn)
        for citation in request.citations:
            content = self._record(citation)
            if content is None or record_hash(content) != citation.sha256:
                raise InvalidBillingRequest(f"{citation.kind} is not what was cited")
        remedied = charges(request.citations) if request.kind in MONEY_KINDS else []
        prior = await self.prior_remedy(remedied)
        if prior is not None:
            raise AlreadyRemedied(prior)
        if request.kind in ("refund", "double_refund"):
            if customer["status"] == "cancelled":
                raise BillingRefused("the number is cancelled: a refund cannot be credited to it")
            customer["balance_fen"] += request.amount_fen
        elif request.kind == "arrears_waiver":
            if request.amount_fen != customer["arrears_fen"]:
                raise BillingRefused("a waiver waives the arrears as they are")
            customer["arrears_fen"] = 0
        elif request.kind == "validity_extension":
            customer["validity_until"] = request.validity_until
        ledger_id = f"ADJ-{len(self._ledger) + 1:06d}"
        receipt = AdjustmentReceipt(
            ledger_id=ledger_id,
            idempotency_key=request.idempotency_key,
            complaint_id=request.complaint_id,
            msisdn=request.msisdn,
            kind=request.kind,
            amount_fen=request.amount_fen,
            validity_until=request.validity_until,
            sp_code=request.sp_code,
            reason=request.reason,
            balance_after_fen=customer["balance_fen"],
            arrears_after_fen=customer["arrears_fen"],
            validity_after=customer["validity_until"],
            applied_at=datetime.now(UTC),
            effective=True,
            citations=request.citations,
        )
        self._ledger[request.idempotency_key] = receipt
        for charge in remedied:
            self._remedied[charge.key] = PriorRemedy(
                charge=charge.key, complaint_id=request.complaint_id, ledger_id=ledger_id, applied_at=receipt.applied_at
            )
        return receipt

    async def cancel_number_change_notice(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Cancel the active number-change notice; not effective if none was."""
        number = self._customer_row(msisdn)["msisdn"]

        def perform() -> tuple[bool, str | None, dict[str, Any]]:
            notice = self._notices.pop(number, None)
            if notice is None:
                return False, None, {"notice_was_active": False}
            details = {
                "notice_was_active": True,
                "old_msisdn": notice["old_msisdn"],
                "old_carrier": notice["old_carrier"],
            }
            return True, "NCN-000001", details

        return self._act("cancel_number_change_notice", idempotency_key, number, {}, perform)

    async def settle_arrears(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """The customer pays the arrears in full."""
        customer = self._customer_row(msisdn)

        def perform() -> tuple[bool, str | None, dict[str, Any]]:
            owed = customer["arrears_fen"]
            if owed == 0:
                return False, None, {"amount_fen": 0}
            customer["arrears_fen"] = 0
            return True, f"PAY-{len(self._actions) + 1:06d}", {"amount_fen": owed}

        return self._act("settle_arrears", idempotency_key, customer["msisdn"], {}, perform)

    async def unsubscribe_sp(self, msisdn: str, sp_code: str, idempotency_key: str) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("unsubscribe_sp")

    async def block_web_sms(self, msisdn: str, idempotency_key: str) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("block_web_sms")

    async def report_spam(self, msisdn: str, senders: Sequence[str], idempotency_key: str) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("report_spam")

    async def raise_incident(
        self, channel: Channel, description: str, idempotency_key: str, msisdn: str | None = None
    ) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("raise_incident")

    async def set_status(self, msisdn: str, status: CustomerStatus, idempotency_key: str) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("set_status")

    async def change_plan(self, msisdn: str, plan_code: str, idempotency_key: str) -> ActionReceipt:
        """Not faked: no orchestration test reaches it."""
        raise NotImplementedError("change_plan")

    # --- helpers ---------------------------------------------------------------------------------

    def _customer_row(self, msisdn: str) -> dict[str, Any]:
        row = self._customers.get(valid_msisdn(msisdn))
        if row is None:
            raise UnknownCustomer("no customer with this number in the billing system")
        return row

    def _act(self, action: str, key: str, msisdn: str, request: dict[str, Any], perform: Any) -> ActionReceipt:
        valid_key(key)
        fingerprint = json.loads(json.dumps({"msisdn": msisdn, **request}, default=str))
        if key in self._ledger:
            raise IdempotencyConflict("the idempotency key was already used for an adjustment")
        if key in self._actions:
            first_action, first_request, receipt = self._actions[key]
            if (first_action, first_request) != (action, fingerprint):
                raise IdempotencyConflict(f"the idempotency key was already used for another request ({first_action})")
            return receipt.model_copy(update={"effective": False})
        effective, reference, details = perform()
        receipt = ActionReceipt(
            action=action,
            idempotency_key=key,
            msisdn=msisdn,
            effective=effective,
            reference=reference,
            details=details,
            applied_at=datetime.now(UTC),
        )
        self._actions[key] = (action, fingerprint, receipt)
        return receipt

    def _record(self, citation: Citation) -> dict[str, Any] | None:
        """The content of a cited record as the cite_* helpers hash it (the kinds the fakes' stories cite)."""
        if citation.kind == "cdr":
            call = next((c for c in self._calls if str(c.id) == citation.record_id), None)
            return None if call is None else call.model_dump(mode="json")
        if citation.kind == "balance_change":
            number = citation.record_id.split("/")[0]
            for row in self._seed.balance_changes:
                change = BalanceChange(**{k: v for k, v in row._asdict().items() if k != "msisdn"})
                if row.msisdn == number and f"{number}/{change.at.isoformat()}/{change.kind}" == citation.record_id:
                    return balance_change_record(number, change)
        return None
