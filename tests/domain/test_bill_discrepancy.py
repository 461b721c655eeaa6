"""bill_discrepancy decisions with the seed's figures: the terminal lacks days 15-18; the overcharge branch."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from domain.billing_records import DailyCharge
from domain.playbooks.bill_discrepancy import (
    channel_agrees,
    compare_channels,
    decide,
    incident_description,
    references_agree,
)
from sandboxes.boss_rows import current_period_start
from sandboxes.boss_seed import build_seed
from stories.bill_discrepancy import (
    BILL_DISCREPANCY_CUSTOMER,
    BILL_OVERCHARGE_CUSTOMER,
    BILL_REFERENCE_CUSTOMERS,
    DISCREPANCY_BILLING_FEN,
    DISCREPANCY_TERMINAL_FEN,
    OVERCHARGE_DAY,
    OVERCHARGE_FEN,
)

ANCHOR = date(2026, 3, 18)
START = current_period_start(ANCHOR)


def charges(msisdn: str, channel: str, anchor: date = ANCHOR) -> list[DailyCharge]:
    return [
        DailyCharge(**row._asdict())
        for row in build_seed(anchor).daily_charges
        if row.msisdn == msisdn and row.channel == channel
    ]


def compare(msisdn: str, anchor: date = ANCHOR):  # type: ignore[no-untyped-def]
    start = current_period_start(anchor)
    return compare_channels(
        start,
        anchor,
        charges(msisdn, "billing", anchor),
        charges(msisdn, "terminal", anchor),
        charges(msisdn, "web", anchor),
    )


def days(*amounts: int | None, first: date = START) -> list[DailyCharge]:
    return [
        DailyCharge(msisdn="13567380099", channel="billing", day=first + timedelta(days=i), amount_fen=fen)
        for i, fen in enumerate(amounts)
        if fen is not None
    ]


@pytest.mark.parametrize("anchor", [ANCHOR, date(2024, 3, 31), date(2024, 2, 29), date(2023, 12, 31)])
def test_the_terminal_lacks_days_15_to_18_and_the_web_backs_the_billing_system(anchor: date) -> None:
    comparison = compare(BILL_DISCREPANCY_CUSTOMER.msisdn, anchor)
    start = current_period_start(anchor)
    assert comparison.totals == {"billing": 10860, "terminal": 5230, "web": 10860}
    assert comparison.totals["billing"] == DISCREPANCY_BILLING_FEN
    assert comparison.totals["terminal"] == DISCREPANCY_TERMINAL_FEN
    assert comparison.missing_days["terminal"] == [start + timedelta(days=d) for d in range(14, 18)]
    facts = comparison.facts()
    assert facts["missing_day_numbers"] == {"terminal": [15, 16, 17, 18]}
    assert json.loads(json.dumps(facts)) == facts
    assert comparison.overcharge_fen == 0 and not comparison.unexplained_days
    assert comparison.faulty_channels == ["terminal"]
    assert "the terminal lacks days 15-18" in comparison.describe()


def test_the_seeds_verdict_is_an_incident_on_the_terminal_and_no_refund() -> None:
    comparison = compare(BILL_DISCREPANCY_CUSTOMER.msisdn)
    verdict = decide(comparison, terminal_sound_elsewhere=True)
    assert verdict.outcome == "terminal_incomplete"
    assert verdict.incident_channels == ["terminal"] and verdict.overcharge_fen == 0
    assert "no overcharge" in verdict.reason and "reference numbers show correctly" in verdict.reason
    text = incident_description(comparison, "terminal", True)
    assert "lacks days 15-18" in text and "fault is in this customer's detail" in text


def test_the_reference_numbers_channels_agree() -> None:
    results = {}
    for ref in BILL_REFERENCE_CUSTOMERS:
        results[ref.msisdn] = channel_agrees(charges(ref.msisdn, "billing"), charges(ref.msisdn, "terminal"))
        assert compare(ref.msisdn).consistent
    assert references_agree(results) is True
    assert references_agree({}) is None
    assert references_agree({"a": True, "b": False}) is False
    assert not channel_agrees(
        charges(BILL_DISCREPANCY_CUSTOMER.msisdn, "billing"),
        charges(BILL_DISCREPANCY_CUSTOMER.msisdn, "terminal"),
    )


def test_the_overcharge_customer_is_refunded_twice_the_days_overcharge() -> None:
    comparison = compare(BILL_OVERCHARGE_CUSTOMER.msisdn)
    assert comparison.overcharge_fen == OVERCHARGE_FEN == 1200
    assert [d.day_of_period for d in comparison.overcharge_days] == [OVERCHARGE_DAY]
    assert comparison.faulty_channels == [] and not comparison.unexplained_days
    verdict = decide(comparison, terminal_sound_elsewhere=True)
    assert verdict.outcome == "double_refund_due"
    assert verdict.double_refund_fen == 2400 and verdict.incident_channels == []
    assert "¥12.00" in verdict.reason and "¥24.00" in verdict.reason


def test_an_overcharge_counts_only_above_the_higher_of_terminal_and_web() -> None:
    comparison = compare_channels(
        START, START + timedelta(days=1), days(500, 300), days(400, 300), days(450, 300)
    )
    assert comparison.overcharge_fen == 50 and comparison.overcharge_days[0].shown_fen == 450


def test_one_witness_is_not_enough_for_an_overcharge() -> None:
    # The terminal lacks the day and the web shows less: nobody backs either side.
    comparison = compare_channels(START, START, days(500), days(None), days(300))
    assert comparison.overcharge_fen == 0 and comparison.unexplained_days == [START]
    verdict = decide(comparison, None)
    assert verdict.outcome == "unexplained_difference" and verdict.overcharge_fen == 0


def test_a_web_that_shows_wrong_amounts_is_the_faulty_channel() -> None:
    comparison = compare_channels(
        START, START + timedelta(days=1), days(300, 200), days(300, 200), days(300, 900)
    )
    assert comparison.differing_days["web"] == [START + timedelta(days=1)]
    assert comparison.faulty_channels == ["web"]
    verdict = decide(comparison, None)
    assert verdict.outcome == "web_incorrect" and verdict.incident_channels == ["web"]
    assert "shows wrong amounts on day 2" in incident_description(comparison, "web", None)


def test_a_terminal_wrong_for_every_number_is_said_so() -> None:
    comparison = compare_channels(
        START, START + timedelta(days=1), days(300, 200), days(300, None), days(300, 200)
    )
    verdict = decide(comparison, terminal_sound_elsewhere=False)
    assert verdict.outcome == "terminal_incomplete" and "for every number" in verdict.reason
    assert "faulty for every number" in incident_description(comparison, "terminal", False)


def test_three_agreeing_channels_confirm_the_bill() -> None:
    comparison = compare_channels(
        START, START + timedelta(days=2), days(1, 2, 3), days(1, 2, 3), days(1, 2, 3)
    )
    assert comparison.consistent
    verdict = decide(comparison, None)
    assert verdict.outcome == "bill_confirmed" and verdict.incident_channels == []


def test_an_overcharge_and_a_faulty_terminal_give_both_a_refund_and_an_incident() -> None:
    comparison = compare_channels(
        START, START + timedelta(days=1), days(900, 200), days(300, None), days(300, 200)
    )
    verdict = decide(comparison, True)
    assert verdict.outcome == "double_refund_due" and verdict.double_refund_fen == 1200
    assert verdict.incident_channels == ["terminal"]


def test_days_outside_the_period_are_ignored() -> None:
    comparison = compare_channels(START, START, days(100, 999), days(100), days(100, 5))
    assert comparison.consistent and comparison.totals == {"billing": 100, "terminal": 100, "web": 100}


def test_a_period_that_ends_before_it_starts_is_refused() -> None:
    with pytest.raises(ValueError, match="ends"):
        compare_channels(START, START - timedelta(days=1), [], [], [])
