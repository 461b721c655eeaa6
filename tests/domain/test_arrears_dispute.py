"""arrears_dispute decisions with the seed's figures: a cancelled prepaid number owing 23.40 yuan."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import events as ev
from domain.clock import at_local
from domain.playbooks.arrears_dispute import (
    explain_arrears,
    settlement_choice,
    waiver_reason,
)
from domain.playbooks.common import refusal_reason
from sandboxes.boss_seed import build_seed
from stories.arrears_dispute import ARREARS_CUSTOMER, ARREARS_FEN, ARREARS_LONG_CALL_SECONDS
from tests.domain.factories import SUPERVISOR, Stream

ANCHOR = date(2026, 3, 18)
MSISDN = ARREARS_CUSTOMER.msisdn


def seed_story(anchor: date = ANCHOR):  # type: ignore[no-untyped-def]
    seed = build_seed(anchor)
    customer = next(c for c in seed.customers if c.msisdn == MSISDN)
    calls = sorted((c for c in seed.calls if c.msisdn == MSISDN), key=lambda c: c.started_at)
    history = [line for line in seed.balance_changes if line.msisdn == MSISDN]
    return customer, calls[-1], history


@pytest.mark.parametrize("anchor", [ANCHOR, date(2024, 2, 29), date(2023, 12, 31)])
def test_the_last_long_call_ran_the_balance_into_23_40_yuan_of_arrears(anchor: date) -> None:
    customer, last_call, history = seed_story(anchor)
    explanation = explain_arrears(customer, last_call, history)
    assert explanation.arrears_fen == ARREARS_FEN == 2340 and explanation.owes
    assert explanation.status == "cancelled" and explanation.account_type == "prepaid"
    assert explanation.cancelled_on == anchor - timedelta(days=60)
    assert explanation.last_call_type == "long_distance"
    assert explanation.last_call_minutes == 41 and explanation.last_call_fen == 2460
    assert explanation.last_call_at == at_local(anchor - timedelta(days=150), 15, 20)
    assert last_call.duration_seconds == ARREARS_LONG_CALL_SECONDS
    assert explanation.balance_before_last_call_fen == 120  # 1.20 yuan left when the call started
    assert explanation.final_balance_fen == -2340 and explanation.accounted
    text = explanation.describe()
    assert "owes ¥23.40" in text and "41 min long distance" in text and "accounts for the arrears" in text


def test_a_history_that_does_not_reach_the_arrears_says_so() -> None:
    customer, last_call, history = seed_story()
    explanation = explain_arrears(customer._replace(arrears_fen=3000), last_call, history)
    assert not explanation.accounted and "does NOT account" in explanation.describe()
    assert "does not account" in waiver_reason(explanation)


def test_a_number_that_owes_nothing() -> None:
    customer, _, _ = seed_story()
    explanation = explain_arrears(customer._replace(arrears_fen=0), None, [])
    assert (
        not explanation.owes and explanation.last_call_fen is None and explanation.final_balance_fen is None
    )
    assert "owes nothing" in explanation.describe()


def test_the_facts_are_plain_json_values() -> None:
    import json

    customer, last_call, history = seed_story()
    facts = explain_arrears(customer, last_call, history).facts()
    assert json.loads(json.dumps(facts)) == facts
    assert facts["arrears_fen"] == 2340 and facts["last_call_fen"] == 2460


def test_the_customers_answer() -> None:
    assert settlement_choice("pay") == "pay"
    assert settlement_choice("dispute") == "dispute"
    assert settlement_choice(None) == "no_answer"
    with pytest.raises(ValueError, match="not one of"):
        settlement_choice("maybe")


def test_the_waiver_reason_names_the_amount() -> None:
    customer, last_call, history = seed_story()
    assert "¥23.40" in waiver_reason(explain_arrears(customer, last_call, history))


def test_the_refusal_reason_is_the_approvers_latest_word_on_that_adjustment() -> None:
    s = Stream()
    timeline = [
        s.filed(),
        s.next(ev.AdjustmentRefused, actor=SUPERVISOR, adjustment_id="adj-1", reason="usage is genuine"),
        s.next(ev.AdjustmentRefused, actor=SUPERVISOR, adjustment_id="adj-2", reason="another one"),
    ]
    assert refusal_reason(timeline, "adj-1") == "usage is genuine"
    assert refusal_reason(timeline, "adj-3") == "refused"
