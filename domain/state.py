"""A case's state as the fold of its events: `apply(state, event) -> state`, and nothing else writes it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from domain import events as ev
from domain.actors import Actor
from domain.business_calendar import BusinessCalendar, add_business, business_between
from domain.cases import Category, IntakeChannel, Priority, Status
from domain.citations import Citation
from domain.personal_data import ERASED
from domain.policy import LEGACY_POLICY, CasePolicy
from domain.regulatory import Inadmissible, miit_answer_due


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Question(_Frozen):
    question_id: str
    question: str
    options: list[str]
    asked_at: AwareDatetime
    reminders: int = 0


class Adjustment(_Frozen):
    adjustment_id: str
    kind: ev.AdjustmentKind
    amount_fen: int
    reason: str
    needs_approval: bool
    status: str = "proposed"  # proposed | approved | refused | applied | already_remedied
    validity_until: date | None = None
    sp_code: str | None = None
    decided_by: str | None = None
    ledger_id: str | None = None
    citations: list[Citation] = Field(default_factory=list)
    # Set when the billing system found a cited charge already remedied: by which case, when, which row.
    remedied_by: str | None = None
    remedied_ledger_id: str | None = None
    remedied_at: AwareDatetime | None = None


class SlaClock(_Frozen):
    """A deadline measured in unpaused business time since `started_at`, on the clock's calendar.

    `paused_ms` is the business time spent paused, measured on the same calendar: a customer's wait
    overnight, when the store is closed anyway, costs the deadline nothing. Without a calendar (cases
    recorded before calendars) all of it is wall time, as it was then.
    """

    clock: str
    started_at: AwareDatetime
    budget_seconds: int
    warn_percent: int
    paused_since: AwareDatetime | None = None
    paused_ms: int = 0
    warned: bool = False
    breaches: int = 0
    stopped: bool = False
    calendar: BusinessCalendar | None = None

    def _after(self, business: timedelta) -> datetime | None:
        """The instant `business` of running time after the start, or None while paused or stopped."""
        if self.stopped or self.paused_since is not None:
            return None
        return add_business(self.calendar, self.started_at, business + timedelta(milliseconds=self.paused_ms))

    @property
    def due_at(self) -> datetime | None:
        """When the deadline falls, or None while paused or stopped (it is not running)."""
        return self._after(timedelta(seconds=self.budget_seconds))

    @property
    def warn_at(self) -> datetime | None:
        """When the clock warns: `warn_percent` of its budget of running time, or None while paused or stopped."""
        return self._after(timedelta(seconds=self.budget_seconds * self.warn_percent // 100))

    def escalate_at(self, re_escalate_after: timedelta) -> datetime | None:
        """When a breached clock climbs the next rung: `re_escalate_after` of business time per breach so far."""
        return self._after(timedelta(seconds=self.budget_seconds) + re_escalate_after * self.breaches)

    def paused_business_ms(self, resumed_at: datetime, wall_ms: int) -> int:
        """The business time of a pause ending at `resumed_at` (wall time without a calendar)."""
        if self.calendar is None or self.paused_since is None:
            return wall_ms
        return business_between(self.calendar, self.paused_since, resumed_at) // timedelta(milliseconds=1)


class ComplaintState(_Frozen):
    complaint_id: str
    category: Category
    priority: Priority
    channel: IntakeChannel
    msisdn: str
    customer_name: str
    description: str
    id_number: str | None = None
    partner_msisdn: str | None = None
    partner_carrier: str | None = None
    disputed_since: date | None = None
    filed_by: Actor
    filed_at: AwareDatetime
    status: Status = Status.FILED
    assignee: str = "unassigned"
    escalation_level: int = 0
    acknowledged_at: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    outcome: str | None = None
    close_reason: str | None = None
    identity_verified: bool | None = None
    pending_question: Question | None = None
    answers: dict[str, str] = Field(default_factory=dict)
    adjustments: dict[str, Adjustment] = Field(default_factory=dict)
    evidence: dict[str, dict[str, Any]] = Field(default_factory=dict)
    decisions: list[str] = Field(default_factory=list)
    clocks: dict[str, SlaClock] = Field(default_factory=dict)
    follow_ups: dict[str, AwareDatetime] = Field(default_factory=dict)
    notes: int = 0
    linked_cases: list[str] = Field(default_factory=list)
    reopened: int = 0
    # The rules recorded at filing; None only for cases filed before policies had versions.
    policy: CasePolicy | None = None
    # Why the case waits for a person (status needs_attention), or why its workflow stopped (reconciled).
    attention_reason: str | None = None
    # Why the complaint was not accepted at intake (ComplaintRejected): the rule, by name; the case is closed.
    rejection: Inadmissible | None = None
    # When the customer's personal data was crypto-shredded (PersonalDataErased): the case is then closed for good.
    personal_data_erased_at: AwareDatetime | None = None
    last_seq: int = 0
    updated_at: AwareDatetime

    @property
    def is_open(self) -> bool:
        """Whether the case is still open (anything but closed)."""
        return self.status is not Status.CLOSED

    @property
    def sla_due_at(self) -> datetime | None:
        """The earliest running deadline: what a supervisor watches."""
        dues = [due for clock in self.clocks.values() if (due := clock.due_at) is not None]
        return min(dues) if dues else None

    @property
    def rules(self) -> CasePolicy:
        """The policy this case runs under: the one recorded at filing, or the legacy defaults."""
        return self.policy or LEGACY_POLICY.for_case(self.category, self.priority)

    @property
    def miit_answer_due(self) -> datetime | None:
        """The regulator's answer deadline (domain.regulatory); None for cases filed before calendars."""
        workdays = self.rules.regulator_calendar
        return None if workdays is None else miit_answer_due(self.filed_at, workdays, self.rules.regulatory)

    @property
    def money_moved_fen(self) -> int:
        """The money the applied adjustments moved, in fen."""
        return sum(a.amount_fen for a in self.adjustments.values() if a.status == "applied")


