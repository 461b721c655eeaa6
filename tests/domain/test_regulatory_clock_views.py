"""Where a case's regulatory clocks stand, read from its events (what `show` and the API print)."""

from __future__ import annotations

from datetime import timedelta

from cli.timeline import render_case
from domain import events as ev
from domain.regulatory import miit_answer_due
from domain.regulatory_clocks import PARTNER_DESK, regulatory_clocks
from domain.state import fold
from tests.domain.factories import Stream, regulated_case


def test_the_miit_deadline_and_each_partner_window_stand_as_their_events_say() -> None:
    events = regulated_case("CASE-REG1")
    state = fold(events)
    assert state is not None and state.rules.regulator_calendar is not None
    miit, lookup, cancel = regulatory_clocks(state, events)

    assert miit.clock == "miit_answer" and miit.started_at == events[0].at
    assert miit.due_at == miit_answer_due(events[0].at, state.rules.regulator_calendar, state.rules.regulatory)
    assert (miit.standing, miit.warned_at, miit.escalate_to) == ("warned", events[-1].at, "regional_support")

    sent, answered = events[2], events[3]
    assert (lookup.clock, lookup.standing, lookup.answered_at) == ("partner_window:CASE-REG1:lookup", "answered",
                                                                    answered.at)
    assert lookup.due_at == sent.at + timedelta(minutes=30) and lookup.escalate_to == PARTNER_DESK
    assert (cancel.standing, cancel.breached_at, cancel.answered_at) == ("breached", events[5].at, None)
    assert cancel.due_at == events[4].at + timedelta(minutes=30) and cancel.partner == "unicom"


def test_a_resolved_case_has_answered_the_regulator() -> None:
    events = regulated_case("CASE-REG2")[:2]
    s = Stream("CASE-REG2")
    s.seq, s.at = 2, events[-1].at
    events.append(s.next(ev.ComplaintResolved, after=timedelta(hours=3), outcome="fixed", summary="done"))
    state = fold(events)
    assert state is not None
    (miit,) = regulatory_clocks(state, events)
    assert (miit.standing, miit.answered_at) == ("answered", events[-1].at)


def test_a_case_filed_before_regulatory_clocks_has_none() -> None:
    s = Stream("CASE-OLD")
    events = [s.filed()]
    state = fold(events)
    assert state is not None and regulatory_clocks(state, events) == []


def test_show_prints_each_clock_where_it_stands() -> None:
    events = regulated_case("CASE-REG3")
    state = fold(events)
    assert state is not None
    shown = render_case(state, events, now=events[-1].at)
    assert "regulatory clocks:" in shown
    lines = {line.split()[0]: line for line in shown.splitlines() if "a breach goes to" in line}
    assert "warned" in lines["miit_answer"] and "regional_support" in lines["miit_answer"]
    assert "answered at" in lines["partner_window:CASE-REG3:lookup"]
    assert "breached" in lines["partner_window:CASE-REG3:cancel"]
    assert "partner_desk" in lines["partner_window:CASE-REG3:cancel"]
