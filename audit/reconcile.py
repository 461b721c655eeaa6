"""Reconciliation: what the billing system and the partners did, against what the cases recorded.

Two ledgers are compared with the event store:
- the billing system's adjustment ledger with the `AdjustmentApplied` events: every ledger row is
  recorded by exactly the case it names, for the same kind, amount and idempotency key, and every
  event points at a ledger row that exists. A validity follow-up's row (key `<case>:follow-up:...`)
  is recorded by its case's `FollowUpScheduled` event instead, since it happens after the case closed;
- the partners' statement with the `PartnerRequestConfirmed` events: every request a partner carried
  out is confirmed in a case, and every confirmation has the partner's record behind it.

Money that moved without a case knowing it, or a case claiming money that never moved, is a mismatch.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from domain.masking import scrub as mask
from domain.money import format_yuan
from ports.billing import LedgerEntry
from ports.event_store import EventStore
from ports.partners import PartnerRecord

_FOLLOW_UP = ":follow-up:"


@dataclass(frozen=True)
class Mismatch:
    where: str  # "ledger" or "partner"
    subject: str  # the ledger row, the case event or the partner request it is about
    problem: str

    def line(self) -> str:
        """The mismatch as one line of the report."""
        return f"MISMATCH {self.where:<7} {self.subject}: {self.problem}"


@dataclass
class ReconcileReport:
    ledger_rows: int = 0
    applied_events: int = 0
    partner_records: int = 0
    confirmed_events: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether nothing disagreed."""
        return not self.mismatches


@dataclass(frozen=True)
class _Recorded:
    complaint_id: str
    seq: int
    data: dict[str, Any]

    @property
    def subject(self) -> str:
        return f"case {self.complaint_id} event {self.seq}"


async def _recorded(
    store: EventStore, types: Sequence[str], complaint_ids: Sequence[str] | None
) -> list[_Recorded]:
    found = await store.events_of_types(types, complaint_ids)
    return [_Recorded(complaint_id, link.seq, json.loads(link.payload)) for complaint_id, link in found]


def reconcile_ledger(
    ledger: Sequence[LedgerEntry], applied: Sequence[_Recorded], follow_ups: Sequence[_Recorded]
) -> list[Mismatch]:
    """Compare the billing ledger with the case events that applied money; one Mismatch per disagreement."""
    mismatches: list[Mismatch] = []
    by_ledger_id: dict[str, list[_Recorded]] = defaultdict(list)
    for event in applied:
        by_ledger_id[event.data["ledger_id"]].append(event)
    rows = {entry.ledger_id: entry for entry in ledger}
    scheduled = {event.complaint_id for event in follow_ups}

    for entry in ledger:
        what = f"ledger {entry.ledger_id} ({entry.kind} {format_yuan(entry.amount_fen)}, case {entry.complaint_id})"
        events = by_ledger_id.get(entry.ledger_id, [])
        if not events:
            if _FOLLOW_UP in entry.idempotency_key and entry.complaint_id in scheduled:
                continue
            mismatches.append(Mismatch("ledger", what, "no AdjustmentApplied event records it"))
            continue
        expected = {
            "case": entry.complaint_id,
            "kind": entry.kind,
            "amount": entry.amount_fen,
            "idempotency key": entry.idempotency_key,
        }
        for event in events:
            recorded = {
                "case": event.complaint_id,
                "kind": event.data["kind"],
                "amount": event.data["amount_fen"],
                "idempotency key": event.data["idempotency_key"],
            }
            differs = [name for name, value in expected.items() if recorded[name] != value]
            if differs:
                mismatches.append(
                    Mismatch("ledger", what, f"{event.subject} records it with another {', '.join(differs)}")
                )
        cases = {event.complaint_id for event in events}
        if len(events) > len(cases):
            mismatches.append(Mismatch("ledger", what, f"recorded {len(events)} times by one case"))

    for ledger_id, events in by_ledger_id.items():
        if ledger_id not in rows:
            for event in events:
                amount = format_yuan(int(event.data["amount_fen"]))
                mismatches.append(
                    Mismatch(
                        "ledger",
                        f"{event.subject} ({event.data['adjustment_id']}, {event.data['kind']} {amount})",
                        f"ledger {ledger_id} is not in the billing system",
                    )
                )
    return mismatches


def reconcile_partners(records: Sequence[PartnerRecord], confirmed: Sequence[_Recorded]) -> list[Mismatch]:
    """Compare the partners' records with the confirmed partner requests; one Mismatch per disagreement."""
    mismatches: list[Mismatch] = []
    by_key = {record.request_key: record for record in records}
    confirmed_keys: dict[str, list[_Recorded]] = defaultdict(list)
    for event in confirmed:
        confirmed_keys[event.data["request_key"]].append(event)

    for event in confirmed:
        key = event.data["request_key"]
        subject = f"{event.subject} ({event.data['partner']} {event.data['action']}, key {mask(key)})"
        record = by_key.get(key)
        if record is None:
            mismatches.append(Mismatch("partner", subject, "the partner has no record of this request"))
        elif (record.partner, record.action) != (event.data["partner"], event.data["action"]):
            mismatches.append(
                Mismatch("partner", subject, f"the partner recorded it as {record.partner} {record.action}")
            )
    for record in records:
        if record.request_key not in confirmed_keys:
            subject = f"{record.partner} {record.action} key {mask(record.request_key)}"
            effect = "carried out" if record.effective else "answered"
            mismatches.append(
                Mismatch("partner", subject, f"the partner {effect} it; no PartnerRequestConfirmed event records it")
            )
        elif len(confirmed_keys[record.request_key]) > 1:
            subject = f"{record.partner} {record.action} key {mask(record.request_key)}"
            times = len(confirmed_keys[record.request_key])
            mismatches.append(Mismatch("partner", subject, f"confirmed {times} times in the cases"))
    return mismatches


async def reconcile(
    store: EventStore,
    ledger: Sequence[LedgerEntry],
    partner_records: Sequence[PartnerRecord],
    *,
    complaint_ids: Sequence[str] | None = None,
) -> ReconcileReport:
    """Compare the billing ledger and the partners' statement with the cases' events.

    With `complaint_ids`, only those cases: their events, and the partner requests keyed by them
    (request keys start with the case id); `ledger` should then hold only their rows.
    """
    applied = await _recorded(store, ["AdjustmentApplied"], complaint_ids)
    follow_ups = await _recorded(store, ["FollowUpScheduled"], complaint_ids)
    confirmed = await _recorded(store, ["PartnerRequestConfirmed"], complaint_ids)
    if complaint_ids is not None:
        wanted = set(complaint_ids)
        partner_records = [r for r in partner_records if r.request_key.split(":", 1)[0] in wanted]
    report = ReconcileReport(
        ledger_rows=len(ledger),
        applied_events=len(applied),
        partner_records=len(partner_records),
        confirmed_events=len(confirmed),
    )
    report.mismatches.extend(reconcile_ledger(ledger, applied, follow_ups))
    report.mismatches.extend(reconcile_partners(partner_records, confirmed))
    return report
