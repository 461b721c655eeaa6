"""forwarding_cancel: calls still go to the old Unicom number; fix it within 30 minutes.

The steps of its row in design.md: verify identity (name + ID number), cancel the call forwarding at the
partner carrier (Unicom, 10010), cancel the number-change notice in the billing system (BOSS), resolve; the
customer then confirms. The decisions and words are domain.playbooks.forwarding_cancel's.
"""

from __future__ import annotations

from temporalio import workflow
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, BillingCommand, MsisdnQuery
    from activities.partners import PartnerActivities
    from domain import events as ev
    from domain.masking import mask_msisdn
    from domain.playbooks.forwarding_cancel import (
        CANCEL_FORWARDING,
        CANCEL_NOTICE,
        IDENTITY_METHOD,
        check_identity,
        identity_refused_summary,
        partner_refused_summary,
        resolution_summary,
    )
    from ports.partners import CancelForwardingRequest, IdentityMismatch, UnknownNumber
    from workflows.case import Case, failed_with
    from workflows.playbooks.partner_refusal import resolve_on_refusal

# The partner's refusals that end the case with an answer (anything else is a step that cannot go on).
PARTNER_REFUSALS = (IdentityMismatch, UnknownNumber)


async def run(case: Case) -> None:
    """Forwarding cancel: verify identity, cancel the forwarding at the partner and the notice in BOSS."""
    await case.link_open_duplicates()
    intake = case.input.intake
    customer = await case.call(BillingActivities.get_customer, MsisdnQuery(msisdn=intake.msisdn))
    mismatch = check_identity(customer.name, customer.id_number, intake.customer_name, intake.id_number)
    if mismatch:
        case.record(ev.IdentityRejected, reason=mismatch)
        case.record(
            ev.ComplaintResolved,
            outcome="identity_not_verified",
            summary=identity_refused_summary(mismatch),
        )
        return
    case.record(ev.IdentityVerified, method=IDENTITY_METHOD)

    partner = intake.partner_carrier
    assert partner is not None and intake.partner_msisdn is not None and intake.id_number is not None
    request_key = case.key("cancel-forwarding")
    case.record(ev.PartnerRequestSent, partner=partner.value, action=CANCEL_FORWARDING, request_key=request_key)
    await case.save_before_step()
    try:
        result = await case.call(
            PartnerActivities.cancel_forwarding,
            CancelForwardingRequest(
                carrier=partner,
                msisdn=intake.partner_msisdn,
                holder_name=intake.customer_name,
                id_number=intake.id_number,
                request_key=request_key,
            ),
        )
    except ActivityError as error:
        if not failed_with(error, *PARTNER_REFUSALS):
            raise
        reason = str(error.cause)
        resolve_on_refusal(
            case, partner=partner.value, action=CANCEL_FORWARDING, request_key=request_key, reason=reason,
            outcome="partner_refused", summary=partner_refused_summary(partner.value, reason),
        )
        return
    case.record(
        ev.PartnerRequestConfirmed,
        partner=partner.value,
        action=CANCEL_FORWARDING,
        request_key=request_key,
        effective=result.effective,
        result={
            "status": result.status,
            "cancelled_at": result.cancelled_at.isoformat() if result.cancelled_at else None,
        },
    )
    await case.save_before_step()

    notice_key = case.key("cancel-number-change-notice")
    notice = await case.call(
        BillingActivities.cancel_number_change_notice,
        BillingCommand(msisdn=intake.msisdn, idempotency_key=notice_key),
    )
    case.record(
        ev.BillingActionApplied,
        action=CANCEL_NOTICE,
        idempotency_key=notice_key,
        effective=notice.effective,
        details=notice.details,
    )
    case.record(
        ev.ComplaintResolved,
        outcome="forwarding_cancelled",
        summary=resolution_summary(
            partner=partner.value,
            partner_number=mask_msisdn(intake.partner_msisdn),
            number=mask_msisdn(intake.msisdn),
            forwarding_cancelled_now=result.effective,
            # From the stored first outcome, not `effective`: a retried call is not effective, yet this
            # case's first attempt may well be what cancelled the notice.
            notice_cancelled_now=bool(notice.details.get("notice_was_active", notice.effective)),
        ),
    )
