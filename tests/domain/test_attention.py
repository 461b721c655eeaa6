"""A case that cannot go on by itself, and a case whose workflow stopped: the fold and the timeline lines."""

from __future__ import annotations

from datetime import timedelta

from cli.timeline import describe, render_state
from domain import events as ev
from domain.actors import Actor, ActorChannel, Role
from domain.cases import Status
from domain.state import fold
from tests.domain.factories import T0, Stream

MANAGER = Actor(id="manager-wang", role=Role.STORE_MANAGER)
RECONCILER = Actor(id="reconciler", role=Role.SYSTEM, channel=ActorChannel.ENGINE)


def test_needs_attention_waits_for_a_person_who_resolves_it() -> None:
    s = Stream()
    opened = [s.filed(), s.next(ev.ComplaintAcknowledged, assignee="agent-li", message="hi")]
    attention = s.next(ev.CaseNeedsAttention, step="cancel_forwarding", error_type="UnknownPartner",
                       reason="china_broadnet number 192****5678: unknown carrier")
    escalated = s.next(ev.CaseEscalated, level=1, to_role=Role.STORE_MANAGER, reason="needs attention")
    state = fold([*opened, attention, escalated])
    assert state is not None and state.status is Status.NEEDS_ATTENTION and state.is_open
    assert state.attention_reason == attention.reason and state.escalation_level == 1
    state = fold([s.next(ev.NoteAdded, text="called them", actor=MANAGER)], state)
    assert state is not None and state.status is Status.NEEDS_ATTENTION
    state = fold([s.next(ev.ComplaintResolved, outcome="done_by_hand", summary="cancelled by phone",
                         actor=MANAGER)], state)
    assert state is not None and state.status is Status.RESOLVED
    assert describe(attention) == (
        "NEEDS ATTENTION: cancel_forwarding cannot go on (UnknownPartner): "
        "china_broadnet number 192****5678: unknown carrier"
    )


def test_a_reconciled_case_is_closed_with_what_temporal_said() -> None:
    s = Stream()
    opened = [s.filed(), s.next(ev.ComplaintAcknowledged, assignee="agent-li", message="hi")]
    stopped_at = T0 + timedelta(hours=2)
    reconciled = s.next(ev.CaseReconciled, after=timedelta(hours=2), actor=RECONCILER, run_id="run-1",
                        execution_status="terminated", identity="ops-zhang@console", reason="duplicate",
                        stopped_at=stopped_at)
    state = fold([*opened, reconciled])
    assert state is not None and state.status is Status.CLOSED and not state.is_open
    assert (state.close_reason, state.closed_at) == ("workflow_terminated", stopped_at)
    assert state.attention_reason == "workflow terminated by ops-zhang@console: duplicate"
    assert describe(reconciled) == "Workflow terminated by ops-zhang@console (run run-1): duplicate"
    assert "attention: workflow terminated by ops-zhang@console: duplicate" in render_state(state)


def test_a_relayed_answer_says_who_relayed_it() -> None:
    s = Stream()
    agent = Actor(id="agent-li", role=Role.AGENT)
    relayed = s.next(ev.CustomerAnswered, question_id="q", answer="yes", on_behalf_of="customer", actor=agent)
    own = s.next(ev.CustomerAnswered, question_id="q", answer="no", comment="still broken")
    assert describe(relayed) == "agent-li relayed, on behalf of the customer, the answer 'yes'"
    assert describe(own) == "Customer answered 'no': still broken"
