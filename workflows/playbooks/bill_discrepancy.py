"""bill_discrepancy: the self-service terminal shows ~50 yuan, the billing system 100+ (13567383861).

Fetch the period's daily charges from the billing system, the terminal and the web; compare them day by
day; where the terminal differs, test it with reference numbers. A faulty channel gets an incident; an
overcharge (the billing system above both other channels) is refunded twice over after approval.
"""

from __future__ import annotations

from datetime import date

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.billing import (
        BillingActivities,
        DailyChargesQuery,
        IncidentCommand,
        MsisdnQuery,
        ReferenceNumbersQuery,
    )
    from domain import events as ev
    from domain.billing_citations import cite_daily_charge
    from domain.billing_records import Channel, DailyCharge
    from domain.masking import mask_msisdn
    from domain.playbooks.bill_discrepancy import (
        ChannelComparison,
        Verdict,
        channel_agrees,
        charges_summary,
        compare_channels,
        decide,
        double_refund_ending,
        double_refund_reason,
        incident_description,
        overcharge_words,
        references_agree,
        references_summary,
    )
    from workflows.case import Case
    from workflows.playbooks.settle import settle

CHARGES, COMPARISON, REFERENCES = "daily-charges", "day-by-day", "reference-numbers"
CHANNELS: tuple[Channel, ...] = ("billing", "terminal", "web")


async def run(case: Case) -> None:
    """Bill discrepancy: compare the channels' daily charges day by day and act on what differs."""
    await case.link_open_duplicates()
    msisdn = case.current.msisdn
    period = await case.call(BillingActivities.current_period, MsisdnQuery(msisdn=msisdn))
    shown = {channel: await _charges(case, msisdn, period.start, period.end, channel) for channel in CHANNELS}
    case.record(
        ev.EvidenceRecorded,
        step=CHARGES,
        summary=charges_summary(shown),
        facts={
            "period_start": period.start.isoformat(),
            "period_end": period.end.isoformat(),
            "totals_fen": {channel: sum(d.amount_fen for d in days) for channel, days in shown.items()},
            "days_shown": {channel: len(days) for channel, days in shown.items()},
        },
    )
    comparison = compare_channels(period.start, period.end, shown["billing"], shown["terminal"], shown["web"])
    case.record(ev.EvidenceRecorded, step=COMPARISON, summary=comparison.describe(), facts=comparison.facts())
    await case.save_before_step()

    evidence = [CHARGES, COMPARISON]
    terminal_sound: bool | None = None
    if not channel_agrees(shown["billing"], shown["terminal"]):
        terminal_sound = await _test_terminal(case, msisdn, period.start, period.end)
        evidence.append(REFERENCES)
    verdict = decide(comparison, terminal_sound)
    case.record(
        ev.DecisionRecorded,
        decision=verdict.outcome.replace("_", " "),
        reason=verdict.reason,
        evidence_steps=evidence,
    )

    incidents = [
        await _raise_incident(case, comparison, channel, terminal_sound)
        for channel in verdict.incident_channels
    ]
    await case.save_before_step()
    reported = f" Incident {', '.join(incidents)} raised on the faulty channel." if incidents else ""
    if verdict.overcharge_fen > 0:
        await _double_refund(case, comparison, verdict, evidence, reported, shown)
        return
    case.record(ev.ComplaintResolved, outcome=verdict.outcome, summary=f"{verdict.reason}.{reported}")


async def _charges(case: Case, msisdn: str, start: date, end: date, channel: Channel) -> list[DailyCharge]:
    return await case.call(
        BillingActivities.daily_charges,
        DailyChargesQuery(msisdn=msisdn, start=start, end=end, channel=channel),
    )


async def _test_terminal(case: Case, msisdn: str, start: date, end: date) -> bool | None:
    """Try two other numbers on the terminal, as the seed's store did: does it match the billing system?"""
    numbers = await case.call(
        BillingActivities.reference_numbers, ReferenceNumbersQuery(exclude=[msisdn], limit=2)
    )
    results: dict[str, bool] = {}
    for number in numbers:
        billing = await _charges(case, number, start, end, "billing")
        terminal = await _charges(case, number, start, end, "terminal")
        results[mask_msisdn(number)] = channel_agrees(billing, terminal)
    sound = references_agree(results)
    case.record(
        ev.EvidenceRecorded,
        step=REFERENCES,
        summary=references_summary(results, sound),
        facts={"agree": results, "terminal_sound": sound},
    )
    return sound


async def _raise_incident(
    case: Case, comparison: ChannelComparison, channel: Channel, terminal_sound: bool | None
) -> str:
    key = case.key(f"incident-{channel}")
    receipt = await case.call(
        BillingActivities.raise_incident,
        IncidentCommand(
            channel=channel,
            description=incident_description(comparison, channel, terminal_sound),
            idempotency_key=key,
            msisdn=case.current.msisdn,
        ),
    )
    case.record(
        ev.BillingActionApplied,
        action="raise_incident",
        idempotency_key=key,
        effective=receipt.effective,
        details={"reference": receipt.reference, **receipt.details},
    )
    return receipt.reference or key


async def _double_refund(
    case: Case,
    comparison: ChannelComparison,
    verdict: Verdict,
    evidence: list[str],
    reported: str,
    shown: dict[Channel, list[DailyCharge]],
) -> None:
    days = overcharge_words(comparison)
    # The charge is the billing system's row of each overcharged day; the terminal's and the web's rows
    # of those days are the evidence that it is too high.
    overcharged = {d.day for d in comparison.overcharge_days}
    citations = [
        cite_daily_charge(row, "charge" if channel == "billing" else "evidence")
        for channel in CHANNELS
        for row in shown[channel]
        if row.day in overcharged
    ]
    await settle(
        case, "double_refund", verdict.double_refund_fen, double_refund_reason(verdict, days),
        citations=citations, evidence_steps=evidence,
        ending=lambda adjustment, refusal: double_refund_ending(adjustment, refusal, verdict, days, reported),
    )
