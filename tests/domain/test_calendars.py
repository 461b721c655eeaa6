"""Calendars as data: the library's real State Council days, the deployment's own, the weekday fallback for
a year nobody has announced, and the regulator's clocks."""

from __future__ import annotations

import subprocess
import sys
from datetime import date, timedelta

import chinese_calendar
import pytest

from domain.business_calendar import add_business, business_between
from domain.calendars import REGULATOR_DAYS, STORE_HOURS, CalendarDays, build_calendar, library_years
from domain.cases import Category, Priority
from domain.clock import at_local
from domain.policy import Policy
from domain.regulatory import RegulatoryRules, admissibility, miit_answer_due, months_before, partner_window_due

RULES = RegulatoryRules()


def test_the_library_knows_the_announced_years_and_says_so_for_the_next() -> None:
    """chinese-calendar 1.11.0 has 2004-2026; 2027's notice is not in it, and it raises rather than guess."""
    assert library_years() == range(2004, 2027)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 10, 8))


def test_a_billing_dispute_filed_at_17_50_before_national_day_2025_is_due_after_the_holiday() -> None:
    store = build_calendar(STORE_HOURS, [2025])
    filed = at_local(date(2025, 9, 30), 17, 50)  # Tuesday, the last workday before 1-8 October
    # 10 minutes on 30 September, then 7 h 50 on Thursday 9 October, the first workday after the holiday.
    assert add_business(store, filed, timedelta(hours=8)) == at_local(date(2025, 10, 9), 17, 50)
    assert business_between(store, filed, at_local(date(2025, 10, 8), 23, 59)) == timedelta(minutes=10)


def test_a_make_up_sunday_works_and_a_lunch_break_does_not() -> None:
    store = build_calendar(STORE_HOURS, [2025])
    make_up = date(2025, 9, 28)  # a Sunday worked for National Day 2025
    assert make_up.weekday() == 6 and store.is_workday(make_up)
    assert business_between(store, at_local(make_up, 11, 0), at_local(make_up, 14, 0)) == timedelta(hours=2)


def test_an_unannounced_year_falls_back_to_weekdays_and_is_recorded_on_the_case() -> None:
    rules = Policy(version="v1").for_case(Category.BILLING_SPIKE, Priority.NORMAL, date(2026, 12, 2))
    assert rules.calendar is not None and rules.calendar.known_years == {2026}
    assert rules.calendar_fallback_years == [2027]
    # 1 January 2027 is a Friday the library does not know: it counts as a plain weekday.
    assert rules.calendar.is_workday(date(2027, 1, 1))
    assert rules.calendar.fallback_years(at_local(date(2026, 12, 31), 9, 0), at_local(date(2027, 1, 4), 9, 0)) == [
        2027
    ]


def test_the_deployment_enters_next_years_notice_before_the_library_has_it() -> None:
    notice = CalendarDays(
        days={date(2027, 1, 1): "holiday", date(2027, 2, 20): "workday"}, known_years=frozenset({2027}), note="2027"
    )
    policy = Policy(version="v2", calendar_days=notice)
    rules = policy.for_case(Category.TARIFF_DISPUTE, Priority.NORMAL, date(2026, 12, 2))
    assert rules.calendar is not None and rules.calendar_fallback_years == []
    assert not rules.calendar.is_workday(date(2027, 1, 1))
    assert rules.calendar.is_workday(date(2027, 2, 20))  # a Saturday
    assert "deployment days" in rules.calendar.source


def test_the_deployment_can_correct_a_day_the_library_has() -> None:
    corrected = build_calendar(STORE_HOURS, [2026], CalendarDays(days={date(2026, 10, 10): "holiday"}))
    assert not corrected.is_workday(date(2026, 10, 10))  # the library's make-up Saturday, taken back


def test_a_calendar_saves_the_same_json_in_every_process() -> None:
    """Its days are sets, whose order follows the hash seed: a case saved by one process and checked by another
    (the store against the run's history, in `starter verify`) must see the same bytes."""
    dump = (
        "from domain.calendars import REGULATOR_DAYS, build_calendar; "
        "print(build_calendar(REGULATOR_DAYS, [2025, 2026]).model_dump_json())"
    )
    seen = {
        subprocess.run(
            [sys.executable, "-c", dump], env={"PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        ).stdout
        for seed in ("1", "2", "3")
    }
    assert len(seen) == 1


def test_each_category_names_its_calendar() -> None:
    policy = Policy(version="v1")
    assert policy.for_case(Category.FORWARDING_CANCEL, Priority.URGENT).sla.calendar == "24x7"
    assert policy.for_case(Category.SPAM_SMS, Priority.NORMAL).sla.calendar == "24x7"
    for billing in (Category.BILLING_SPIKE, Category.BILL_DISCREPANCY, Category.ARREARS_DISPUTE):
        assert policy.for_case(billing, Priority.NORMAL).sla.calendar == "store-hours"
    round_the_clock = policy.for_case(Category.FORWARDING_CANCEL, Priority.NORMAL, date(2026, 12, 2)).calendar
    assert round_the_clock is not None and round_the_clock.is_round_the_clock


def test_the_miit_answer_deadline_counts_from_the_day_after_filing_and_moves_off_a_holiday() -> None:
    days = build_calendar(REGULATOR_DAYS, [2025, 2026])
    # Filed 3 March 2026 (any hour): day 1 is 4 March, day 15 is 18 March, a Wednesday.
    assert miit_answer_due(at_local(date(2026, 3, 3), 23, 0), days, RULES) == at_local(date(2026, 3, 19), 0, 0)
    # Filed 20 September 2025: day 15 is 5 October, inside National Day: the deadline moves to 9 October.
    assert miit_answer_due(at_local(date(2025, 9, 20), 10, 0), days, RULES) == at_local(date(2025, 10, 10), 0, 0)
    # Configurable: 10 days from 3 March end with Friday 13 March.
    ten_days = RegulatoryRules(answer_days=10)
    assert miit_answer_due(at_local(date(2026, 3, 3), 9, 0), days, ten_days) == at_local(date(2026, 3, 14), 0, 0)
    # 11 days end on Saturday 14 March, a rest day: the deadline moves to Monday.
    eleven_days = RegulatoryRules(answer_days=11)
    assert miit_answer_due(at_local(date(2026, 3, 3), 9, 0), days, eleven_days) == at_local(date(2026, 3, 17), 0, 0)


def test_admissibility_names_the_rule_it_rejects_by() -> None:
    filed = date(2026, 7, 31)
    assert months_before(filed, 5) == date(2026, 2, 28)
    assert admissibility(Category.BILLING_SPIKE, date(2026, 2, 28), filed, RULES) is None
    rejected = admissibility(Category.BILLING_SPIKE, date(2026, 2, 27), filed, RULES)
    assert rejected is not None and "5 months" in rejected.rule and rejected.oldest_accepted == date(2026, 2, 28)
    assert admissibility(Category.TARIFF_DISPUTE, date(2024, 8, 1), filed, RULES) is None
    other = admissibility(Category.TARIFF_DISPUTE, date(2024, 7, 30), filed, RULES)
    assert other is not None and "2 years" in other.rule
    assert admissibility(Category.BILLING_SPIKE, None, filed, RULES) is None


def test_the_partner_window_is_thirty_minutes_round_the_clock() -> None:
    sent = at_local(date(2026, 10, 1), 23, 50)  # a holiday night: the partner desk never closes
    assert partner_window_due(sent, RULES) == sent + timedelta(minutes=30)
