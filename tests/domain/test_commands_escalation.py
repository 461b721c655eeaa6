"""Escalation climbs the one ladder (domain.sla): on a breach, on a stuck step, on an unhappy customer."""

from __future__ import annotations

from datetime import timedelta

import pytest

from domain import events as ev
from domain.actors import Role
from domain.cases import Status
from domain.commands import breach, can_escalate, escalate, mark_reached, needs_attention, next_mark, warn
from domain.errors import InvalidCommand
from domain.sla import ESCALATION_LADDER, RESOLVE
from tests.domain.factories import T0, opened, then


def test_each_escalation_climbs_one_rung_until_the_last_which_repeats() -> None:
    state = opened()
    roles = []
    while can_escalate(state):
        [escalated] = escalate(state, T0, "stalled")
        assert isinstance(escalated, ev.CaseEscalated) and escalated.level == state.escalation_level + 1
        roles.append(escalated.to_role)
        state = then(state, [escalated])
    assert roles == list(ESCALATION_LADDER[1:]) and roles[-1] is Role.SUPERVISOR


def test_a_stuck_step_says_why_and_escalates() -> None:
    state = opened()
    stuck, escalated = needs_attention(state, T0, "cancel_forwarding", "PartnerError", "Unicom is down")
    assert isinstance(stuck, ev.CaseNeedsAttention) and isinstance(escalated, ev.CaseEscalated)
    assert escalated.reason == "needs attention: Unicom is down" and escalated.to_role is Role.STORE_MANAGER
    after = then(state, [stuck, escalated])
    assert after.status is Status.NEEDS_ATTENTION and after.attention_reason == "Unicom is down"


def test_a_breached_deadline_is_recorded_and_escalated() -> None:
    state = opened()
    now = T0 + timedelta(minutes=31)
    breached, escalated = breach(state, now, RESOLVE)
    assert isinstance(breached, ev.SlaBreached) and breached.due_at == T0 + timedelta(minutes=30)
    assert isinstance(escalated, ev.CaseEscalated) and "passed (1x)" in escalated.reason
    after = then(state, [breached, escalated])
    assert after.clocks[RESOLVE].breaches == 1 and after.escalation_level == 1


def test_no_breach_of_a_stopped_clock_or_past_the_top_rung() -> None:
    state = opened()
    with pytest.raises(InvalidCommand, match="no running acknowledge clock"):
        breach(state, T0, "acknowledge")  # stopped by the acknowledgement
    top = state.model_copy(update={"escalation_level": len(ESCALATION_LADDER)})
    with pytest.raises(InvalidCommand, match="top of the escalation ladder"):
        breach(top, T0, RESOLVE)


def test_a_clock_is_warned_at_its_share_then_breaches_at_its_deadline_then_climbs_again() -> None:
    state = opened()  # resolve: 30 minutes, warned at 80%
    policy = state.rules.sla
    assert next_mark(state, policy) == T0 + timedelta(minutes=24)
    assert mark_reached(state, policy, RESOLVE, T0 + timedelta(minutes=23)) is None
    assert mark_reached(state, policy, RESOLVE, T0 + timedelta(minutes=24)) == "warn"
    state = then(state, warn(state, T0 + timedelta(minutes=24), RESOLVE))
    with pytest.raises(InvalidCommand, match="no warning due"):
        warn(state, T0 + timedelta(minutes=25), RESOLVE)
    assert next_mark(state, policy) == T0 + timedelta(minutes=30)
    assert mark_reached(state, policy, RESOLVE, T0 + timedelta(minutes=30)) == "breach"
    state = then(state, breach(state, T0 + timedelta(minutes=30), RESOLVE))
    assert next_mark(state, policy) == T0 + timedelta(minutes=30) + policy.re_escalate_after
    assert mark_reached(state, policy, "acknowledge", T0 + timedelta(days=1)) is None  # stopped
    top = state.model_copy(update={"escalation_level": len(ESCALATION_LADDER)})
    assert next_mark(top, policy) is None and mark_reached(top, policy, RESOLVE, T0 + timedelta(days=1)) is None