class EventOutOfOrder(ValueError):
    """An event that does not follow the state it is applied to."""


def _replace_clock(state: ComplaintState, name: str, **changes: Any) -> dict[str, SlaClock]:
    clocks = dict(state.clocks)
    if name in clocks:
        clocks[name] = clocks[name].model_copy(update=changes)
    return clocks


def _replace_adjustment(state: ComplaintState, adjustment_id: str, **changes: Any) -> dict[str, Adjustment]:
    adjustments = dict(state.adjustments)
    adjustments[adjustment_id] = adjustments[adjustment_id].model_copy(update=changes)
    return adjustments


def _changes(state: ComplaintState, event: ev.Event) -> dict[str, Any]:
    """The fields an event changes, beyond the bookkeeping every event does."""
    match event:
        case ev.ComplaintAcknowledged(assignee=assignee):
            return {"status": Status.ACKNOWLEDGED, "assignee": assignee, "acknowledged_at": event.at}
        case ev.EvidenceRecorded(step=step, facts=facts):
            status = Status.INVESTIGATING if state.status is Status.ACKNOWLEDGED else state.status
            return {"evidence": {**state.evidence, step: facts}, "status": status}
        case ev.DecisionRecorded(decision=decision):
            return {"decisions": [*state.decisions, decision]}
        case ev.IdentityVerified():
            return {"identity_verified": True}
        case ev.IdentityRejected():
            return {"identity_verified": False}
        case ev.NoteAdded():
            return {"notes": state.notes + 1}
        case ev.CaseReassigned(to_assignee=to_assignee):
            return {"assignee": to_assignee}
        case ev.CustomerAsked(question_id=qid, question=question, options=options):
            pending = Question(question_id=qid, question=question, options=options, asked_at=event.at)
            return {"pending_question": pending, "status": Status.AWAITING_CUSTOMER}
        case ev.CustomerAnswered(question_id=qid, answer=answer):
            return {
                "answers": {**state.answers, qid: answer},
                "pending_question": None,
                "status": Status.RESOLVED if state.resolved_at else Status.INVESTIGATING,
            }
        case ev.CustomerReminded():
            if state.pending_question is None:
                return {}
            reminded = state.pending_question.model_copy(
                update={"reminders": state.pending_question.reminders + 1}
            )
            return {"pending_question": reminded}
        case ev.AdjustmentProposed():
            adjustment = Adjustment(
                adjustment_id=event.adjustment_id,
                kind=event.kind,
                amount_fen=event.amount_fen,
                reason=event.reason,
                needs_approval=event.needs_approval,
                validity_until=event.validity_until,
                sp_code=event.sp_code,
                citations=event.citations,
            )
            awaiting = Status.AWAITING_APPROVAL if event.needs_approval else state.status
            return {"adjustments": {**state.adjustments, event.adjustment_id: adjustment}, "status": awaiting}
        case ev.AdjustmentApproved(adjustment_id=aid):
            adjustments = _replace_adjustment(state, aid, status="approved", decided_by=event.actor.id)
            return {"adjustments": adjustments, "status": Status.INVESTIGATING}
        case ev.AdjustmentRefused(adjustment_id=aid):
            adjustments = _replace_adjustment(state, aid, status="refused", decided_by=event.actor.id)
            return {"adjustments": adjustments, "status": Status.INVESTIGATING}
        case ev.AdjustmentApplied(adjustment_id=aid, ledger_id=ledger_id):
            return {"adjustments": _replace_adjustment(state, aid, status="applied", ledger_id=ledger_id)}
        case ev.AdjustmentAlreadyRemedied(adjustment_id=aid):
            adjustments = _replace_adjustment(
                state,
                aid,
                status="already_remedied",
                remedied_by=event.prior_complaint_id,
                remedied_ledger_id=event.prior_ledger_id,
                remedied_at=event.prior_applied_at,
            )
            # No approval is awaited for money that will not move.
            unblocked = Status.INVESTIGATING if state.status is Status.AWAITING_APPROVAL else state.status
            return {"adjustments": adjustments, "status": unblocked}
        case ev.LinkedToCase(linked_complaint_ids=linked):
            return {"linked_cases": [*state.linked_cases, *(c for c in linked if c not in state.linked_cases)]}
        case ev.SlaClockStarted(clock=name):
            clock = SlaClock(
                clock=name,
                started_at=event.at,
                budget_seconds=event.budget_seconds,
                warn_percent=event.warn_percent,
                calendar=state.rules.calendar,
            )
            return {"clocks": {**state.clocks, name: clock}}
        case ev.SlaClockStopped(clock=name):
            return {"clocks": _replace_clock(state, name, stopped=True)}
        case ev.SlaClockPaused(clock=name):
            return {"clocks": _replace_clock(state, name, paused_since=event.at)}
        case ev.SlaClockResumed(clock=name, paused_ms=paused_ms):
            running = state.clocks.get(name)
            # The event records the wall time waited; the clock counts its business part.
            total = (running.paused_ms + running.paused_business_ms(event.at, paused_ms)) if running else paused_ms
            return {"clocks": _replace_clock(state, name, paused_since=None, paused_ms=total)}
        case ev.SlaRecalculated(calendar=calendar):
            # The clocks keep their facts (start, budget, business time paused so far) on the corrected days.
            corrected = {"calendar": calendar, "regulator_calendar": event.regulator_calendar}
            rules = state.rules.model_copy(update=corrected)
            clocks = {
                name: clock.model_copy(update={"calendar": calendar}) if clock.calendar is not None else clock
                for name, clock in state.clocks.items()
            }
            return {"policy": rules, "clocks": clocks}
        case ev.SlaWarned(clock=name):
            return {"clocks": _replace_clock(state, name, warned=True)}
        case ev.SlaBreached(clock=name):
            breaches = state.clocks[name].breaches + 1 if name in state.clocks else 1
            return {"clocks": _replace_clock(state, name, breaches=breaches)}
        case ev.CaseEscalated(level=level):
            return {"escalation_level": level}
        case ev.FollowUpScheduled(follow_up=name, due_at=due_at):
            return {"follow_ups": {**state.follow_ups, name: due_at}}
        case ev.ComplaintResolved(outcome=outcome):
            return {"status": Status.RESOLVED, "resolved_at": event.at, "outcome": outcome}
        case ev.ComplaintRejected(rule=rule, reason=reason, oldest_accepted=oldest):
            # Terminal by itself: the rejection is the carrier's answer at intake, nothing is worked after it.
            return {
                "status": Status.CLOSED, "closed_at": event.at, "close_reason": "rejected", "outcome": "rejected",
                "rejection": Inadmissible(rule=rule, reason=reason, oldest_accepted=oldest),
            }
        case ev.ComplaintClosed(reason=reason):
            return {"status": Status.CLOSED, "closed_at": event.at, "close_reason": reason, "pending_question": None}
        case ev.ComplaintReopened():
            # Earlier answers belong to the earlier resolution: a reopened case asks again.
            return {
                "answers": {},
                "status": Status.INVESTIGATING,
                "reopened": state.reopened + 1,
                "closed_at": None,
                "resolved_at": None,
                "close_reason": None,
                "outcome": None,
                "attention_reason": None,
            }
        case ev.ComplaintWithdrawn():
            return {"outcome": "withdrawn"}
        case ev.CaseNeedsAttention(reason=reason):
            return {"status": Status.NEEDS_ATTENTION, "attention_reason": reason}
        case ev.PersonalDataErased():
            return {
                "personal_data_erased_at": event.at,
                "msisdn": ERASED,
                "customer_name": ERASED,
                "id_number": ERASED if state.id_number is not None else None,
                "partner_msisdn": ERASED if state.partner_msisdn is not None else None,
            }
        case ev.CaseReconciled(execution_status=stopped):
            # The workflow is gone: nothing works on the case any more, so the record says it ended, and how.
            why = f"workflow {stopped}" + (f" by {event.identity}" if event.identity else "")
            return {
                "status": Status.CLOSED,
                "closed_at": event.stopped_at,
                "close_reason": f"workflow_{stopped}",
                "pending_question": None,
                "attention_reason": why + (f": {event.reason}" if event.reason else ""),
            }
        case (
            ev.PartnerRequestSent()
            | ev.PartnerRequestConfirmed()
            | ev.PartnerRequestFailed()
            | ev.BillingActionApplied()
        ):
            return {}
    raise EventOutOfOrder(f"{event.type} is not an event a case can apply")


