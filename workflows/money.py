"""Money moved by a case.

Propose (the domain decides whether it waits for approval), look for an earlier remedy of the same charge, wait for the
approval, apply once, and record what the billing system answered.

Workflow code: it commits what domain.commands decides and calls the billing system through activities.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.billing import AdjustmentCommand, BillingActivities, CitationsQuery
    from domain import commands
    from domain import events as ev
    from domain.citations import Citation, split_charge_key
    from domain.state import Adjustment
    from ports.billing import PriorRemedy

if TYPE_CHECKING:
    from workflows.case import Case


async def adjust(
    case: Case,
    kind: ev.AdjustmentKind,
    amount_fen: int,
    reason: str,
    *,
    validity_until: date | None = None,
    sp_code: str | None = None,
    citations: list[Citation] | None = None,
) -> Adjustment:
    """Propose an adjustment, wait for approval when the rules want it, and apply it once.

    `citations` are the records it rests on; the billing system checks them and refuses a second
    remedy of a cited charge. Then the adjustment ends `already_remedied` (no money moved), with
    the case, ledger row and time of the first remedy.
    """
    cited = list(citations or [])
    proposal = commands.ProposeAdjustment(
        kind=kind, amount_fen=amount_fen, reason=reason, validity_until=validity_until, sp_code=sp_code,
        citations=cited,
    )
    adjustment_id = commands.next_adjustment_id(case.current)
    case.commit(commands.propose_adjustment(case.current, proposal, case.now()))
    approval = case.current.adjustments[adjustment_id].needs_approval
    await case.save_before_step()  # the proposal rides with the lookup, the approval request or the adjustment
    key = case.key(adjustment_id)
    if any(c.role == "charge" for c in cited):
        # Looked up first so that no supervisor is asked to approve what was already paid; the
        # billing system still decides at apply time, when two cases may race for the charge.
        prior = await case.call(BillingActivities.prior_remedy, CitationsQuery(citations=cited))
        if prior is not None:
            return await _already_remedied(case, adjustment_id, key, prior)
    if approval:
        await case.notify(
            f"approval-{adjustment_id}",
            "supervisor",
            "supervisors",
            f"Approval needed: {kind} on case {case.complaint_id}",
            reason,
        )
        await workflow.wait_condition(
            lambda: case.current.adjustments[adjustment_id].status != "proposed" or not case.current.is_open
        )
        if case.current.adjustments[adjustment_id].status != "approved":
            return case.current.adjustments[adjustment_id]
    outcome = await case.call(
        BillingActivities.apply_adjustment,
        AdjustmentCommand(
            idempotency_key=key,
            complaint_id=case.complaint_id,
            msisdn=case.current.msisdn,
            kind=kind,
            amount_fen=amount_fen,
            reason=reason,
            validity_until=validity_until,
            sp_code=sp_code,
            citations=cited,
        ),
    )
    if outcome.already_remedied is not None:
        return await _already_remedied(case, adjustment_id, key, outcome.already_remedied)
    receipt = outcome.receipt
    assert receipt is not None, "the billing system answered neither a receipt nor a prior remedy"
    case.record(
        ev.AdjustmentApplied,
        adjustment_id=adjustment_id,
        kind=kind,
        amount_fen=amount_fen,
        idempotency_key=key,
        ledger_id=receipt.ledger_id,
        effective=receipt.effective,
        citations=cited,
    )
    await case.save()
    return case.current.adjustments[adjustment_id]

async def _already_remedied(case: Case, adjustment_id: str, key: str, prior: PriorRemedy) -> Adjustment:
    charge_kind, charge_record_id = split_charge_key(prior.charge)
    case.record(
        ev.AdjustmentAlreadyRemedied,
        adjustment_id=adjustment_id,
        charge_kind=charge_kind,
        charge_record_id=charge_record_id,
        prior_complaint_id=prior.complaint_id,
        prior_ledger_id=prior.ledger_id,
        prior_applied_at=prior.applied_at,
        idempotency_key=key,
    )
    await case.save()
    return case.current.adjustments[adjustment_id]
