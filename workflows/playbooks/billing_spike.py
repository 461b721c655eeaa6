"""billing_spike: this month's bill is 4x the usual one (13666778765: 58.20 yuan of long calls yesterday).

Query the bills and the period's calls, flag the calls far outside the customer's pattern (the rule is in
domain.playbooks.billing_spike), offer to compare them with the other party's own records: if they
agree, explain and advise (the flip phone did not hang up); if they disagree, refund the difference.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, BillsQuery, CallRecordsQuery, CounterpartQuery
    from domain import events as ev
    from domain.billing_citations import cite_bill, cite_call
    from domain.billing_records import CallRecord, MonthlyBill
    from domain.masking import mask_msisdn
    from domain.money import format_yuan
    from domain.playbooks.billing_spike import (
        ADVICE,
        RECORDS_AGREE,
        CallPattern,
        CounterpartComparison,
        compare_with_counterpart,
        find_unusual_calls,
        local_window,
        measure_spike,
    )
    from domain.playbooks.billing_spike_words import (
        declined_summary,
        matches_usage_summary,
        records_agree_summary,
        refund_ending,
    )
    from ports.billing_errors import UnknownCustomer
    from workflows.case import Case, failed_with
    from workflows.playbooks.settle import settle

COMPARE_QUESTION = "compare-with-other-party"
BILLS, CALLS, COUNTERPART = "monthly-bills", "call-records", "counterpart-records"


async def run(case: Case) -> None:
    """Billing spike: flag calls far outside the customer's pattern, check them with the other party."""
    await case.link_open_duplicates()
    msisdn = case.current.msisdn
    bills = await case.call(BillingActivities.monthly_bills, BillsQuery(msisdn=msisdn, months=6))
    spike = measure_spike(bills)
    case.record(ev.EvidenceRecorded, step=BILLS, summary=spike.describe(), facts=spike.facts())

    period_from, period_until = local_window(spike.current_start, spike.current_end)
    usual: list[CallRecord] = []
    if spike.usual_from is not None:
        usual_from, _ = local_window(spike.usual_from, spike.usual_from)
        usual = await case.call(
            BillingActivities.call_records,
            CallRecordsQuery(msisdn=msisdn, since=usual_from, until=period_from),
        )
    current = await case.call(
        BillingActivities.call_records, CallRecordsQuery(msisdn=msisdn, since=period_from, until=period_until)
    )
    pattern = find_unusual_calls(usual, current)
    case.record(ev.EvidenceRecorded, step=CALLS, summary=pattern.describe(), facts=pattern.facts())
    await case.save_before_step()

    if not pattern.flagged:
        case.record(
            ev.DecisionRecorded,
            decision="no unusual calls",
            reason="every call this period fits the customer's usual pattern: the bill follows the usage",
            evidence_steps=[BILLS, CALLS],
        )
        case.record(
            ev.ComplaintResolved,
            outcome="bill_matches_usage",
            summary=matches_usage_summary(spike, pattern),
        )
        return

    case.record(
        ev.DecisionRecorded,
        decision="offer a comparison with the other party's records",
        reason=f"{format_yuan(pattern.flagged_fen)} of the bill comes from calls far longer than usual; the "
        "customer says they were short: the other party's switch keeps its own record of each call",
        evidence_steps=[BILLS, CALLS],
    )
    answer = await case.ask_customer(
        COMPARE_QUESTION,
        f"{len(pattern.flagged)} long calls cost {format_yuan(pattern.flagged_fen)}. Shall we compare them "
        "with the other party's own call records?",
        ["yes", "no"],
    )
    if not case.current.is_open:
        return  # withdrawn while we waited
    if answer != "yes":
        case.record(
            ev.DecisionRecorded,
            decision="explain without a comparison",
            reason="the customer did not want the other party's records compared",
            evidence_steps=[BILLS, CALLS],
        )
        _advise(case)
        case.record(
            ev.ComplaintResolved,
            outcome="charges_explained",
            summary=declined_summary(pattern),
        )
        return
    await _compare_and_settle(case, pattern, period_from, period_until, current, bills)


async def _compare_and_settle(
    case: Case,
    pattern: CallPattern,
    since: datetime,
    until: datetime,
    current: list[CallRecord],
    bills: list[MonthlyBill],
) -> None:
    msisdn = case.current.msisdn
    records: dict[str, list[CallRecord]] = {}
    unavailable: list[str] = []
    for party in pattern.other_parties:
        try:
            records[party] = await case.call(
                BillingActivities.counterpart_call_records,
                CounterpartQuery(msisdn=msisdn, other_party=party, since=since, until=until),
            )
        except ActivityError as error:
            if not failed_with(error, UnknownCustomer):
                raise
            unavailable.append(party)  # another carrier's customer: its records are not ours to read
    comparison = compare_with_counterpart(pattern.flagged, records, unavailable)
    case.record(
        ev.EvidenceRecorded, step=COUNTERPART, summary=comparison.describe(), facts=comparison.facts()
    )
    await case.save_before_step()

    if comparison.disputed_fen > 0:
        await _refund(case, comparison, current, records, bills)
        return
    if comparison.unverifiable:
        parties = ", ".join(sorted({mask_msisdn(c.other_party) for c in comparison.unverifiable}))
        case.record(
            ev.DecisionRecorded,
            decision="ask the other carrier for its records",
            reason=f"the other party ({parties}) is another carrier's customer: its records must be requested",
            evidence_steps=[CALLS, COUNTERPART],
        )
        case.record(
            ev.ComplaintResolved,
            outcome="comparison_unavailable",
            summary=f"{comparison.describe()}. No refund until the other carrier's records show a difference.",
        )
        return
    case.record(
        ev.DecisionRecorded,
        decision="no refund: the records agree",
        reason=RECORDS_AGREE,
        evidence_steps=[CALLS, COUNTERPART],
    )
    _advise(case)
    case.record(
        ev.ComplaintResolved,
        outcome="charges_explained",
        summary=records_agree_summary(pattern, comparison),
    )


def _advise(case: Case) -> None:
    # The seed's lesson: one more reminder, one more action, after the explanation.
    case.record(ev.NoteAdded, text=f"Advice to the customer: {ADVICE}")


async def _refund(
    case: Case,
    comparison: CounterpartComparison,
    current: list[CallRecord],
    counterpart: dict[str, list[CallRecord]],
    bills: list[MonthlyBill],
) -> None:
    amount_fen, found = comparison.disputed_fen, comparison.describe()
    case.record(
        ev.DecisionRecorded,
        decision=f"refund {format_yuan(amount_fen)}",
        reason=comparison.refund_reason(),
        evidence_steps=[CALLS, COUNTERPART],
    )
    disputed = set(comparison.disputed_call_ids)
    citations = [cite_call(call, "charge") for call in current if call.id in disputed]
    citations += [cite_call(call) for records in counterpart.values() for call in records]
    citations += [cite_bill(bill) for bill in bills if not bill.closed]
    await settle(
        case, "refund", amount_fen, f"call charges beyond the other party's records ({found})",
        citations=citations, evidence_steps=[CALLS, COUNTERPART],
        ending=lambda adjustment, refusal: refund_ending(adjustment, refusal, found),
    )
