"""The harm rule (domain.remediation.assess) on hand-made rows and on the seed's generated batch."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest

from domain.clock import at_local
from domain.errors import InvalidCommand
from domain.playbooks.validity_shortened import ValidityCut, already_restored
from domain.remediation import (
    BatchLine,
    Harm,
    Remedy,
    assess,
    check_batch_id,
    plan,
    remediation_case_id,
)
from sandboxes.batch_population import Fate, fate_of
from sandboxes.boss_seed import build_seed
from stories import validity_shortened as story

TODAY = date(2026, 12, 2)
BATCH_AT = at_local(TODAY - timedelta(days=5), 9, 0)


def line(before: date | None, after: date | None, *, status: str = "active", now: date | None = None,
         arrears_fen: int = 0, amount_fen: int = -1000) -> BatchLine:
    return BatchLine(msisdn="13820900001", at=BATCH_AT, amount_fen=amount_fen, reason="充值送饮料多返充",
                     validity_before=before, validity_after=after, status=status,
                     validity_until=now if now is not None else after, arrears_fen=arrears_fen)


def test_shortened_validity_is_restored_to_where_it_was() -> None:
    before, after = TODAY + timedelta(days=575), TODAY + timedelta(days=30)
    result = assess(line(before, after), TODAY)
    assert (result.harm, result.remedy, result.days_lost, result.restore_to) == (
        Harm.SHORTENED, Remedy.RESTORE_VALIDITY, 545, before)
    assert result.clawed_back_fen == 1000


def test_suspended_since_the_cut_ran_out_is_restored_and_reactivated() -> None:
    before, after = TODAY + timedelta(days=100), TODAY - timedelta(days=2)
    result = assess(line(before, after, status="suspended"), TODAY)
    assert (result.harm, result.remedy, result.days_lost) == (Harm.SUSPENDED, Remedy.RESTORE_AND_REACTIVATE, 102)


def test_suspended_with_arrears_gets_its_validity_but_stays_suspended() -> None:
    before, after = TODAY + timedelta(days=100), TODAY - timedelta(days=2)
    result = assess(line(before, after, status="suspended", arrears_fen=2300), TODAY)
    assert (result.harm, result.remedy) == (Harm.SUSPENDED, Remedy.RESTORE_VALIDITY)
    assert "owed" in result.reason


@pytest.mark.parametrize(
    ("row", "harm"),
    [
        (line(TODAY - timedelta(days=40), TODAY - timedelta(days=70), status="suspended"), Harm.ALREADY_PAST),
        (line(TODAY + timedelta(days=50), TODAY + timedelta(days=3), now=TODAY + timedelta(days=140)),
         Harm.TOPPED_UP),
        (line(TODAY + timedelta(days=50), TODAY + timedelta(days=50), amount_fen=200), Harm.NOT_CUT),
        (line(None, None), Harm.NOT_CUT),
        (line(TODAY + timedelta(days=50), TODAY + timedelta(days=3), status="cancelled"), Harm.CANCELLED),
    ],
)
def test_unharmed_numbers_get_no_remedy(row: BatchLine, harm: Harm) -> None:
    result = assess(row, TODAY)
    assert (result.harm, result.remedy, result.harmed, result.days_lost) == (harm, Remedy.NONE, False, 0)


def test_a_topped_up_number_short_of_the_old_validity_is_still_harmed_by_the_rest() -> None:
    before = TODAY + timedelta(days=100)
    result = assess(line(before, TODAY + timedelta(days=3), now=TODAY + timedelta(days=40)), TODAY)
    assert (result.harm, result.days_lost) == (Harm.SHORTENED, 60)


def _seed_lines(batch_id: str) -> list[BatchLine]:
    seed = build_seed(TODAY)
    members = {(r.msisdn, r.at) for r in seed.batch_rows if r.batch_id == batch_id}
    customers = {c.msisdn: c for c in seed.customers}
    return [
        BatchLine(msisdn=h.msisdn, at=h.at, amount_fen=h.amount_fen, reason=h.reason,
                  validity_before=h.validity_before, validity_after=h.validity_after,
                  status=customers[h.msisdn].status, validity_until=customers[h.msisdn].validity_until,
                  arrears_fen=customers[h.msisdn].arrears_fen)
        for h in seed.balance_changes
        if (h.msisdn, h.at) in members and h.kind == "batch_adjustment"
    ]


def test_the_seed_batch_touches_2000_numbers_and_the_rule_finds_each_ones_fate() -> None:
    lines = _seed_lines(story.CLAWBACK_BATCH_ID)
    assert len(lines) == story.BATCH_NUMBERS == 2000
    expected = {Fate.SHORTENED: Harm.SHORTENED, Fate.SUSPENDED: Harm.SUSPENDED,
                Fate.ALREADY_PAST: Harm.ALREADY_PAST, Fate.TOPPED_UP: Harm.TOPPED_UP}
    for row in lines:
        found = assess(row, TODAY).harm
        if row.msisdn == story.VALIDITY_CUSTOMER.msisdn:
            assert found is Harm.SHORTENED  # 王先生: 545 days
            assert assess(row, TODAY).days_lost == story.VALIDITY_SHORTENED_BY_DAYS
        else:
            assert found is expected[fate_of(int(row.msisdn) - story.BATCH_FIRST_MSISDN)], row
    summary = plan(story.CLAWBACK_BATCH_ID, (assess(row, TODAY) for row in lines))
    assert summary.numbers == 2000
    # 1,999 generated (six in ten shortened, two suspended, one past, one topped up) and 王先生, shortened
    assert summary.by_harm == {"shortened": 1201, "suspended": 400, "already_past": 200, "topped_up": 199}
    assert summary.harmed == 1601 == sum(summary.by_remedy.values())
    assert summary.clawed_back_fen == 1601 * 1000 and summary.refund_fen == 0
    assert summary.validity_days > 0
    assert "1601 harmed" in summary.render()


def test_the_harmless_batch_harms_nobody() -> None:
    lines = _seed_lines(story.CREDIT_BATCH_ID)
    assert len(lines) == 200
    assert Counter(assess(row, TODAY).harm for row in lines) == {Harm.NOT_CUT: 200}


def test_case_ids_are_stable_and_hold_no_phone_number() -> None:
    assert remediation_case_id("B-DRINKS-CLAWBACK", 17) == "REM-B-DRINKS-CLAWBACK-00017"
    assert check_batch_id("B-DRINKS-CLAWBACK") == "B-DRINKS-CLAWBACK"
    with pytest.raises(InvalidCommand):
        check_batch_id("b; drop table")


def test_a_walk_in_finds_nothing_to_restore_once_the_validity_runs_where_it_did() -> None:
    cut = ValidityCut(at=BATCH_AT, kind="batch_adjustment", amount_fen=-1000, reason="充值送饮料多返充",
                      validity_before=TODAY + timedelta(days=575), validity_after=TODAY + timedelta(days=30))
    assert not already_restored(cut, TODAY + timedelta(days=30))
    assert not already_restored(cut, None)
    assert already_restored(cut, TODAY + timedelta(days=575))
    assert already_restored(cut, TODAY + timedelta(days=600))
