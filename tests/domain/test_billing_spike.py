"""billing_spike decisions with the seed's figures: 4x the usual bill, 58.20 yuan of long calls yesterday."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from domain.billing_records import CallRecord, MonthlyBill
from domain.clock import at_local
from domain.playbooks.billing_spike import (
    MIN_UNUSUAL_SECONDS,
    NoCurrentBill,
    compare_with_counterpart,
    find_unusual_calls,
    local_window,
    measure_spike,
)
from sandboxes.boss_rows import current_period_start, period_bounds
from sandboxes.boss_seed import build_seed
from stories.billing_spike import BILLING_SPIKE_COUNTERPART, BILLING_SPIKE_CUSTOMER, SPIKE_LONG_CALLS_FEN

ANCHOR = date(2026, 3, 18)
SPIKE = BILLING_SPIKE_CUSTOMER.msisdn
COUNTERPART = BILLING_SPIKE_COUNTERPART.msisdn


def seed_calls(anchor: date = ANCHOR) -> list[CallRecord]:
    """The seed's call rows as the billing system returns them (with ids)."""
    return [CallRecord(id=i, **row._asdict()) for i, row in enumerate(build_seed(anchor).calls, start=1)]


def seed_bills(anchor: date = ANCHOR) -> list[MonthlyBill]:
    return [MonthlyBill(**row._asdict()) for row in build_seed(anchor).bills if row.msisdn == SPIKE]


def split_calls(anchor: date = ANCHOR) -> tuple[list[CallRecord], list[CallRecord]]:
    """The spike customer's own calls: the closed periods', and the current period's."""
    start = current_period_start(anchor)
    usual_from = period_bounds(anchor, 6)[0]
    begin, cut = local_window(usual_from, start)[0], local_window(start, start)[0]
    own = [c for c in seed_calls(anchor) if c.msisdn == SPIKE]
    return [c for c in own if begin <= c.started_at < cut], [c for c in own if c.started_at >= cut]


def call(
    call_id: int, seconds: int, charge_fen: int, *, day: int = 1, party: str = "13588120456"
) -> CallRecord:
    return CallRecord(
        id=call_id,
        msisdn=SPIKE,
        other_party=party,
        direction="outgoing",
        call_type="local",
        started_at=datetime(2026, 3, day, 2, 0, tzinfo=UTC) + timedelta(minutes=call_id),
        duration_seconds=seconds,
        charge_fen=charge_fen,
    )


@pytest.mark.parametrize("anchor", [ANCHOR, date(2024, 3, 31), date(2024, 2, 29), date(2025, 1, 5)])
def test_the_bill_is_over_four_times_the_usual(anchor: date) -> None:
    spike = measure_spike(seed_bills(anchor))
    assert spike.closed_periods == 6
    assert spike.usual_fen == 3000  # about 30 yuan a month
    assert spike.current_fen == 120 * 60 + SPIKE_LONG_CALLS_FEN  # ordinary calls plus the long ones
    assert spike.percent == 434 and "4.34 times" in spike.describe()
    assert spike.current_start == current_period_start(anchor)


@pytest.mark.parametrize("anchor", [ANCHOR, date(2024, 3, 31), date(2025, 1, 5)])
def test_the_three_long_calls_of_yesterday_are_flagged_and_nothing_else(anchor: date) -> None:
    usual, current = split_calls(anchor)
    pattern = find_unusual_calls(usual, current)
    assert pattern.baseline == "closed_periods" and pattern.usual_calls == len(usual) > 50
    assert pattern.flagged_fen == SPIKE_LONG_CALLS_FEN == 5820
    assert [c.duration_seconds for c in pattern.flagged] == [2870, 1850, 1065]
    assert {c.started_at for c in pattern.flagged} == {
        at_local(anchor - timedelta(days=1), h, m) for h, m, _ in [(19, 2, 0), (20, 15, 0), (21, 40, 0)]
    }
    assert pattern.other_parties == [COUNTERPART]
    facts = pattern.facts()
    assert facts["flagged_fen"] == 5820 and len(facts["flagged"]) == 3
    assert COUNTERPART not in str(facts)  # the other party's number is masked in the evidence


def test_the_other_partys_records_agree_with_the_seed() -> None:
    usual, current = split_calls()
    pattern = find_unusual_calls(usual, current)
    theirs = [c for c in seed_calls() if c.msisdn == COUNTERPART and c.other_party == SPIKE]
    comparison = compare_with_counterpart(pattern.flagged, {COUNTERPART: theirs})
    assert comparison.all_agree and comparison.disputed_fen == 0
    assert [c.other_seconds for c in comparison.calls] == [2870, 1850, 1065]


