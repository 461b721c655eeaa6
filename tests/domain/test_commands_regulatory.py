"""The regulatory clocks as commands: the MIIT answer deadline warns, then sends the case to regional support
whatever rung it is on; a partner window's breach is recorded for the partner desk and moves no rung."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as ev
from domain.actors import Role
from domain.cases import Status
from domain.commands import regulatory_breach, regulatory_warn
from domain.errors import InvalidCommand
from domain.regulatory import MIIT_ANSWER, PARTNER_WINDOW
from domain.regulatory_clocks import PARTNER_DESK, RegulatoryMark
from domain.sla import ESCALATION_LADDER
from tests.domain.factories import T0, opened, then

DUE = T0 + timedelta(days=15)
MIIT_WARN = RegulatoryMark(MIIT_ANSWER, "warn", DUE - timedelta(days=3), DUE, Role.REGIONAL_SUPPORT.value)
MIIT_BREACH = RegulatoryMark(MIIT_ANSWER, "breach", DUE, DUE, Role.REGIONAL_SUPPORT.value)


def test_the_miit_deadline_warns_once_reached_and_not_before() -> None:
    state = opened()
    with pytest.raises(InvalidCommand, match="no warning due"):
        regulatory_warn(state, MIIT_WARN.at - timedelta(seconds=1), MIIT_WARN)
    [warned] = regulatory_warn(state, MIIT_WARN.at, MIIT_WARN)
    assert isinstance(warned, ev.SlaWarned) and (warned.clock, warned.due_at) == (MIIT_ANSWER, DUE)
    with pytest.raises(InvalidCommand, match="has not passed"):
        regulatory_breach(state, MIIT_WARN.at, MIIT_WARN)  # a warning mark is no breach


def test_a_passed_miit_deadline_goes_to_regional_support_even_past_the_ladders_top() -> None:
    top = opened().model_copy(update={"escalation_level": len(ESCALATION_LADDER)})
    breached, escalated = regulatory_breach(top, DUE, MIIT_BREACH)
    assert isinstance(breached, ev.SlaBreached) and breached.clock == MIIT_ANSWER
    assert isinstance(escalated, ev.CaseEscalated) and escalated.to_role is Role.REGIONAL_SUPPORT
    assert escalated.level == len(ESCALATION_LADDER) + 1
    after = then(top, [breached, escalated])
    assert after.escalation_level == len(ESCALATION_LADDER) + 1


def test_a_partner_windows_breach_moves_no_rung_and_a_closed_case_takes_none() -> None:
    state = opened()
    window = RegulatoryMark(f"{PARTNER_WINDOW}:req-1", "breach", T0 + timedelta(minutes=30),
                            T0 + timedelta(minutes=30), PARTNER_DESK)
    [breached] = regulatory_breach(state, window.at, window)
    assert isinstance(breached, ev.SlaBreached) and then(state, [breached]).escalation_level == 0
    closed = state.model_copy(update={"status": Status.CLOSED})
    with pytest.raises(InvalidCommand, match="is closed"):
        regulatory_breach(closed, window.at, window)
