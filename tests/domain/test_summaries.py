"""The timeline says only what happened: each summary is built from the step's own result, every branch.

already cancelled versus cancelled now, no record versus a shorter record, paid now versus already paid,
moved now versus already on the plan, refunded versus already refunded elsewhere; and nothing about a
conversation with the customer that nobody reported.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.billing_records import CallRecord
from domain.playbooks.arrears_dispute import settlement_result
from domain.playbooks.billing_spike import (
    ADVICE,
    RECORDS_AGREE,
    CounterpartComparison,
    compare_with_counterpart,
    find_unusual_calls,
    measure_spike,
)
from domain.playbooks.billing_spike_words import declined_summary, matches_usage_summary, records_agree_summary
from domain.playbooks.common import already_remedied_summary
from domain.playbooks.forwarding_cancel import resolution_summary
from domain.playbooks.tariff_dispute import plan_change_words
from domain.state import Adjustment
from tests.domain.test_billing_spike import call, seed_bills, split_calls

NEW_NUMBER = "a new number may be sold"


# --- forwarding_cancel -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("forwarding_now", "notice_now", "says", "never_says"),
    [
        (True, True, ["cancelled at china_unicom", "notice cancelled in BOSS"], ["already"]),
        (True, False, ["cancelled at china_unicom", "no number-change notice was active"], ["notice cancelled"]),
        (False, True, ["already off at china_unicom", "notice cancelled in BOSS"], ["0001 cancelled"]),
        (False, False, ["already off", "no number-change notice was active"], ["cancelled in BOSS", "cancelled at"]),
    ],
)
def test_the_forwarding_summary_says_what_each_receipt_says(
    forwarding_now: bool, notice_now: bool, says: list[str], never_says: list[str]
) -> None:
    text = resolution_summary(
        partner="china_unicom",
        partner_number="130****0001",
        number="139****0001",
        forwarding_cancelled_now=forwarding_now,
        notice_cancelled_now=notice_now,
    )
    assert all(part in text for part in says), text
    assert not any(part in text for part in never_says), text


# --- billing_spike -----------------------------------------------------------------------------------------


def test_a_bill_that_follows_the_usage_claims_no_talk_with_the_customer() -> None:
    usual, current = split_calls()
    text = matches_usage_summary(measure_spike(seed_bills()), find_unusual_calls(usual + current, []))
    assert "the bill follows the usage" in text
    assert "customer" not in text and "Went through" not in text


def _compare(mine: list[CallRecord], theirs: list[CallRecord]) -> CounterpartComparison:
    pattern = find_unusual_calls([call(10 + i, 170, 180) for i in range(9)], mine)
    return compare_with_counterpart(pattern.flagged, {"13588120456": theirs})


def test_shorter_records_are_called_shorter() -> None:
    mine = [call(1, 2870, 2880)]
    comparison = _compare(mine, [mine[0].model_copy(update={"id": 100, "duration_seconds": 595})])
    reason = comparison.refund_reason()
    assert reason.startswith("the other party's switch recorded 1 of the calls shorter")
    assert "no record" not in reason
    assert "1 were recorded shorter" in comparison.describe()


def test_no_record_at_all_is_not_called_a_shorter_record() -> None:
    mine = [call(1, 2870, 2880)]
    far_off = mine[0].model_copy(update={"id": 100, "started_at": mine[0].started_at + timedelta(minutes=5)})
    comparison = _compare(mine, [far_off])
    reason = comparison.refund_reason()
    assert reason.startswith("the other party's switch has no record of 1 of the calls")
    assert "shorter" not in reason
    assert "1 have no record at all" in comparison.describe()
    assert comparison.disputed_call_ids == [1]


def test_shorter_and_missing_records_are_both_named() -> None:
    mine = [call(1, 2870, 2880), call(30, 1850, 1860)]
    shorter = mine[0].model_copy(update={"id": 100, "duration_seconds": 595})
    comparison = _compare(mine, [shorter])
    reason = comparison.refund_reason()
    assert "recorded 1 of the calls shorter and the other party's switch has no record of 1" in reason
    assert sorted(comparison.disputed_call_ids) == [1, 30]


def test_agreeing_records_are_described_without_dispute() -> None:
    mine = [call(1, 2870, 2880)]
    comparison = _compare(mine, [mine[0].model_copy(update={"id": 100})])
    text = comparison.describe()
    assert "1 agree" in text and "shorter" not in text and "no record" not in text
    assert comparison.disputed_call_ids == []


# --- arrears_dispute -----------------------------------------------------------------------------------------


def test_arrears_paid_now_name_the_payment() -> None:
    outcome, summary = settlement_result(2340, "PAY-000001", NEW_NUMBER)
    assert outcome == "arrears_paid" and "paid ¥23.40 (PAY-000001)" in summary


@pytest.mark.parametrize(("amount", "reference"), [(0, None), (2340, None), (0, "PAY-000001")])
def test_arrears_found_already_paid_are_not_called_paid_now(amount: int, reference: str | None) -> None:
    outcome, summary = settlement_result(amount, reference, NEW_NUMBER)
    assert outcome == "arrears_already_paid"
    assert "already been paid" in summary and "The customer paid" not in summary


# --- tariff_dispute ------------------------------------------------------------------------------------------


def test_a_plan_change_says_moved_or_already_on_it() -> None:
    assert plan_change_words("SZX-18", True) == "moved to SZX-18"
    assert plan_change_words("SZX-18", False) == "already on SZX-18 (no change needed)"


# --- any remedy found already made -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "verb"), [("refund", "refunded"), ("double_refund", "refunded"), ("arrears_waiver", "waived")]
)
def test_an_already_remedied_charge_names_the_case_the_day_and_the_ledger_row(kind: str, verb: str) -> None:
    adjustment = Adjustment(
        adjustment_id="adj-1",
        kind=kind,  # type: ignore[arg-type]
        amount_fen=2400,
        reason="x",
        needs_approval=False,
        status="already_remedied",
        remedied_by="CMP-FIRST",
        remedied_ledger_id="ADJ-000042",
        remedied_at=datetime(2026, 11, 25, 17, 30, tzinfo=UTC),  # 01:30 on the 26th in Shanghai
    )
    assert already_remedied_summary(adjustment) == (
        f"already {verb} on case CMP-FIRST on 2026-11-26, ledger ADJ-000042: no money moved this time"
    )


def test_explanations_say_what_the_records_show_not_what_the_customer_did() -> None:
    usual, current = split_calls()
    pattern = find_unusual_calls(usual, current)
    assert "declined the comparison, so the calls stand as recorded" in declined_summary(pattern)
    mine = [call(1, 2870, 2880)]
    agreeing = _compare(mine, [mine[0].model_copy(update={"id": 100})])
    text = records_agree_summary(pattern, agreeing)
    assert "no refund" in text and "1 agree" in text
    for claim in (RECORDS_AGREE, text, declined_summary(pattern)):
        assert "did not hang up" not in claim and "stayed connected" not in claim
    assert ADVICE.startswith("If a call was not meant to last that long")
