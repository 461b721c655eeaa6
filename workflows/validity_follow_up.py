"""ValidityFollowUpWorkflow: the deferred remedy of validity_shortened, kept months later.

The store promised: if the number is suspended when the (shortened) validity runs out, extend it
then. This workflow sleeps on a durable timer until that moment, looks at the number and keeps the
promise or does nothing. It outlives its complaint (started with ParentClosePolicy.ABANDON) and
never writes to the complaint's event stream, which is closed by then: its own Temporal history is
the record of what it did.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.billing import AdjustmentCommand, BillingActivities, MsisdnQuery, StatusCommand
    from activities.notifications import NotificationActivities
    from domain.playbooks.validity_shortened import plan_follow_up
    from ports.notifications import Notification
    from workflows.case_journal import call_activity


class ValidityFollowUpInput(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    msisdn: str
    due_at: AwareDatetime  # when the validity runs out
    extend_to: date  # the validity before the cut: what the customer asked to have back
    reason: str


class ValidityFollowUpResult(BaseModel):
    model_config = ConfigDict(frozen=True)

    complaint_id: str
    checked_at: AwareDatetime
    status_seen: str
    validity_seen: date | None
    action: Literal["extended", "nothing"]
    reactivated: bool
    validity_after: date | None
    ledger_id: str | None
    explanation: str


def follow_up_key(complaint_id: str, step: str) -> str:
    """The idempotency key of a follow-up write: the complaint, 'follow-up', the step."""
    return f"{complaint_id}:follow-up:{step}"


@workflow.defn
class ValidityFollowUpWorkflow:
    @workflow.run
    async def run(self, request: ValidityFollowUpInput) -> ValidityFollowUpResult:
        """Wait until the validity runs out, then check the number is still usable and report."""
        wait = request.due_at - workflow.now()
        if wait > timedelta(0):
            await workflow.sleep(wait, summary="until the validity runs out")

        customer = await call_activity(BillingActivities.get_customer, MsisdnQuery(msisdn=request.msisdn))
        now = workflow.now()
        plan = plan_follow_up(
            status=customer.status,
            validity_until=customer.validity_until,
            arrears_fen=customer.arrears_fen,
            extend_to=request.extend_to,
            now=now,
        )
        workflow.logger.info("validity follow-up of %s: %s", request.complaint_id, plan.reason)
        result = ValidityFollowUpResult(
            complaint_id=request.complaint_id,
            checked_at=now,
            status_seen=customer.status,
            validity_seen=customer.validity_until,
            action="nothing",
            reactivated=False,
            validity_after=customer.validity_until,
            ledger_id=None,
            explanation=plan.reason,
        )
        if plan.action == "nothing":
            return result

        outcome = await call_activity(
            BillingActivities.apply_adjustment,
            AdjustmentCommand(
                idempotency_key=follow_up_key(request.complaint_id, "validity-extension"),
                complaint_id=request.complaint_id,
                msisdn=request.msisdn,
                kind="validity_extension",
                amount_fen=0,
                reason=request.reason,
                validity_until=request.extend_to,
            ),
        )
        receipt = outcome.receipt
        # A validity extension remedies no charge, so the billing system never answers "already remedied".
        assert receipt is not None, "a validity extension was not applied"
        if plan.reactivate:
            await call_activity(
                BillingActivities.set_status,
                StatusCommand(
                    msisdn=request.msisdn,
                    status="active",
                    idempotency_key=follow_up_key(request.complaint_id, "reactivate"),
                ),
            )
        await call_activity(
            NotificationActivities.notify,
            Notification(
                idempotency_key=follow_up_key(request.complaint_id, "notice"),
                complaint_id=request.complaint_id,
                recipient_role="customer",
                recipient=request.msisdn,
                subject="Your balance validity has been extended",
                body=f"As promised, your balance is valid until {request.extend_to.isoformat()}."
                + (" Your number is active again." if plan.reactivate else ""),
            ),
        )
        return result.model_copy(
            update={
                "action": "extended",
                "reactivated": plan.reactivate,
                "validity_after": receipt.validity_after,
                "ledger_id": receipt.ledger_id,
            }
        )


