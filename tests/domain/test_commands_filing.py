"""Filing and reopening: who gets a new case, which clocks start, when a closed case may open again."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from domain import events as ev
from domain.actors import Actor, Role
from domain.commands import FileComplaint, ReopenComplaint, file_complaint, reopen
from domain.errors import InvalidCommand
from domain.intake import parse_intake
from domain.policy import Policy
from domain.remediation import CAMPAIGN_FILER, BatchLine, RemediationLink, assess, campaign_id, remediation_ordinal
from domain.sla import ACKNOWLEDGE, RESOLVE
from domain.state import ComplaintState, fold
from tests.domain.factories import AGENT, T0, engine_event, intake_data, opened, then

CUSTOMER = Actor(id="customer", role=Role.CUSTOMER)
POLICY = Policy(version="p-7", approval_limit_fen=1000, warn_percent=60, reopen_window_days=3)


def _filed_by(filer: Actor) -> list[ev.Event]:
    intake = parse_intake(intake_data())
    return file_complaint(FileComplaint(intake=intake, filer=filer), T0,
                          POLICY.for_case(intake.category, intake.priority))


def test_filing_opens_the_case_under_the_policy_with_both_clocks_and_an_acknowledgement() -> None:
    events = _filed_by(AGENT)
    assert [e.type for e in events] == ["ComplaintFiled", "SlaClockStarted", "SlaClockStarted",
                                        "ComplaintAcknowledged", "SlaClockStopped"]
    assert [e.seq for e in events] == [1, 2, 3, 4, 5] and {e.at for e in events} == {T0}
    filed, ack_clock, resolve_clock, acknowledged, stopped = events
    assert isinstance(filed, ev.ComplaintFiled) and filed.actor == AGENT and filed.policy is not None
    assert filed.policy.version == "p-7" and filed.partner_carrier == "china_unicom"
    assert isinstance(ack_clock, ev.SlaClockStarted) and isinstance(resolve_clock, ev.SlaClockStarted)
    assert (ack_clock.clock, ack_clock.budget_seconds, ack_clock.warn_percent) == (ACKNOWLEDGE, 5 * 60, 60)
    assert (resolve_clock.clock, resolve_clock.budget_seconds) == (RESOLVE, 30 * 60)
    assert isinstance(acknowledged, ev.ComplaintAcknowledged) and acknowledged.assignee == AGENT.id
    assert "30 minutes" in acknowledged.message
    assert isinstance(stopped, ev.SlaClockStopped) and stopped.clock == ACKNOWLEDGE


@pytest.mark.parametrize(("filer", "assignee"), [
    (Actor(id="mgr-zhao", role=Role.STORE_MANAGER), "mgr-zhao"),
    (CUSTOMER, "store-desk"),
    (Actor(id="sup-1", role=Role.SUPERVISOR), "store-desk"),
])
def test_staff_at_the_counter_keep_what_they_file_anything_else_goes_to_the_store_desk(
    filer: Actor, assignee: str
) -> None:
    state = fold(_filed_by(filer))
    assert state is not None
    assert state.assignee == assignee and state.filed_by == filer


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.SYSTEM])
def test_those_who_only_read_or_the_engine_itself_file_nothing(role: Role) -> None:
    with pytest.raises(InvalidCommand, match=f"a {role.value} cannot file a case"):
        _filed_by(Actor(id="x-1", role=role))


def _closed() -> tuple[ComplaintState, datetime]:
    """A case closed an hour after filing, and a day after that."""
    state = opened()
    closed = engine_event(state, ev.ComplaintClosed, reason="confirmed")
    closed_at = T0 + timedelta(hours=1)
    return then(state, [closed.model_copy(update={"at": closed_at})]), closed_at + timedelta(days=1)


def test_a_closed_case_reopens_with_its_resolve_clock_started_again() -> None:
    state, now = _closed()
    events = reopen(state, ReopenComplaint(actor=CUSTOMER, reason="forwarded again"), now)
    assert [e.type for e in events] == ["ComplaintReopened", "SlaClockStarted"]
    reopened = then(state, events)
    assert events[0].actor == CUSTOMER and reopened.is_open and reopened.reopened == 1
    assert reopened.clocks[RESOLVE].started_at == now and not reopened.clocks[RESOLVE].stopped


def test_reopening_is_refused_for_an_open_case_past_the_window_or_by_an_auditor() -> None:
    with pytest.raises(InvalidCommand, match="still open"):
        reopen(opened(), ReopenComplaint(actor=CUSTOMER), T0)
    state, _ = _closed()
    with pytest.raises(InvalidCommand, match="more than 7 days ago"):
        reopen(state, ReopenComplaint(actor=CUSTOMER), T0 + timedelta(days=9))
    with pytest.raises(InvalidCommand, match="auditor cannot reopen"):
        reopen(state, ReopenComplaint(actor=Actor(id="aud", role=Role.AUDITOR)), T0 + timedelta(days=1))


def test_a_remediation_campaigns_case_is_filed_by_the_engine_with_the_batch_rows_as_its_first_evidence() -> None:
    intake = parse_intake(intake_data(category="validity_shortened", complaint_id="REM-B1-00001"))
    line = BatchLine(msisdn=intake.msisdn, at=T0 - timedelta(days=5), amount_fen=-1000, reason="clawback",
                     validity_before=T0.date() + timedelta(days=100), validity_after=T0.date() + timedelta(days=9),
                     status="active", validity_until=T0.date() + timedelta(days=9), arrears_fen=0)
    link = RemediationLink(batch_id="B1", campaign_id=campaign_id("B1"), assessment=assess(line, T0.date()),
                           citations=[])
    policy = POLICY.for_case(intake.category, intake.priority)
    events = file_complaint(FileComplaint(intake=intake, filer=CAMPAIGN_FILER, remediation=link), T0, policy)
    evidence = next(e for e in events if isinstance(e, ev.EvidenceRecorded))
    assert (evidence.step, evidence.facts["batch_id"]) == ("remediation", "B1")
    order = [e.type for e in events]
    assert order.index("EvidenceRecorded") < order.index("ComplaintAcknowledged")
    # The campaign's filer is the engine's: without a (worker-proven) link it files nothing.
    with pytest.raises(InvalidCommand, match="a system cannot file a case"):
        file_complaint(FileComplaint(intake=intake, filer=CAMPAIGN_FILER), T0, policy)
    assert remediation_ordinal("B1", "REM-B1-00001") == 1
    assert remediation_ordinal("B1", "REM-B2-00001") is None and remediation_ordinal("B1", "REM-B1-1") is None
