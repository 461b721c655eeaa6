"""What the console draws, from events alone: a clock's bar with its pause and escalation, the queue's
badges, the dashboard's percentile and chart, the facts in yuan."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from cli.timeline import regulatory_line, render_case
from client.api import CaseSummary
from console import dashboard, views
from domain import events as ev
from domain.actors import Role
from domain.cases import Category, Priority
from domain.policy import Policy
from domain.regulatory_clocks import regulatory_clocks
from domain.state import fold
from tests.domain.factories import T0, Stream

HOUR = timedelta(hours=1)


def paused_then_escalated() -> list[ev.Event]:
    """A 10-hour clock (warned at 80%) paused for 5 hours from hour 2, escalated at hour 9."""
    s = Stream()
    return [
        s.filed(),
        s.next(ev.SlaClockStarted, clock="resolve", budget_seconds=10 * 3600, warn_percent=80),
        s.next(ev.SlaClockPaused, after=2 * HOUR, clock="resolve", reason="waiting for the customer"),
        s.next(ev.SlaClockResumed, after=5 * HOUR, clock="resolve", paused_ms=5 * 3600 * 1000),
        s.next(ev.CaseEscalated, after=2 * HOUR, level=1, to_role=Role.STORE_MANAGER, reason="slow"),
    ]


def test_a_pause_moves_the_deadline_and_is_drawn_as_a_stretch() -> None:
    timeline = paused_then_escalated()
    state = fold(timeline)
    assert state is not None
    (bar,) = views.clock_bars(state, timeline, now=T0 + 10 * HOUR)
    # Deadline: 10 h budget + 5 h paused = hour 15; the bar spans hours 0..15.
    deadline = next(m for m in bar.marks if m.label == "deadline")
    warn = next(m for m in bar.marks if m.label.startswith("warn"))
    escalated = next(m for m in bar.marks if m.label.startswith("escalated"))
    assert (deadline.percent, warn.percent, escalated.percent) == (100.0, round(13 / 15 * 100, 2), 60.0)
    assert deadline.when == "2026-11-26 00:00:00"  # 01:00 UTC + 15 h = 16:00 UTC, midnight in Shanghai
    (pause,) = bar.paused
    assert (pause.start, pause.width) == pytest.approx((2 / 15 * 100, 5 / 15 * 100), abs=0.01)
    assert bar.elapsed_percent == round(10 / 15 * 100, 2) and bar.badge is views.ON_TIME
    (late,) = views.clock_bars(state, timeline, now=T0 + 16 * HOUR)
    assert late.badge is views.BREACHED and late.elapsed_percent == 100.0


def test_queue_badges_say_the_sla_state_in_words() -> None:
    def row(due_in: timedelta | None) -> CaseSummary:
        due = None if due_in is None else T0 + due_in
        return CaseSummary("C", "spam_sms", "normal", "investigating", "agent", 0, due)

    window = 4 * HOUR
    badges = [views.queue_badge(row(d), T0, window).label for d in (None, -HOUR, 3 * HOUR, 5 * HOUR)]
    assert badges == ["paused / no running clock", "breached", "due soon", "on time"]


def test_the_p90_is_the_nearest_rank_and_durations_read_as_words() -> None:
    assert dashboard.nearest_rank([float(n) for n in range(1, 11)], 90) == 9.0
    assert dashboard.nearest_rank([5.0], 90) == 5.0
    assert [dashboard.span(s) for s in (40, 125, 7500, 3 * 86400 + 4 * 3600)] == ["40 s", "2 min 5 s", "2 h 5 min",
                                                                                   "3 d 4 h"]


def test_the_sla_chart_writes_its_counts_beside_the_bars() -> None:
    svg = dashboard.sla_chart([dashboard.SlaWeek("2026-W48", "spam_sms", 3, 1)])
    assert svg.startswith("<svg") and "3 met, 1 breached" in svg and "<title" in svg


def test_evidence_facts_show_fen_in_yuan_however_nested() -> None:
    s = Stream()
    evidence = s.next(ev.EvidenceRecorded, step="day-by-day", summary="overcharged",
                      facts={"totals_fen": {"billing": 7311}, "days": [{"day": 9, "overcharge_fen": 1200}], "ok": True})
    (entry,) = views.timeline_entries([evidence])
    assert entry.details == ["totals_fen: {billing: ¥73.11}", "days: [{day: 9, overcharge_fen: ¥12.00}]", "ok: True"]



def test_the_case_page_shows_each_regulatory_clock_in_the_line_show_prints() -> None:
    s = Stream()
    rules = Policy(version="t").for_case(Category.FORWARDING_CANCEL, Priority.NORMAL, filed_on=date(2026, 11, 25))
    minute = timedelta(minutes=1)
    timeline = [
        s.filed(policy=rules),
        s.next(ev.PartnerRequestSent, after=minute, partner="unicom", action="cancel_forwarding", request_key="r1"),
        s.next(ev.PartnerRequestConfirmed, after=10 * minute, partner="unicom", action="cancel_forwarding",
               request_key="r1", effective=True),
        s.next(ev.PartnerRequestSent, after=10 * minute, partner="unicom", action="check_forwarding",
               request_key="r2"),
        s.next(ev.SlaBreached, after=30 * minute, clock="partner_window:r2", due_at=T0 + 51 * minute),
    ]
    state = fold(timeline)
    assert state is not None
    clocks = regulatory_clocks(state, timeline)
    assert [(c.clock, c.standing) for c in clocks] == [
        ("miit_answer", "running"), ("partner_window:r1", "answered"), ("partner_window:r2", "breached")]
    lines = [regulatory_line(clock) for clock in clocks]
    # Filed 09:00 on 25 Nov (Shanghai): day 1 is the 26th, day 15 the 10th of December, a Thursday.
    assert lines[0].startswith("miit_answer") and "due 2026-12-11 00:00:00  running" in lines[0]
    assert "due 2026-11-25 09:51:00  breached  (a breach goes to partner_desk)" in lines[2]
    shown = render_case(state, timeline, T0 + HOUR)  # `starter show`: the same lines, under "regulatory clocks"
    assert "  regulatory clocks:\n" + "\n".join(f"    {line}" for line in lines) in shown
