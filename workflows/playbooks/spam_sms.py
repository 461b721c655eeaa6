"""spam_sms: "I keep getting junk messages".

List the customer's SP subscriptions and who sent them messages; end the SP services they never
ordered; report point-to-point spam senders to the spam centre (10086999); offer to block
web-originated SMS, but only with the customer's consent, since that also stops services they
ordered (the weather forecast).
"""

from __future__ import annotations

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.billing import BillingActivities, BillingCommand, MsisdnQuery, SpamReportCommand
    from domain import events as ev
    from domain.billing_citations import cite_sp_order
    from domain.billing_records import SPAM_CENTRE, SpSubscription
    from domain.playbooks.spam_sms import (
        BLOCK,
        BLOCK_OPTIONS,
        BLOCK_QUESTION,
        SpamPlan,
        block_decision,
        never_ordered,
        plan_spam_response,
        report_reason,
        senders_summary,
        spam_resolution,
        subscriptions_summary,
        unsubscribe_reason,
    )
    from workflows import money
    from workflows.case import Case

SUBSCRIPTIONS_STEP = "sp-subscriptions"
SENDERS_STEP = "received-sms"


async def run(case: Case) -> None:
    """Spam SMS: end SP services never ordered, report spam senders, offer to block web-sent SMS."""
    await case.link_open_duplicates()
    query = MsisdnQuery(msisdn=case.current.msisdn)
    subscriptions = await case.call(BillingActivities.sp_subscriptions, query)
    case.record(
        ev.EvidenceRecorded,
        step=SUBSCRIPTIONS_STEP,
        summary=subscriptions_summary(subscriptions),
        facts={
            "subscriptions": [
                s.model_dump(
                    mode="json",
                    include={
                        "sp_code",
                        "service_name",
                        "monthly_fee_fen",
                        "ordered_via",
                        "customer_confirmed",
                        "delivery_source",
                        "status",
                    },
                )
                for s in subscriptions
            ]
        },
    )
    sources = await case.call(BillingActivities.received_sms_sources, query)
    case.record(
        ev.EvidenceRecorded,
        step=SENDERS_STEP,
        summary=senders_summary(sources),
        facts={
            "senders": [
                s.model_dump(mode="json", include={"sender", "source_kind", "sp_code", "message_count"})
                for s in sources
            ]
        },
    )
    plan = plan_spam_response(subscriptions, sources)
    await case.save_before_step()

    await _end_unordered_services(case, plan, subscriptions)
    await _report_senders(case, plan)
    blocked = await _block_web_sms_if_wanted(case, plan)

    outcome, summary = spam_resolution(plan, blocked, SPAM_CENTRE)
    case.record(ev.ComplaintResolved, outcome=outcome, summary=summary)


async def _end_unordered_services(case: Case, plan: SpamPlan, subscriptions: list[SpSubscription]) -> None:
    if not plan.unsubscribe:
        return
    case.record(
        ev.DecisionRecorded,
        decision="end the SP services the customer never ordered",
        reason=unsubscribe_reason(plan),
        evidence_steps=[SUBSCRIPTIONS_STEP, SENDERS_STEP],
    )
    for service in plan.unsubscribe:
        await money.adjust(
            case,
            "sp_unsubscription",
            0,
            never_ordered(service),
            sp_code=service.sp_code,
            # The order record (here: its absence, customer_confirmed false) the decision rests on.
            citations=[
                cite_sp_order(case.current.msisdn, s) for s in subscriptions if s.sp_code == service.sp_code
            ],
        )


async def _report_senders(case: Case, plan: SpamPlan) -> None:
    if not plan.report_senders:
        return
    case.record(
        ev.DecisionRecorded,
        decision=f"report point-to-point spam to {SPAM_CENTRE}",
        reason=report_reason(plan),
        evidence_steps=[SENDERS_STEP],
    )
    key = case.key("report-spam")
    receipt = await case.call(
        BillingActivities.report_spam,
        SpamReportCommand(msisdn=case.current.msisdn, senders=plan.report_senders, idempotency_key=key),
    )
    case.record(
        ev.BillingActionApplied,
        action="report_spam",
        idempotency_key=key,
        effective=receipt.effective,
        details={"reference": receipt.reference, **receipt.details},
    )
    await case.save_before_step()


async def _block_web_sms_if_wanted(case: Case, plan: SpamPlan) -> bool:
    """Ask before blocking: a block also stops services the customer ordered. True if blocked."""
    if not plan.offer_web_block:
        return False
    answer = await case.ask_customer(BLOCK_QUESTION, plan.block_question(), BLOCK_OPTIONS)
    if not case.current.is_open:
        return False
    decision, reason = block_decision(plan, answer)
    case.record(
        ev.DecisionRecorded, decision=decision, reason=reason, evidence_steps=[SUBSCRIPTIONS_STEP, SENDERS_STEP]
    )
    if answer != BLOCK:
        return False
    key = case.key("block-web-sms")
    receipt = await case.call(
        BillingActivities.block_web_sms, BillingCommand(msisdn=case.current.msisdn, idempotency_key=key)
    )
    case.record(
        ev.BillingActionApplied,
        action="block_web_sms",
        idempotency_key=key,
        effective=receipt.effective,
        details={"reference": receipt.reference, **receipt.details},
    )
    await case.save_before_step()
    return True
