"""A case's timeline in business words: Shanghai time, who, what, and the facts or money involved."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from domain import events as ev
from domain.clock import format_local
from domain.customer_wait import customer_wait
from domain.masking import mask_msisdn
from domain.money import format_yuan
from domain.regulatory_clocks import RegulatoryClockView, regulatory_clocks
from domain.state import ComplaintState


def describe(event: ev.Event) -> str:
    """One line saying what the event means to a supervisor."""
    match event:
        case ev.ComplaintFiled():
            return (
                f"Complaint filed ({event.category.value}, {event.priority.value}) via {event.channel.value} "
                f"for {mask_msisdn(event.msisdn)}: {event.description}"
                + (f" [policy {event.policy.version}]" if event.policy else "")
            )
        case ev.ComplaintRejected():
            return f"REJECTED at intake: {event.rule}: {event.reason} (oldest accepted: {event.oldest_accepted})"
        case ev.ComplaintAcknowledged():
            return f"Acknowledged, assigned to {event.assignee}: \"{event.message}\""
        case ev.EvidenceRecorded():
            return f"Evidence [{event.step}]: {event.summary}"
        case ev.DecisionRecorded():
            basis = f" (based on {', '.join(event.evidence_steps)})" if event.evidence_steps else ""
            return f"Decision: {event.decision}: {event.reason}{basis}"
        case ev.IdentityVerified():
            return f"Identity verified: {event.method}"
        case ev.IdentityRejected():
            return f"Identity NOT verified: {event.reason}"
        case ev.NoteAdded():
            return f"Note: {event.text}"
        case ev.CaseReassigned():
            return f"Reassigned from {event.from_assignee} to {event.to_assignee}" + (
                f": {event.reason}" if event.reason else ""
            )
        case ev.PartnerRequestSent():
            return f"Request sent to {event.partner}: {event.action}"
        case ev.PartnerRequestConfirmed():
            effect = "done" if event.effective else "already done, nothing changed"
            return f"{event.partner} confirmed {event.action} ({effect})"
        case ev.PartnerRequestFailed():
            return f"{event.partner} refused {event.action}: {event.reason}"
        case ev.BillingActionApplied():
            effect = "" if event.effective else " (already in place)"
            return f"Billing system: {event.action.replace('_', ' ')}{effect}"
        case ev.CustomerAsked():
            return f"Asked the customer: {event.question} [{' / '.join(event.options)}]"
        case ev.CustomerAnswered():
            # A relayed answer says who relayed it: the actor column shows them, this line says for whom.
            who = f"{event.actor.id} relayed, on behalf of the {event.on_behalf_of}, the answer" if (
                event.on_behalf_of) else "Customer answered"
            return f"{who} {event.answer!r}" + (f": {event.comment}" if event.comment else "")
        case ev.CustomerReminded():
            return f"Reminded the customer (reminder {event.reminder})"
        case ev.AdjustmentProposed():
            gate = ", needs approval" if event.needs_approval else ""
            what = _adjustment(event.kind, event.amount_fen, event.validity_until, event.sp_code)
            return f"Proposed {what}{gate}: {event.reason}"
        case ev.AdjustmentApproved():
            return f"Approved {event.adjustment_id}" + (f": {event.comment}" if event.comment else "")
        case ev.AdjustmentRefused():
            return f"Refused {event.adjustment_id}: {event.reason}"
        case ev.AdjustmentApplied():
            once = "" if event.effective else " (already applied before: not applied again)"
            return f"Applied {_adjustment(event.kind, event.amount_fen, None, None)}, ledger {event.ledger_id}{once}"
        case ev.AdjustmentAlreadyRemedied():
            return (
                f"NOT applied {event.adjustment_id}: {event.charge} was already remedied on case "
                f"{event.prior_complaint_id} on {format_local(event.prior_applied_at)}, "
                f"ledger {event.prior_ledger_id}; "
                "no money moved"
            )
        case ev.LinkedToCase():
            if not event.linked_complaint_ids:
                return "No other open case of this number and category"
            return f"Linked to open case(s) of the same number and category: {', '.join(event.linked_complaint_ids)}"
        case ev.SlaClockStarted():
            budget = _duration(event.budget_seconds)
            return f"SLA clock '{event.clock}' started: {budget}, warning at {event.warn_percent}%"
        case ev.SlaClockStopped():
            return f"SLA clock '{event.clock}' stopped"
        case ev.SlaClockPaused():
            return f"SLA clock '{event.clock}' paused: {event.reason}"
        case ev.SlaClockResumed():
            return f"SLA clock '{event.clock}' resumed after {event.paused_ms // 60_000} min paused"
        case ev.SlaWarned():
            return f"SLA WARNING: '{event.clock}' deadline at {format_local(event.due_at)}"
        case ev.SlaBreached():
            return f"SLA BREACHED: '{event.clock}' deadline was {format_local(event.due_at)}"
        case ev.SlaRecalculated():
            days = f"{event.calendar.name} days of policy {event.policy_version}"
            return f"SLA recalculated on the corrected {days}: {event.reason}"
        case ev.CaseEscalated():
            return f"Escalated to level {event.level} ({event.to_role.value}): {event.reason}"
        case ev.FollowUpScheduled():
            return f"Follow-up '{event.follow_up}' scheduled for {format_local(event.due_at)} ({event.workflow_id})"
        case ev.ComplaintResolved():
            return f"Resolved: {event.outcome}: {event.summary}"
        case ev.ComplaintClosed():
            return f"Closed ({event.reason})"
        case ev.ComplaintReopened():
            return f"Reopened: {event.reason}"
        case ev.ComplaintWithdrawn():
            return f"Withdrawn: {event.reason}"
        case ev.CaseNeedsAttention():
            return f"NEEDS ATTENTION: {event.step} cannot go on ({event.error_type}): {event.reason}"
        case ev.CaseReconciled():
            who = f" by {event.identity}" if event.identity else ""
            why = f": {event.reason}" if event.reason else ""
            return f"Workflow {event.execution_status}{who} (run {event.run_id}){why}"
    return event.type


def _adjustment(kind: str, amount_fen: int, validity_until: object, sp_code: str | None) -> str:
    words = kind.replace("_", " ")
    if kind == "validity_extension":
        return f"{words} to {validity_until}" if validity_until else words
    if kind == "sp_unsubscription":
        return f"{words} of {sp_code}" if sp_code else words
    return f"{words} of {format_yuan(amount_fen)}"


def _duration(seconds: int) -> str:
    """'30 min', '4 h', '3 d' or '1 h 30 min': the way a deadline is said at the counter."""
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    if days and not (hours or minutes):
        return f"{days} d" if days > 1 else "24 h"
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours else []
    parts += [f"{minutes} min"] if minutes or not parts else []
    return " ".join(parts)


def citation_lines(event: ev.Event) -> list[str]:
    """The records a proposed or applied adjustment cites, one line each (numbers masked)."""
    if not isinstance(event, (ev.AdjustmentProposed, ev.AdjustmentApplied)):
        return []
    return [
        f"cites {c.role:<8} {c.kind} {mask_msisdn_in(c.record_id)}  sha256 {c.sha256}" for c in event.citations
    ]


def mask_msisdn_in(record_id: str) -> str:
    """A record id with any phone number in it masked (record ids start with the number they belong to)."""
    return "/".join(mask_msisdn(part) if part.isdigit() and len(part) == 11 else part for part in record_id.split("/"))


def render_timeline(events: Iterable[ev.Event]) -> str:
    """The events as one line each: number, local time, actor and what happened."""
    lines = []
    for event in events:
        lines.append(f"  {event.seq:>3}  {format_local(event.at)}  {event.actor!s:<34}  {describe(event)}")
        lines.extend(f"{'':>7}{line}" for line in citation_lines(event))
    return "\n".join(lines)


def render_state(state: ComplaintState) -> str:
    """The case's state in a few lines: category, priority, status and SLA deadline."""
    due = format_local(state.sla_due_at) if state.sla_due_at else "-"
    return (
        f"Case {state.complaint_id}  [{state.category.value}, {state.priority.value}]  "
        f"status {state.status.value}  assignee {state.assignee}  escalation level {state.escalation_level}\n"
        f"  customer {state.customer_name} {mask_msisdn(state.msisdn)}  SLA due {due}  "
        f"outcome {state.outcome or '-'}  money moved {format_yuan(state.money_moved_fen)}"
        + (f"\n  attention: {state.attention_reason}" if state.attention_reason else "")
        + (f"\n  disputed since {state.disputed_since}" if state.disputed_since else "")
        + (f"\n  rejected at intake: {state.rejection.rule}: {state.rejection.reason}" if state.rejection else "")
        + (f"\n  policy {state.policy.version}" if state.policy else "")
        + _render_calendar(state)
        + (f"\n  linked to open case(s) {', '.join(state.linked_cases)}" if state.linked_cases else "")
    )