def start(event: ev.ComplaintFiled) -> ComplaintState:
    """The state a case has right after it is filed."""
    if event.seq != 1:
        raise EventOutOfOrder(f"ComplaintFiled must be event 1, not {event.seq}")
    return ComplaintState(
        complaint_id=event.complaint_id,
        category=event.category,
        priority=event.priority,
        channel=event.channel,
        msisdn=event.msisdn,
        customer_name=event.customer_name,
        description=event.description,
        id_number=event.id_number,
        partner_msisdn=event.partner_msisdn,
        partner_carrier=event.partner_carrier,
        disputed_since=event.disputed_since,
        filed_by=event.actor,
        filed_at=event.at,
        policy=event.policy,
        last_seq=1,
        updated_at=event.at,
    )


def apply(state: ComplaintState | None, event: ev.Event) -> ComplaintState:
    """The state after `event`. Pure: the same state and event always give the same result."""
    if state is None:
        if not isinstance(event, ev.ComplaintFiled):
            raise EventOutOfOrder(f"a case starts with ComplaintFiled, not {event.type}")
        return start(event)
    if event.complaint_id != state.complaint_id:
        raise EventOutOfOrder(f"event of case {event.complaint_id} applied to case {state.complaint_id}")
    if event.seq != state.last_seq + 1:
        raise EventOutOfOrder(f"event {event.seq} of {state.complaint_id} follows {state.last_seq}")
    return state.model_copy(update={**_changes(state, event), "last_seq": event.seq, "updated_at": event.at})


def fold(events: Iterable[ev.Event], state: ComplaintState | None = None) -> ComplaintState | None:
    """Apply events in order, from `state` (or from nothing)."""
    for event in events:
        state = apply(state, event)
    return state
