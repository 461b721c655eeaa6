"""Filing a case and reopening a closed one: who gets a new case, which clocks start."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from domain import events as ev
from domain.actors import Actor, Role
from domain.clock import local_day
from domain.commands.base import Decision
from domain.errors import InvalidCommand
from domain.intake import ComplaintIntake, refuse_future_dispute
from domain.playbooks.common import ACKNOWLEDGEMENTS
from domain.policy import CasePolicy
from domain.regulatory import admissibility
from domain.remediation import RemediationLink
from domain.reopening import check_reopen
from domain.sla import ACKNOWLEDGE, RESOLVE
from domain.state import ComplaintState

# Where a case goes when its filer does not work it (the customer on the web, the hotline's robot, ...).
STORE_DESK = "store-desk"
# The evidence step a campaign's case records first: the batch rows it rests on.
REMEDIATION_STEP = "remediation"
# Who files and so keeps the case they filed: staff at the counter.
KEEPS_WHAT_THEY_FILE = frozenset({Role.AGENT, Role.STORE_MANAGER})


class FileComplaint(BaseModel):
    """File a case.

    The intake as given, and the filer as their verified token names them (or, for a case a remediation campaign opens,
    the campaign, its link proven against the batch by the worker).
    """

    model_config = ConfigDict(frozen=True)

    intake: ComplaintIntake
    filer: Actor
    remediation: RemediationLink | None = None


class ReopenComplaint(BaseModel):
    """Reopen a closed case: who (verified) and why."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    reason: str = "reopened"


def assignee_on_filing(filer: Actor) -> str:
    """Staff who file a case keep it; anything filed otherwise goes to the store desk."""
    return filer.id if filer.role in KEEPS_WHAT_THEY_FILE else STORE_DESK


def _clock(decision: Decision, clock: str, budget: timedelta, warn_percent: int) -> None:
    decision.add(
        ev.SlaClockStarted, clock=clock, budget_seconds=int(budget.total_seconds()), warn_percent=warn_percent
    )


def file_complaint(command: FileComplaint, now: datetime, policy: CasePolicy) -> list[ev.Event]:
    """The events that open a case: filed under `policy`, both clocks started, acknowledged, assigned.

    A case a remediation campaign opens records the batch rows it rests on first (its first evidence). A complaint
    the policy's regulatory rules do not accept (a billing dispute older than 5 months, say) is filed and rejected
    at once, naming the rule: ComplaintFiled and ComplaintRejected, no clock, no assignee.

    Raises:
        InvalidCommand: the filer may not file (an auditor reads cases; the engine files nothing itself but
            a remediation campaign's case), or the disputed matter is said to begin after the day of filing.
    """
    filer, intake = command.filer, command.intake
    if filer.role is Role.AUDITOR or (filer.role is Role.SYSTEM and command.remediation is None):
        raise InvalidCommand(f"a {filer.role.value} cannot file a case")
    filed_on = local_day(now)
    refuse_future_dispute(intake, filed_on, InvalidCommand)
    decision = Decision(intake.complaint_id, 0, now)
    decision.add(
        ev.ComplaintFiled,
        actor=filer,
        category=intake.category,
        priority=intake.priority,
        channel=intake.channel,
        msisdn=intake.msisdn,
        customer_name=intake.customer_name,
        description=intake.description,
        id_number=intake.id_number,
        partner_msisdn=intake.partner_msisdn,
        partner_carrier=intake.partner_carrier.value if intake.partner_carrier else None,
        policy=policy,
        disputed_since=intake.disputed_since,
    )
    refused = admissibility(intake.category, intake.disputed_since, filed_on, policy.regulatory)
    if refused is not None:
        decision.add(ev.ComplaintRejected, rule=refused.rule, reason=refused.reason,
                     oldest_accepted=refused.oldest_accepted)
        return decision.events
    _clock(decision, ACKNOWLEDGE, policy.sla.acknowledge_within, policy.warn_percent)
    _clock(decision, RESOLVE, policy.sla.resolve_within, policy.warn_percent)
    if command.remediation is not None:
        link = command.remediation
        decision.add(ev.EvidenceRecorded, step=REMEDIATION_STEP, summary=link.summary(), facts=link.facts())
    decision.add(
        ev.ComplaintAcknowledged, assignee=assignee_on_filing(filer), message=ACKNOWLEDGEMENTS[intake.category]
    )
    decision.add(ev.SlaClockStopped, clock=ACKNOWLEDGE)
    return decision.events


def reopen(state: ComplaintState, command: ReopenComplaint, now: datetime) -> list[ev.Event]:
    """A closed case opens again under the policy it was filed with, and its resolve clock starts over.

    Raises:
        InvalidCommand: the case is open, erased, or closed longer ago than its policy's reopen window,
            or the actor only reads cases.
    """
    if command.actor.role in (Role.AUDITOR, Role.SYSTEM):
        raise InvalidCommand(f"a {command.actor.role.value} cannot reopen a case")
    rules = state.rules
    check_reopen(state, now, rules.reopen_window)
    decision = Decision.on(state, now)
    decision.add(ev.ComplaintReopened, actor=command.actor, reason=command.reason or "reopened")
    _clock(decision, RESOLVE, rules.sla.resolve_within, rules.warn_percent)
    return decision.events
