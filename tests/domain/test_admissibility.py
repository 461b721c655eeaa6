"""Admissibility at intake: a complaint the MIIT rules exclude is filed and rejected at once, naming the rule."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from domain import commands
from domain import events as ev
from domain.actors import Actor, Role
from domain.cases import Category, Priority, Status
from domain.clock import local_day
from domain.commands import FileComplaint, ReopenComplaint, file_complaint, reopen
from domain.errors import InvalidCommand, InvalidIntake
from domain.intake import intake_of_filed, parse_intake
from domain.policy import Policy
from domain.regulatory import MIIT_ANSWER, RegulatoryRules
from domain.regulatory_clocks import regulatory_clocks
from domain.sla_replay import fold_sla, replay
from domain.state import fold
from domain.tmf_events import CREATE, STATUS_CHANGE, tmf_events
from domain.tmf_status import TmfStatus, tmf_status
from tests.domain.factories import AGENT, T0, intake_data

FILED_ON = local_day(T0)  # 2026-11-25 in Shanghai
SIX_MONTHS_AGO = date(2026, 5, 25)
FOUR_MONTHS_AGO = date(2026, 7, 25)
OLDEST_BILLING = date(2026, 6, 25)  # 5 months before the day of filing
POLICY = Policy(version="p-admit")


def _file(category: str, disputed_since: date | None, policy: Policy = POLICY) -> list[ev.Event]:
    intake = parse_intake(intake_data(category=category, disputed_since=disputed_since, id_number=None,
                                      partner_msisdn=None))
    rules = policy.for_case(intake.category, intake.priority, FILED_ON)
    return file_complaint(FileComplaint(intake=intake, filer=AGENT), T0, rules)


def test_a_billing_dispute_about_six_month_old_charges_is_filed_and_rejected_naming_the_rule() -> None:
    events = _file("billing_spike", SIX_MONTHS_AGO)
    assert [e.type for e in events] == ["ComplaintFiled", "ComplaintRejected"]
    filed, rejected = events
    assert isinstance(filed, ev.ComplaintFiled) and filed.disputed_since == SIX_MONTHS_AGO
    assert isinstance(rejected, ev.ComplaintRejected) and rejected.seq == 2 and rejected.at == T0
    assert rejected.rule == "MIIT: billing disputes older than 5 months are not accepted"
    assert rejected.oldest_accepted == OLDEST_BILLING
    assert rejected.reason == "the disputed charges date from 2026-05-25, before 2026-06-25"

    state = fold(events)
    assert state is not None and not state.is_open
    assert (state.status, state.close_reason, state.closed_at) == (Status.CLOSED, "rejected", T0)
    assert state.rejection is not None and state.rejection.rule == rejected.rule
    assert state.clocks == {} and state.assignee == "unassigned" and state.sla_due_at is None
    assert tmf_status(state.status, state.close_reason) is TmfStatus.REJECTED


def test_a_billing_dispute_about_four_month_old_charges_is_accepted_and_keeps_its_date() -> None:
    events = _file("billing_spike", FOUR_MONTHS_AGO)
    assert [e.type for e in events] == ["ComplaintFiled", "SlaClockStarted", "SlaClockStarted",
                                        "ComplaintAcknowledged", "SlaClockStopped"]
    state = fold(events)
    assert state is not None and state.is_open and state.rejection is None
    assert state.disputed_since == FOUR_MONTHS_AGO
    filed = events[0]
    assert isinstance(filed, ev.ComplaintFiled)
    assert intake_of_filed(filed).disputed_since == FOUR_MONTHS_AGO  # a reopened run starts from it


def test_the_oldest_accepted_day_itself_is_accepted() -> None:
    assert [e.type for e in _file("bill_discrepancy", OLDEST_BILLING)][:2] == ["ComplaintFiled", "SlaClockStarted"]
    assert [e.type for e in _file("bill_discrepancy", OLDEST_BILLING - timedelta(days=1))] == [
        "ComplaintFiled", "ComplaintRejected"]


def test_a_complaint_that_names_no_date_is_accepted() -> None:
    assert "ComplaintRejected" not in [e.type for e in _file("arrears_dispute", None)]


def test_other_disputes_are_held_to_two_years_not_five_months() -> None:
    assert "ComplaintRejected" not in [e.type for e in _file("tariff_dispute", SIX_MONTHS_AGO)]
    events = _file("tariff_dispute", date(2024, 11, 24))
    rejected = events[-1]
    assert isinstance(rejected, ev.ComplaintRejected)
    assert rejected.rule == "MIIT: disputes older than 2 years are not accepted"
    assert rejected.oldest_accepted == date(2024, 11, 25)


def test_the_rule_is_the_servers_policy() -> None:
    """A deployment whose rules say 3 months rejects what the default 5 months accepts."""
    strict = Policy(version="p-3m", regulatory=RegulatoryRules(billing_dispute_months=3))
    rejected = _file("billing_spike", FOUR_MONTHS_AGO, strict)[-1]
    assert isinstance(rejected, ev.ComplaintRejected) and "3 months" in rejected.rule


def test_a_disputed_matter_that_begins_after_the_day_of_filing_is_refused_and_nothing_is_filed() -> None:
    tomorrow = FILED_ON + timedelta(days=1)
    with pytest.raises(InvalidCommand, match="disputed_since: 2026-11-26 is after today"):
        _file("billing_spike", tomorrow)
    with pytest.raises(InvalidIntake, match="disputed_since: 2026-11-26 is after today"):
        parse_intake(intake_data(disputed_since=tomorrow.isoformat()), today=FILED_ON)
    assert parse_intake(intake_data(disputed_since=FILED_ON.isoformat()), today=FILED_ON).disputed_since == FILED_ON


@pytest.mark.parametrize("written", ["yesterday", "2026-13-01", "2026-02-30", "1700000000", "2026-06-15T08:00"])
def test_a_date_that_is_not_a_day_is_bad_input(written: str) -> None:
    with pytest.raises(InvalidIntake, match=r"disputed_since: .*YYYY-MM-DD"):
        parse_intake(intake_data(disputed_since=written), today=FILED_ON)


def test_a_rejected_case_takes_no_more_commands_and_cannot_be_reopened() -> None:
    state = fold(_file("billing_spike", SIX_MONTHS_AGO))
    assert state is not None
    with pytest.raises(InvalidCommand, match="is closed"):
        commands.add_note(state, commands.AddNote(actor=AGENT, text="called back"), T0)
    customer = Actor(id="customer", role=Role.CUSTOMER)
    with pytest.raises(InvalidCommand, match="not accepted at intake"):
        reopen(state, ReopenComplaint(actor=customer, reason="please"), T0 + timedelta(hours=1))


def test_the_rejection_is_the_carriers_answer_to_the_regulator_and_a_status_change_to_listeners() -> None:
    events = _file("billing_spike", SIX_MONTHS_AGO)
    filed_state = fold(events[:1])
    state = fold(events)
    assert filed_state is not None and state is not None
    [miit] = [clock for clock in regulatory_clocks(state, events) if clock.clock == MIIT_ANSWER]
    assert miit.standing == "answered" and miit.answered_at == T0
    assert [t.event_type for t in tmf_events(None, events[0], filed_state)] == [CREATE]
    [change] = tmf_events(filed_state, events[1], state)
    assert change.event_type == STATUS_CHANGE and change.body["event"]["troubleTicket"]["status"] == "rejected"


def test_both_events_read_back_from_their_json_and_older_filings_without_the_date_still_read() -> None:
    for event in _file("billing_spike", SIX_MONTHS_AGO):
        assert ev.parse_event(event.model_dump_json()) == event
    old = _file("billing_spike", None)[0].model_dump(mode="json")
    del old["disputed_since"]
    parsed = ev.parse_event(old)
    assert isinstance(parsed, ev.ComplaintFiled) and parsed.disputed_since is None
    assert parsed.priority is Priority.NORMAL and parsed.category is Category.BILLING_SPIKE


def test_a_rejected_complaint_has_no_sla_to_meet_in_reports_and_what_if() -> None:
    rejected, accepted = _file("billing_spike", SIX_MONTHS_AGO), _file("billing_spike", FOUR_MONTHS_AGO)
    assert replay(rejected) is None and replay(rejected, Policy(version="what-if")) is None
    assert replay(accepted) is not None
    folded = fold_sla(rejected)
    assert folded is not None and not folded.is_open  # `sla repair` leaves it alone
