"""tariff_dispute: "nobody told me the tariff when I bought the number".

Find the number's plan, its charges and who sold it. Never send the customer back to the agent
store: verify the sale jointly with the store (a partner request), then apply the remedy agreed
there (refund the plan difference, move to the cheaper plan) or, if the tariff was explained,
explain it again.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, BillsQuery, CodeQuery, MsisdnQuery, PlanChangeCommand
    from activities.partners import PartnerActivities
    from domain import events as ev
    from domain.billing_citations import cite_bill, cite_sale
    from domain.billing_records import Customer, MonthlyBill
    from domain.money import format_yuan
    from domain.playbooks.tariff_dispute import (
        TariffRemedy,
        agent_summary,
        decide_tariff_remedy,
        joint_verification_reason,
        plan_change_words,
        refund_ending,
        remedy_applied_summary,
        sale_summary,
        sold_by_us_reason,
        verification_failed_summary,
    )
    from ports.partners import JointVerificationRequest, PartnerError, UnknownNumber, UnknownPartner
    from workflows.case import Case, failed_with
    from workflows.playbooks.partner_refusal import resolve_on_refusal
    from workflows.playbooks.settle import settle

CUSTOMER_STEP = "customer"
PLAN_STEP = "tariff-plan"
CHARGES_STEP = "charges"
AGENT_STEP = "agent-store"
VERIFICATION_STEP = "joint-verification"
JOINT_VERIFICATION = "joint_verification"


async def run(case: Case) -> None:
    """Tariff dispute: find the plan and its seller, verify the sale with the store, then remedy."""
    await case.link_open_duplicates()
    msisdn = case.current.msisdn
    customer = await case.call(BillingActivities.get_customer, MsisdnQuery(msisdn=msisdn))
    case.record(
        ev.EvidenceRecorded,
        step=CUSTOMER_STEP,
        summary=sale_summary(customer.plan_code, customer.sales_channel, customer.agent_code),
        facts={
            "plan_code": customer.plan_code,
            "sales_channel": customer.sales_channel,
            "agent_code": customer.agent_code,
            "opened_at": customer.opened_at.isoformat(),
            "balance_fen": customer.balance_fen,
        },
    )
    plan = await case.call(BillingActivities.tariff_plan, CodeQuery(code=customer.plan_code))
    case.record(
        ev.EvidenceRecorded,
        step=PLAN_STEP,
        summary=f"{plan.name}: {plan.description}",
        facts=plan.model_dump(
            mode="json",
            include={"code", "name", "monthly_fee_fen", "included_minutes", "per_minute_fen", "description"},
        ),
    )
    bills = await case.call(BillingActivities.monthly_bills, BillsQuery(msisdn=msisdn, months=3))
    case.record(
        ev.EvidenceRecorded,
        step=CHARGES_STEP,
        summary=", ".join(f"{b.period_start:%Y-%m}: {format_yuan(b.total_fen)}" for b in bills),
        facts={
            "bills": [
                {"period_start": b.period_start.isoformat(), "total_fen": b.total_fen, "closed": b.closed}
                for b in bills
            ]
        },
    )
    if customer.sales_channel != "agent_store" or customer.agent_code is None:
        _explain(
            case,
            plan.name,
            plan.description,
            sold_by_us_reason(customer.sales_channel),
            [CUSTOMER_STEP, PLAN_STEP, CHARGES_STEP],
        )
        return

    agent = await case.call(BillingActivities.agent_store, CodeQuery(code=customer.agent_code))
    case.record(
        ev.EvidenceRecorded,
        step=AGENT_STEP,
        summary=agent_summary(agent.name, agent.code, agent.address, agent.contact_phone),
        facts=agent.model_dump(mode="json"),
    )
    case.record(
        ev.DecisionRecorded,
        decision="verify the sale jointly with the agent store",
        reason=joint_verification_reason(agent.name),
        evidence_steps=[CUSTOMER_STEP, AGENT_STEP],
    )
    request_key = case.key("joint-verification")
    case.record(ev.PartnerRequestSent, partner=agent.code, action=JOINT_VERIFICATION, request_key=request_key)
    await case.save_before_step()
    try:
        result = await case.call(
            PartnerActivities.joint_verification,
            JointVerificationRequest(
                agent_code=agent.code, msisdn=msisdn, complaint_ref=case.complaint_id, request_key=request_key
            ),
        )
    except ActivityError as error:
        if not failed_with(error, UnknownNumber, UnknownPartner, PartnerError):
            raise
        reason = str(error.cause)
        resolve_on_refusal(
            case, partner=agent.code, action=JOINT_VERIFICATION, request_key=request_key, reason=reason,
            outcome="agent_verification_failed", summary=verification_failed_summary(agent.name, reason),
        )
        return
    case.record(
        ev.PartnerRequestConfirmed,
        partner=agent.code,
        action=JOINT_VERIFICATION,
        request_key=request_key,
        effective=True,
        result={"verification_id": result.verification_id, "tariff_explained": result.tariff_explained},
    )
    case.record(
        ev.EvidenceRecorded,
        step=VERIFICATION_STEP,
        summary=f"{result.verification_id}: {result.finding}",
        facts={
            "verification_id": result.verification_id,
            "tariff_explained": result.tariff_explained,
            "finding": result.finding,
            "remedy": result.remedy.model_dump(mode="json"),
        },
    )
    remedy = decide_tariff_remedy(
        tariff_explained=result.tariff_explained,
        finding=result.finding,
        agreed_refund_fen=result.remedy.amount_fen,
        agreed_plan_code=result.remedy.new_plan_code,
        current_plan_code=customer.plan_code,
    )
    if remedy.action == "explain":
        _explain(case, plan.name, plan.description, remedy.reason, [PLAN_STEP, VERIFICATION_STEP])
        return
    await _apply_agent_remedy(case, remedy, customer, bills)


def _explain(case: Case, plan_name: str, description: str, why: str, evidence: list[str]) -> None:
    case.record(ev.DecisionRecorded, decision="explain the tariff", reason=why, evidence_steps=evidence)
    case.record(ev.ComplaintResolved, outcome="tariff_explained", summary=f"{plan_name}: {description}")


async def _apply_agent_remedy(
    case: Case, remedy: TariffRemedy, customer: Customer, bills: list[MonthlyBill]
) -> None:
    case.record(
        ev.DecisionRecorded,
        decision="apply the remedy agreed with the agent store",
        reason=remedy.reason,
        evidence_steps=[PLAN_STEP, CHARGES_STEP, VERIFICATION_STEP],
    )
    done = []
    if remedy.refund_fen > 0:
        # The charge remedied is the sale itself (sold without the tariff explained): one refund per sale.
        citations = [cite_sale(customer, "charge"), *(cite_bill(bill) for bill in bills)]
        refund = await settle(
            case, "refund", remedy.refund_fen, remedy.reason, citations=citations,
            evidence_steps=[PLAN_STEP, CHARGES_STEP, VERIFICATION_STEP],
            ending=lambda adjustment, _refusal: refund_ending(adjustment),
        )
        if refund.status != "applied" or not case.current.is_open:
            return
        done.append(f"refunded {format_yuan(remedy.refund_fen)} ({refund.ledger_id})")
    if remedy.new_plan_code is not None:
        key = case.key("change-plan")
        receipt = await case.call(
            BillingActivities.change_plan,
            PlanChangeCommand(
                msisdn=case.current.msisdn, plan_code=remedy.new_plan_code, idempotency_key=key
            ),
        )
        case.record(
            ev.BillingActionApplied,
            action="change_plan",
            idempotency_key=key,
            effective=receipt.effective,
            details=receipt.details,
        )
        # From the stored first outcome: a retried call is not effective, yet its first attempt moved the plan.
        changed_now = receipt.details.get("from") != receipt.details.get("to")
        done.append(plan_change_words(remedy.new_plan_code, changed_now))
    case.record(
        ev.ComplaintResolved,
        outcome="agent_remedy_applied",
        summary=remedy_applied_summary(done),
    )
