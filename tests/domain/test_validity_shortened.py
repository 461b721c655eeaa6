"""validity_shortened decisions with the seed's figures: the -10 yuan batch adjustment (充值送饮料多返充)
that moved the validity from 2010-05-25 to 2008-11-26, and the deferred remedy's follow-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest

from domain.playbooks.validity_shortened import (
    find_validity_cut,
    follow_up_due_at,
    plan_follow_up,
)
from sandboxes.boss_seed import build_seed
from stories.validity_shortened import VALIDITY_CUSTOMER

ANCHOR = date(2024, 3, 18)
BEFORE = date(2010, 5, 25)  # the validity in the customer's first 10086 message
AFTER = date(2008, 11, 26)  # and in the second


@dataclass(frozen=True)
class Line:
    at: datetime
    kind: str
    amount_fen: int
    validity_before: date | None
    validity_after: date | None
    reason: str = ""


def seed_history(anchor: date = ANCHOR) -> list[object]:
    return [b for b in build_seed(anchor).balance_changes if b.msisdn == VALIDITY_CUSTOMER.msisdn]


def test_the_seed_history_points_at_the_batch_adjustment() -> None:
    cut = find_validity_cut(seed_history())  # type: ignore[arg-type]

    assert cut is not None
    assert cut.kind == "batch_adjustment"
    assert cut.amount_fen == -1000
    assert cut.reason == "充值送饮料多返充"
    assert cut.validity_before == ANCHOR + timedelta(days=575)
    assert cut.validity_after == ANCHOR + timedelta(days=30)
    assert cut.days_lost == 545


def test_the_seed_dates_themselves() -> None:
    history = [
        Line(datetime(2008, 3, 1, 2, tzinfo=UTC), "recharge", 10000, date(2008, 6, 1), date(2009, 11, 26)),
        Line(datetime(2008, 3, 1, 3, tzinfo=UTC), "promotion", 1000, date(2009, 11, 26), BEFORE),
        Line(datetime(2008, 5, 31, 15, tzinfo=UTC), "usage", -2600, None, None),
        Line(
            datetime(2008, 10, 20, 1, tzinfo=UTC),
            "batch_adjustment",
            -1000,
            BEFORE,
            AFTER,
            "充值送饮料多返充",
        ),
    ]
    cut = find_validity_cut(history)

    assert cut is not None and (cut.validity_before, cut.validity_after) == (BEFORE, AFTER)
    assert cut.days_lost == 545
    facts = cut.facts()
    assert facts["amount_fen"] == -1000
    assert facts["validity_before"] == "2010-05-25" and facts["validity_after"] == "2008-11-26"
    text = cut.explanation()
    assert "-¥10.00" in text and "2010-05-25" in text and "2008-11-26" in text and "545 days" in text


def test_recharges_and_usage_are_not_cuts() -> None:
    history = [
        Line(datetime(2008, 3, 1, tzinfo=UTC), "recharge", 10000, date(2008, 6, 1), date(2009, 6, 1)),
        Line(datetime(2008, 4, 1, tzinfo=UTC), "usage", -2000, None, None),
        Line(datetime(2008, 5, 1, tzinfo=UTC), "usage", -2000, date(2009, 6, 1), date(2009, 6, 1)),
    ]
    assert find_validity_cut(history) is None
    assert find_validity_cut([]) is None


def test_of_two_cuts_the_latest_is_the_one_the_customer_saw() -> None:
    early = Line(
        datetime(2008, 1, 1, tzinfo=UTC), "batch_adjustment", -500, date(2009, 1, 1), date(2008, 12, 1)
    )
    late = Line(datetime(2008, 10, 1, tzinfo=UTC), "batch_adjustment", -1000, BEFORE, AFTER)
    cut = find_validity_cut([late, early])
    assert cut is not None and cut.validity_after == AFTER


def test_the_follow_up_falls_due_when_the_last_day_ends_in_shanghai() -> None:
    # 2008-11-26 ends at 24:00 Beijing time, 16:00 UTC.
    assert follow_up_due_at(AFTER) == datetime(2008, 11, 26, 16, 0, tzinfo=UTC)


LAPSED = datetime(2008, 11, 26, 16, 0, 1, tzinfo=UTC)  # the first second of 2008-11-27 in Shanghai


@pytest.mark.parametrize("status", ["active", "cancelled"])
def test_a_number_that_is_not_suspended_needs_nothing(status: str) -> None:
    plan = plan_follow_up(status=status, validity_until=AFTER, arrears_fen=0, extend_to=BEFORE, now=LAPSED)
    assert plan.action == "nothing" and not plan.reactivate


def test_suspended_for_the_expiry_is_extended_and_reactivated() -> None:
    plan = plan_follow_up(
        status="suspended", validity_until=AFTER, arrears_fen=0, extend_to=BEFORE, now=LAPSED
    )
    assert plan.action == "extend" and plan.reactivate


def test_suspended_with_arrears_is_extended_but_stays_suspended() -> None:
    plan = plan_follow_up(
        status="suspended", validity_until=AFTER, arrears_fen=2340, extend_to=BEFORE, now=LAPSED
    )
    assert plan.action == "extend" and not plan.reactivate
    assert "¥23.40" in plan.reason


def test_suspended_before_the_validity_ran_out_is_extended_not_reactivated() -> None:
    still_valid = datetime(2008, 11, 26, 15, 0, tzinfo=UTC)  # 23:00 on the last day
    plan = plan_follow_up(
        status="suspended", validity_until=AFTER, arrears_fen=0, extend_to=BEFORE, now=still_valid
    )
    assert plan.action == "extend" and not plan.reactivate


def test_a_validity_already_restored_is_not_extended_again() -> None:
    plan = plan_follow_up(
        status="suspended", validity_until=BEFORE, arrears_fen=0, extend_to=BEFORE, now=LAPSED
    )
    assert plan.action == "nothing"
