"""What the stock Temporal Web UI shows of a case (its User Metadata).

A one-line static summary set when the workflow starts, static details, and current details that follow the case as it
moves.

Pure text from the intake or the state. No phone number in clear (Temporal stores these texts unencrypted):
the number is masked, the customer's name left out. Markdown, which the Web UI renders.
"""

from __future__ import annotations

from datetime import datetime

from domain.clock import format_local
from domain.intake import ComplaintIntake
from domain.masking import mask_msisdn
from domain.money import format_yuan
from domain.state import ComplaintState


def case_summary(intake: ComplaintIntake) -> str:
    """The list's one line for a complaint: `Complaint · billing_spike · 135****0033 · urgent`."""
    return f"Complaint · {intake.category.value} · {mask_msisdn(intake.msisdn)} · {intake.priority.value}"


def case_static_details(intake: ComplaintIntake, reopen_reason: str | None = None) -> str:
    """The case's fixed details as Markdown for Temporal's UI (the number masked), with the reopen reason."""
    lines = [
        f"**Complaint {intake.complaint_id}**",
        f"- category: `{intake.category.value}`, priority: `{intake.priority.value}`",
        f"- filed through {intake.channel.value} by {intake.filed_by.id}",
        f"- the story (timeline, evidence, money): `starter show {intake.complaint_id}`, "
        f"or the console at `/console/cases/{intake.complaint_id}`",
    ]
    if reopen_reason:
        lines.append(f"- reopened: {reopen_reason}")
    return "\n".join(lines)


def case_current_details(state: ComplaintState, now: datetime) -> str:
    """A short markdown state: status, next deadline, open question, pending approvals, money moved."""
    due = state.sla_due_at
    deadline = "none running" if due is None else (
        f"{format_local(due)} (Shanghai)" + (" **BREACHED**" if due < now else "")
    )
    lines = [
        f"**{state.status.value}** · assignee {state.assignee} · escalation level {state.escalation_level}",
        f"- next deadline: {deadline}",
    ]
    if state.pending_question is not None:
        lines.append(f"- waiting for the customer: {state.pending_question.question}")
    waiting = [a for a in state.adjustments.values() if a.needs_approval and a.status == "proposed"]
    lines += [
        f"- awaiting approval: {a.adjustment_id} {a.kind} {format_yuan(a.amount_fen)}" for a in waiting
    ]
    if state.attention_reason:
        lines.append(f"- needs attention: {state.attention_reason}")
    if state.money_moved_fen:
        lines.append(f"- money moved: {format_yuan(state.money_moved_fen)}")
    if state.outcome:
        lines.append(f"- outcome: {state.outcome}")
    return "\n".join(lines)


def helper_summary(what: str, complaint_id: str) -> str:
    """A helper workflow's line in the list names the case it works for."""
    return f"{what} of complaint {complaint_id}"
