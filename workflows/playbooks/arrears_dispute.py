"""arrears_dispute: my cancelled prepaid number can't owe 20-odd yuan (13967341014).

Show where the arrears come from (the account, its last call, the balance history), then let the
customer choose: pay them (and perhaps buy a new number), or dispute them, in which case a supervisor
decides on a waiver. A refused waiver is a recorded decision with the supervisor's reason.
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, BillingCommand, MsisdnQuery
    from domain import events as ev
    from domain.billing_citations import cite_balance_change, cite_call
    from domain.billing_records import BalanceChange, CallRecord
    from domain.citations import Citation
    from domain.playbooks.arrears_dispute import (
        NEW_NUMBER,
        NO_ANSWER_REASON,
        NOTHING_OWED_REASON,
        SETTLE_OPTIONS,
        SETTLE_QUESTION,
        ArrearsExplanation,
        account_summary,
        explain_arrears,
        last_usage_summary,
        settle_question,
        settlement_choice,
        settlement_result,
        waiver_ending,
        waiver_reason,
    )
    from workflows.case import Case
    from workflows.playbooks.settle import settle

ACCOUNT, LAST_USAGE, HISTORY = "account", "last-usage", "balance-history"
EVIDENCE = [ACCOUNT, LAST_USAGE, HISTORY]


async def run(case: Case) -> None:
    """Arrears dispute: show where the arrears come from, let the customer pay or dispute them, settle."""
    await case.link_open_duplicates()
    query = MsisdnQuery(msisdn=case.current.msisdn)
    account = await case.call(BillingActivities.get_customer, query)
    case.record(
        ev.EvidenceRecorded,
        step=ACCOUNT,
        summary=account_summary(account.account_type, account.brand, account.status, account.arrears_fen),
        facts={
            "status": account.status,
            "account_type": account.account_type,
            "brand": account.brand,
            "arrears_fen": account.arrears_fen,
            "cancelled_at": account.cancelled_at.isoformat() if account.cancelled_at else None,
        },
    )
    last_call = await case.call(BillingActivities.last_usage, query)
    history = await case.call(BillingActivities.balance_history, query)
    explanation = explain_arrears(account, last_call, history)
    case.record(
        ev.EvidenceRecorded,
        step=LAST_USAGE,
        summary=last_usage_summary(
            explanation, last_call.other_party if last_call else None, last_call.charge_fen if last_call else 0
        ),
        facts={key: value for key, value in explanation.facts().items() if key.startswith("last_call")},
    )
    case.record(
        ev.EvidenceRecorded,
        step=HISTORY,
        summary=explanation.describe(),
        facts={
            "lines": len(history),
            "final_balance_fen": explanation.final_balance_fen,
            "accounted": explanation.accounted,
            "balance_before_last_call_fen": explanation.balance_before_last_call_fen,
        },
    )
    await case.save_before_step()

    if not explanation.owes:
        case.record(
            ev.DecisionRecorded,
            decision="nothing owed",
            reason=NOTHING_OWED_REASON,
            evidence_steps=[ACCOUNT],
        )
        case.record(
            ev.ComplaintResolved, outcome="no_arrears", summary=f"{explanation.describe()}; {NEW_NUMBER}."
        )
        return
    case.record(
        ev.DecisionRecorded,
        decision="show the customer where the arrears come from",
        reason=explanation.describe(),
        evidence_steps=EVIDENCE,
    )
    answer = await case.ask_customer(
        SETTLE_QUESTION,
        settle_question(explanation),
        SETTLE_OPTIONS,
    )
    if not case.current.is_open:
        return  # withdrawn while we waited
    choice = settlement_choice(answer)
    if choice == "pay":
        await _settle(case, explanation)
    elif choice == "dispute":
        await _waive(case, explanation, _arrears_citations(case.current.msisdn, last_call, history))
    else:
        case.record(
            ev.DecisionRecorded,
            decision="arrears stand",
            reason=NO_ANSWER_REASON,
            evidence_steps=EVIDENCE,
        )
        case.record(
            ev.ComplaintResolved,
            outcome="arrears_outstanding",
            summary=f"{explanation.describe()}. The customer did not say whether they pay or dispute.",
        )


async def _settle(case: Case, explanation: ArrearsExplanation) -> None:
    key = case.key("settle-arrears")
    receipt = await case.call(
        BillingActivities.settle_arrears, BillingCommand(msisdn=case.current.msisdn, idempotency_key=key)
    )
    case.record(
        ev.BillingActionApplied,
        action="settle_arrears",
        idempotency_key=key,
        effective=receipt.effective,
        details={"reference": receipt.reference, **receipt.details},
    )
    # From the stored first outcome (details, reference), which a retried call gets back word for word.
    outcome, summary = settlement_result(int(receipt.details.get("amount_fen", 0)), receipt.reference, NEW_NUMBER)
    case.record(ev.ComplaintResolved, outcome=outcome, summary=summary)


def _arrears_citations(msisdn: str, last_call: CallRecord | None, history: list[BalanceChange]) -> list[Citation]:
    """The charge is the last call that ran the balance below zero (or, without one, the last usage line)."""
    usage = [line for line in history if line.kind == "usage"]
    citations = [cite_balance_change(msisdn, line) for line in history]
    if last_call is not None:
        return [cite_call(last_call, "charge"), *citations]
    if usage:
        charged = usage[-1]
        return [cite_balance_change(msisdn, line, "charge" if line is charged else "evidence") for line in history]
    return citations


async def _waive(case: Case, explanation: ArrearsExplanation, citations: list[Citation]) -> None:
    case.record(
        ev.DecisionRecorded,
        decision="propose a waiver",
        reason="the customer disputes the arrears; a waiver needs a supervisor's approval",
        evidence_steps=EVIDENCE,
    )
    await settle(
        case, "arrears_waiver", explanation.arrears_fen, waiver_reason(explanation),
        citations=citations, evidence_steps=EVIDENCE, ending=waiver_ending,
    )
