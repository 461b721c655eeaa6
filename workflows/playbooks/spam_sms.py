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
    from domain.money import format_yuan
    from domain.playbooks.spam_sms import (
        BLOCK,
        BLOCK_OPTIONS,
        BLOCK_QUESTION,
        KEEP,
        SpamPlan,
        mask_sender,
        plan_spam_response,
    )
    from workflows.case import Case

SUBSCRIPTIONS_STEP = "sp-subscriptions"
SENDERS_STEP = "received-sms"


async def run(case: Case) -> None:
    await case.link_open_duplicates()
    query = MsisdnQuery(msisdn=case.current.msisdn)
    subscriptions = await case.call(BillingActivities.sp_subscriptions, query)
    case.record(
        ev.EvidenceRecorded,
        step=SUBSCRIPTIONS_STEP,
        summary="; ".join(
            f"{s.service_name} ({s.sp_code}, {format_yuan(s.monthly_fee_fen)}/month, {s.status}, "
            f"{'ordered by the customer' if s.customer_confirmed else 'no order on record'})"
            for s in subscriptions
        )
        or "no SP subscriptions",
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
        summary="; ".join(f"{mask_sender(s.sender)}: {s.message_count} {s.source_kind}" for s in sources)
        or "no messages received",
        facts={
            "senders": [
                s.model_dump(mode="json", include={"sender", "source_kind", "sp_code", "message_count"})
                for s in sources
            ]
        },
    )
    plan = plan_spam_response(subscriptions, sources)
    await case.save()

    await _end_unordered_services(case, plan, subscriptions)
    await _report_senders(case, plan)
    blocked = await _block_web_sms_if_wanted(case, plan)

    done = []
    if plan.unsubscribe:
        done.append("ended " + ", ".join(s.service_name for s in plan.unsubscribe) + " (never ordered)")
    if plan.report_senders:
        done.append(f"reported {len(plan.report_senders)} senders to {SPAM_CENTRE}")
    if blocked:
        done.append("blocked web-originated SMS")
    if plan.kept:
        done.append("kept " + ", ".join(s.service_name for s in plan.kept) + " (ordered)")
    case.record(
        ev.ComplaintResolved,
        outcome="spam_handled" if done else "explanation_given",
        summary=("; ".join(done) or "no junk source found")
        + f". Forward any new junk to {SPAM_CENTRE} or call 10086 to report it.",
    )


async def _end_unordered_services(case: Case, plan: SpamPlan, subscriptions: list[SpSubscription]) -> None:
    if not plan.unsubscribe:
        return
    case.record(
        ev.DecisionRecorded,
        decision="end the SP services the customer never ordered",
        reason="no order from the customer is on record for "
        + ", ".join(f"{s.service_name} ({s.sp_code})" for s in plan.unsubscribe)
        + "".join(f"; {s.service_name} stays: the customer ordered it" for s in plan.kept),
        evidence_steps=[SUBSCRIPTIONS_STEP, SENDERS_STEP],
    )
    for service in plan.unsubscribe:
        await case.adjust(
            "sp_unsubscription",
            0,
            f"{service.service_name} ({service.sp_name}) was never ordered by the customer",
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
        reason="messages from personal numbers cannot be filtered one by one: "
        + ", ".join(mask_sender(sender) for sender in plan.report_senders)
        + " go to the spam centre",
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
    await case.save()


async def _block_web_sms_if_wanted(case: Case, plan: SpamPlan) -> bool:
    """Ask before blocking: a block also stops services the customer ordered. True if blocked."""
    if not plan.offer_web_block:
        return False
    answer = await case.ask_customer(BLOCK_QUESTION, plan.block_question(), BLOCK_OPTIONS)
    if not case.current.is_open:
        return False
    stops = ", ".join(plan.block_would_stop) or "nothing the customer ordered"
    if answer != BLOCK:
        case.record(
            ev.DecisionRecorded,
            decision="keep web-originated SMS",
            reason=(
                f"the customer chose {KEEP}: {stops} keeps arriving"
                if answer == KEEP
                else "the customer did not consent: nothing is blocked without it"
            ),
            evidence_steps=[SUBSCRIPTIONS_STEP, SENDERS_STEP],
        )
        return False
    case.record(
        ev.DecisionRecorded,
        decision="block web-originated SMS",
        reason=f"the customer consented, knowing it also stops {stops}",
        evidence_steps=[SUBSCRIPTIONS_STEP, SENDERS_STEP],
    )
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
    await case.save()
    return True
