"""validity_shortened: "my balance validity fell from 2010-05-25 to 2008-11-26".

Read the number and its balance history (资金变化明细), find the adjustment that cut the validity,
explain it, and let the customer choose: restore the validity now, or the deferred remedy the
seed's store agreed (if the number is suspended when the validity runs out, extend it then: a
child workflow on a durable timer that outlives the case).
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.workflow import ParentClosePolicy

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, MsisdnQuery, StatusCommand
    from domain import events as ev
    from domain.billing_citations import cite_balance_change
    from domain.billing_records import BalanceChange
    from domain.clock import local_day
    from domain.playbooks.validity_shortened import (
        EXTEND_IF_SUSPENDED,
        FOLLOW_UP_NAME,
        NO_CUT_REASON,
        NO_CUT_SUMMARY,
        NO_REMEDY_REASON,
        REMEDY_OPTIONS,
        RESTORE_NOW,
        VALIDITY_REMEDY_QUESTION,
        ValidityCut,
        already_restored,
        cut_decision_reason,
        find_validity_cut,
        follow_up_due_at,
        history_summary,
        remedy_question,
        restore_ending,
    )
    from domain.remediation import Remedy
    from domain.ui_metadata import helper_summary
    from workflows.case import Case
    from workflows.playbooks.settle import settle
    from workflows.validity_follow_up import ValidityFollowUpInput, ValidityFollowUpWorkflow

CUSTOMER_STEP = "customer"
HISTORY_STEP = "balance-history"


async def run(case: Case) -> None:
    """Validity shortened: find the adjustment that cut the validity, explain it, restore it as chosen."""
    linked = await case.link_open_duplicates()
    msisdn = case.current.msisdn
    customer = await case.call(BillingActivities.get_customer, MsisdnQuery(msisdn=msisdn))
    case.record(
        ev.EvidenceRecorded,
        step=CUSTOMER_STEP,
        summary=f"{customer.brand} {customer.account_type} number, {customer.status}, "
        f"validity until {customer.validity_until}",
        facts={
            "status": customer.status,
            "account_type": customer.account_type,
            "balance_fen": customer.balance_fen,
            "validity_until": customer.validity_until.isoformat() if customer.validity_until else None,
        },
    )
    history = await case.call(BillingActivities.balance_history, MsisdnQuery(msisdn=msisdn))
    cut = find_validity_cut(history)
    case.record(
        ev.EvidenceRecorded,
        step=HISTORY_STEP,
        summary=history_summary(cut, len(history)),
        facts={"changes": len(history), "cut": cut.facts() if cut else None},
    )
    if cut is None:
        _nothing_to_restore(case)
        return
    if already_restored(cut, customer.validity_until):
        _restored_already(case, cut, linked)
        return
    case.record(
        ev.DecisionRecorded,
        decision="explain the validity cut",
        reason=cut_decision_reason(cut),
        evidence_steps=[HISTORY_STEP],
    )
    await case.save()

    remediation = case.input.remediation
    if remediation is not None:
        # Opened by a remediation campaign: its rule decided the remedy (the customer did nothing wrong and
        # loses nothing by it), so the customer is told, not asked; they still confirm at the end.
        reactivate = remediation.assessment.remedy is Remedy.RESTORE_AND_REACTIVATE
        await _restore_now(case, cut, history, decided_by=remediation.summary(), reactivate=reactivate)
        return

    answer = await case.ask_customer(VALIDITY_REMEDY_QUESTION, remedy_question(cut), REMEDY_OPTIONS)
    if answer == RESTORE_NOW:
        await _restore_now(case, cut, history)
    elif answer == EXTEND_IF_SUSPENDED:
        await _extend_if_suspended(case, cut)
    elif case.current.is_open:
        case.record(
            ev.DecisionRecorded,
            decision="no remedy chosen",
            reason=NO_REMEDY_REASON,
            evidence_steps=[HISTORY_STEP],
        )
        case.record(ev.ComplaintResolved, outcome="explanation_given", summary=cut.explanation())


def _nothing_to_restore(case: Case) -> None:
    case.record(
        ev.DecisionRecorded,
        decision="no validity cut found",
        reason=NO_CUT_REASON,
        evidence_steps=[CUSTOMER_STEP, HISTORY_STEP],
    )
    case.record(
        ev.ComplaintResolved,
        outcome="explanation_given",
        summary=NO_CUT_SUMMARY,
    )


def _restored_already(case: Case, cut: ValidityCut, linked: list[str]) -> None:
    """The validity runs where it was before the cut again (a campaign's case, say): nothing is restored twice."""
    where = f" Case {', '.join(linked)} is about the same." if linked else ""
    case.record(
        ev.DecisionRecorded,
        decision="the validity is already restored",
        reason=f"{cut.explanation()} The validity runs to {cut.validity_before.isoformat()} or later again: "
        f"nothing to restore.{where}",
        evidence_steps=[CUSTOMER_STEP, HISTORY_STEP],
    )
    case.record(
        ev.ComplaintResolved,
        outcome="validity_already_restored",
        summary=f"{cut.explanation()} It has since been restored: the validity runs to "
        f"{cut.validity_before.isoformat()} or later.{where}",
    )


async def _restore_now(
    case: Case, cut: ValidityCut, history: list[BalanceChange], *, decided_by: str | None = None,
    reactivate: bool = False,
) -> None:
    chose = decided_by or f"the customer chose {RESTORE_NOW}"
    case.record(
        ev.DecisionRecorded,
        decision="restore the validity now",
        reason=f"{chose}: set the validity back to {cut.validity_before.isoformat()}",
        evidence_steps=[HISTORY_STEP],
    )
    adjustment = await settle(
        case, "validity_extension", 0,
        f"restore the validity cut by the {cut.reason} adjustment of {local_day(cut.at).isoformat()}",
        validity_until=cut.validity_before,
        citations=[
            cite_balance_change(case.current.msisdn, line)
            for line in history
            if line.at == cut.at and line.kind == cut.kind
        ],
        evidence_steps=[HISTORY_STEP],
        # Restored, a number to reactivate goes on below; otherwise the case ends here.
        ending=lambda adjustment, _refusal: (
            None if reactivate and adjustment.status == "applied" else restore_ending(adjustment, cut)
        ),
    )
    if reactivate and adjustment.status == "applied" and case.current.is_open:
        await _reactivate(case)
        end = restore_ending(adjustment, cut, reactivated=True)
        case.record(ev.ComplaintResolved, outcome=end.outcome, summary=end.summary)


async def _extend_if_suspended(case: Case, cut: ValidityCut) -> None:
    due_at = follow_up_due_at(cut.validity_after)
    workflow_id = f"validity-follow-up-{case.complaint_id}"
    case.record(
        ev.DecisionRecorded,
        decision="extend the validity if suspended when it runs out",
        reason=f"the customer chose {EXTEND_IF_SUSPENDED}, the remedy the store agreed: check the number when "
        f"the validity runs out ({cut.validity_after.isoformat()}) and extend it to "
        f"{cut.validity_before.isoformat()} if it is suspended then",
        evidence_steps=[CUSTOMER_STEP, HISTORY_STEP],
    )
    try:
        await workflow.start_child_workflow(
            ValidityFollowUpWorkflow.run,
            ValidityFollowUpInput(
                complaint_id=case.complaint_id,
                msisdn=case.current.msisdn,
                due_at=due_at,
                extend_to=cut.validity_before,
                reason=f"validity cut by the {cut.reason} adjustment: extended as promised, "
                "the number was suspended when it ran out",
            ),
            id=workflow_id,
            task_queue=workflow.info().task_queue,
            parent_close_policy=ParentClosePolicy.ABANDON,
            static_summary=helper_summary("Validity follow-up", case.complaint_id),
        )
    except WorkflowAlreadyStartedError:
        # A reopened case: the promise made in the first run is still being kept.
        workflow.logger.info("validity follow-up %s is already scheduled", workflow_id)
    case.record(ev.FollowUpScheduled, follow_up=FOLLOW_UP_NAME, due_at=due_at, workflow_id=workflow_id)
    case.record(
        ev.ComplaintResolved,
        outcome="extension_promised",
        summary=f"If the number is suspended when the validity runs out on {cut.validity_after.isoformat()}, "
        f"it is extended to {cut.validity_before.isoformat()} then ({workflow_id}).",
    )


async def _reactivate(case: Case) -> None:
    """A number suspended because the shortened validity ran out: active again, now that it is restored."""
    key = case.key("reactivate")
    receipt = await case.call(
        BillingActivities.set_status, StatusCommand(msisdn=case.current.msisdn, status="active", idempotency_key=key)
    )
    case.record(
        ev.BillingActionApplied,
        action="reactivate",
        idempotency_key=key,
        effective=receipt.effective,
        details={"reference": receipt.reference, **receipt.details},
    )