def _render_calendar(state: ComplaintState) -> str:
    """The calendar the clocks run on, a weekday fallback if there is one, and the regulator's deadline."""
    rules = state.rules
    if rules.calendar is None:
        return ""
    fallback = rules.calendar_fallback_years
    line = f"\n  calendar {rules.calendar.name}" + (
        f" (weekdays stand in for {', '.join(map(str, fallback))}: no holiday notice yet)" if fallback else ""
    )
    miit = state.miit_answer_due
    return line + (f"  MIIT answer due {format_local(miit)}" if miit else "")


def _when(moment: datetime, now: datetime) -> str:
    """A moment in Shanghai time, with how far it is from now."""
    seconds = int((moment - now).total_seconds())
    distance = _duration(abs(seconds)) if abs(seconds) >= 60 else f"{abs(seconds)} s"
    return f"{format_local(moment)} ({'in ' + distance if seconds >= 0 else distance + ' ago'})"


def render_question(state: ComplaintState, now: datetime) -> str:
    """The question waiting for the customer: its id and options (what `answer` takes), and its deadlines."""
    question = state.pending_question
    if question is None:
        return "  open question: none"
    wait = customer_wait(question, state.rules.sla)
    reminder = (
        "reminder sent" if wait.reminded and now >= wait.remind_at else f"reminder {_when(wait.remind_at, now)}"
    )
    return "\n".join(
        [
            f"  open question {question.question_id} (asked {format_local(question.asked_at)}): {question.question}",
            f"    options: {' / '.join(question.options)}",
            f"    {reminder}; closes unconfirmed {_when(wait.close_unconfirmed_at, now)} without an answer",
        ]
    )