def test_a_shorter_record_on_the_other_side_disputes_the_difference_at_the_calls_own_rate() -> None:
    mine = [call(1, 2870, 2880), call(2, 1850, 1860)]  # 48 and 31 billed minutes at 0.60
    pattern = find_unusual_calls([call(10 + i, 170, 180) for i in range(9)], mine)
    theirs = [
        mine[0].model_copy(update={"id": 100, "duration_seconds": 595}),
        mine[1].model_copy(update={"id": 101}),
    ]
    comparison = compare_with_counterpart(pattern.flagged, {"13588120456": theirs})
    first, second = comparison.calls
    assert (first.verdict, first.disputed_fen) == ("disagrees", 2880 - 600)  # 10 minutes are not disputed
    assert (second.verdict, second.disputed_fen) == ("agrees", 0)
    assert comparison.disputed_fen == 2280 and not comparison.all_agree


def test_a_call_the_other_side_never_recorded_is_disputed_in_full() -> None:
    mine = [call(1, 2870, 2880)]
    pattern = find_unusual_calls([call(10, 170, 180)], mine)
    far_off = mine[0].model_copy(update={"id": 100, "started_at": mine[0].started_at + timedelta(minutes=5)})
    comparison = compare_with_counterpart(pattern.flagged, {"13588120456": [far_off]})
    assert comparison.calls[0].verdict == "disagrees" and comparison.calls[0].other_seconds is None
    assert comparison.disputed_fen == 2880


def test_another_carriers_party_leaves_the_call_unverifiable_not_disputed() -> None:
    mine = [call(1, 2870, 2880, party="13067890001")]
    pattern = find_unusual_calls([call(10, 170, 180)], mine)
    comparison = compare_with_counterpart(pattern.flagged, {}, unavailable_parties=["13067890001"])
    assert [c.verdict for c in comparison.calls] == ["unverifiable"]
    assert comparison.disputed_fen == 0 and not comparison.all_agree
    assert "cannot be checked" in comparison.describe()


def test_one_record_on_the_other_side_matches_only_one_call() -> None:
    mine = [call(1, 1800, 1800), call(2, 1800, 1800)]  # two calls a minute apart
    pattern = find_unusual_calls([call(10, 170, 180)], mine)
    theirs = [mine[0].model_copy(update={"id": 100})]
    comparison = compare_with_counterpart(pattern.flagged, {"13588120456": theirs})
    assert [c.verdict for c in comparison.calls] == ["agrees", "disagrees"]
    assert comparison.disputed_fen == 1800


def test_short_calls_are_never_flagged_however_short_the_usual_ones() -> None:
    usual = [call(i, 30, 60) for i in range(10)]  # half-minute calls
    five_minutes = call(20, 5 * 60, 300)
    assert five_minutes.duration_seconds < MIN_UNUSUAL_SECONDS
    assert find_unusual_calls(usual, [five_minutes]).flagged == ()


def test_a_dear_call_of_usual_length_is_flagged_by_its_charge() -> None:
    usual = [call(i, 300, 300) for i in range(10)]
    roaming = call(20, 300, 3000)  # same length, ten times the charge
    assert [c.call_id for c in find_unusual_calls(usual, [roaming]).flagged] == [20]


def test_without_closed_periods_the_current_calls_are_the_baseline() -> None:
    current = [call(i, 200, 120) for i in range(8)] + [call(30, 2870, 2880)]
    pattern = find_unusual_calls([], current)
    assert pattern.baseline == "current_period" and [c.call_id for c in pattern.flagged] == [30]


def test_no_calls_at_all_flags_nothing() -> None:
    pattern = find_unusual_calls([], [])
    assert pattern.flagged == () and pattern.flagged_fen == 0


def test_a_bill_list_without_the_open_bill_is_refused() -> None:
    with pytest.raises(NoCurrentBill):
        measure_spike([bill for bill in seed_bills() if bill.closed])


def test_a_customer_without_history_has_no_ratio() -> None:
    current = [bill for bill in seed_bills() if not bill.closed]
    spike = measure_spike(current)
    assert spike.percent is None and spike.usual_from is None and "no closed bills" in spike.describe()


def test_the_local_window_runs_from_shanghai_midnight_to_midnight() -> None:
    since, until = local_window(date(2026, 3, 1), date(2026, 3, 31))
    assert since == datetime(2026, 2, 28, 16, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 31, 16, 0, tzinfo=UTC)