def render_adjustments(state: ComplaintState) -> str:
    """Every adjustment: its id (what `approve` takes), kind, amount in yuan and status."""
    if not state.adjustments:
        return "  adjustments: none"
    lines = ["  adjustments:"]
    for adjustment in state.adjustments.values():
        waiting = ", waits for a supervisor" if adjustment.needs_approval and adjustment.status == "proposed" else ""
        decided = f" by {adjustment.decided_by}" if adjustment.decided_by else ""
        ledger = f", ledger {adjustment.ledger_id}" if adjustment.ledger_id else ""
        lines.append(
            f"    {adjustment.adjustment_id:<6} {adjustment.kind:<20} {format_yuan(adjustment.amount_fen):>10}  "
            f"{adjustment.status}{decided}{waiting}{ledger}"
        )
    return "\n".join(lines)


def regulatory_line(clock: RegulatoryClockView) -> str:
    """One regulatory clock as `show` prints it (and the console's case page shows it)."""
    answered = f" at {format_local(clock.answered_at)}" if clock.answered_at else ""
    return (f"{clock.clock:<40} due {format_local(clock.due_at)}  {clock.standing}{answered}"
            f"  (a breach goes to {clock.escalate_to})")


def render_regulatory(state: ComplaintState, timeline: Sequence[ev.Event]) -> str:
    """The regulator's clocks (domain.regulatory_clocks, as the API shows them): due, and where each stands."""
    clocks = regulatory_clocks(state, timeline)
    if not clocks:
        return "  regulatory clocks: none (filed before regulatory clocks)"
    return "\n".join(["  regulatory clocks:", *(f"    {regulatory_line(clock)}" for clock in clocks)])


def render_case(state: ComplaintState, timeline: Iterable[ev.Event], now: datetime) -> str:
    """What `show` prints: the state, what the case waits for, the money, the regulatory clocks, the timeline."""
    events = list(timeline)
    return "\n".join(
        [
            render_state(state),
            render_question(state, now),
            render_adjustments(state),
            render_regulatory(state, events),
            "  timeline (Asia/Shanghai):",
            render_timeline(events),
        ]
    )
