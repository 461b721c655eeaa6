"""A case as a TMF621 ticket, built from its events (the event store), and a list row from visibility.

What a reader sees of the customer follows the CLI: the number masked (136****8765) unless the reader is
that customer or holds the `pii:read` scope; the name masked for auditors without that scope (as the audit
export does); phone and ID numbers scrubbed from free text for everyone but those who may see them.
"""

from __future__ import annotations

from collections.abc import Sequence

from api.models import (
    Adjustment,
    ChannelRef,
    EntityRef,
    Note,
    PartyRoleRef,
    PendingQuestion,
    RegulatoryClock,
    Rejection,
    RelatedEntity,
    RelatedParty,
    StatusChange,
    TroubleTicket,
    TroubleTicketRelationship,
)
from audit.visibility import PII_READ, mask_name
from auth.tokens import VerifiedActor
from cli.timeline import describe, mask_msisdn_in
from client.api import CaseSummary
from domain import events as ev
from domain.actors import Role
from domain.cases import Priority, Status
from domain.masking import mask_msisdn, scrub
from domain.money import format_yuan
from domain.regulatory_clocks import regulatory_clocks
from domain.state import ComplaintState, apply, start
from domain.tmf_status import TmfStatus, tmf_status

SEVERITIES: tuple[tuple[str, Priority], ...] = (
    ("Minor", Priority.NORMAL),
    ("Major", Priority.HIGH),
    ("Critical", Priority.URGENT),
)
"""TMF severity <-> the engine's priority, one row each."""


def priority_of_severity(severity: str) -> Priority:
    """The case priority a TMF severity names (case-insensitive); ValueError for any other severity."""
    for name, priority in SEVERITIES:
        if name.lower() == severity.strip().lower():
            return priority
    raise ValueError(f"severity {severity!r} is not one of {', '.join(name for name, _ in SEVERITIES)}")


def severity_of(priority: Priority | str | None) -> str | None:
    """The TMF severity of a case priority, or None when the priority has none."""
    for name, known in SEVERITIES:
        if known.value == priority:
            return name
    return None


class Reader:
    """What one reader may see of a customer's personal data."""

    def __init__(self, actor: VerifiedActor) -> None:
        self.actor = actor
        is_customer = actor.role is Role.CUSTOMER
        self.sees_numbers = is_customer or actor.has_scope(PII_READ)
        self.sees_names = self.sees_numbers or actor.role is not Role.AUDITOR

    def number(self, msisdn: str) -> str:
        """The phone number as this reader may see it: in clear, or masked."""
        return msisdn if self.sees_numbers else mask_msisdn(msisdn)

    def name(self, name: str) -> str:
        """The customer's name as this reader may see it: in clear, or masked."""
        return name if self.sees_names else mask_name(name)

    def text(self, text: str) -> str:
        """Free text as this reader may see it: in clear, or with phone and ID numbers scrubbed."""
        return text if self.sees_numbers else scrub(text)


def ticket_href(base: str, complaint_id: str) -> str:
    """The TMF href of a case's trouble ticket under the API's `base` URL."""
    return f"{base}/troubleTicket/{complaint_id}"


def ticket_from_events(events: Sequence[ev.Event], reader: Reader, base: str) -> TroubleTicket:
    """The ticket of a case whose events (in order, personal values opened) are `events`."""
    filed = events[0]
    assert isinstance(filed, ev.ComplaintFiled)
    state = start(filed)
    history = [StatusChange(status=tmf_status(state.status), status_change_date=filed.at,
                            status_change_reason=reader.text(describe(filed)))]
    notes: list[Note] = []
    related: list[RelatedEntity] = []
    for event in events[1:]:
        before = history[-1].status
        state = apply(state, event)
        now = tmf_status(state.status, state.close_reason)
        if now is not before:
            history.append(StatusChange(status=now, status_change_date=event.at,
                                        status_change_reason=reader.text(describe(event))))
        if isinstance(event, ev.NoteAdded):
            notes.append(Note(id=str(event.seq), author=event.actor.id, date=event.at, text=reader.text(event.text)))
        related.extend(_related_entities(event))
    ticket = _ticket(state, history, notes, related, reader, base, filed)
    # The regulator's clocks, read from the same fold and events as `starter show` reads them.
    clocks = [RegulatoryClock.model_validate(vars(clock)) for clock in regulatory_clocks(state, events)]
    return ticket.model_copy(update={"regulatory_clock": clocks})


def _related_entities(event: ev.Event) -> list[RelatedEntity]:
    """Bills, adjustments and partner requests an event names, as TMF related entities."""
    match event:
        case ev.AdjustmentProposed():
            what = f"{event.kind.replace('_', ' ')} of {format_yuan(event.amount_fen)}"
            cited = [
                RelatedEntity(role=f"cited{citation.kind[:1].upper()}{citation.kind[1:]}",
                              entity=EntityRef(id=mask_msisdn_in(citation.record_id),
                                               referred_type=_referred(citation.kind), name=citation.role))
                for citation in event.citations
            ]
            return [RelatedEntity(role="adjustment", entity=EntityRef(
                id=event.adjustment_id, name=what, referred_type="Adjustment")), *cited]
        case ev.AdjustmentApplied():
            return [RelatedEntity(role="adjustmentLedgerEntry", entity=EntityRef(
                id=event.ledger_id, name=event.adjustment_id, referred_type="AdjustmentLedgerEntry"))]
        case ev.PartnerRequestSent():
            return [RelatedEntity(role="partnerRequest", entity=EntityRef(
                id=event.request_key, name=f"{event.partner}: {event.action}", referred_type="PartnerRequest"))]
        case ev.BillingActionApplied():
            return [RelatedEntity(role="billingAction", entity=EntityRef(
                id=event.idempotency_key, name=event.action, referred_type="BillingAction"))]
    return []


def _referred(kind: str) -> str:
    return "CustomerBill" if "bill" in kind else kind[:1].upper() + kind[1:]


def _ticket(
    state: ComplaintState,
    history: list[StatusChange],
    notes: list[Note],
    related: list[RelatedEntity],
    reader: Reader,
    base: str,
    filed: ev.ComplaintFiled,
) -> TroubleTicket:
    last = history[-1]
    question = state.pending_question
    return TroubleTicket(
        id=state.complaint_id,
        href=ticket_href(base, state.complaint_id),
        name=f"{state.category.value} complaint",
        description=reader.text(state.description),
        severity=severity_of(state.priority),
        ticket_type=state.category.value,
        priority=state.priority.value,
        channel=ChannelRef(id=state.channel.value, name=state.channel.value),
        creation_date=state.filed_at,
        last_update=state.updated_at,
        expected_resolution_date=state.sla_due_at,
        resolution_date=state.resolved_at,
        status=last.status,
        status_change_date=last.status_change_date,
        status_change_reason=last.status_change_reason,
        status_change_history=history,
        note=notes,
        related_entity=related,
        related_party=[
            RelatedParty(role="customer", party_or_party_role=PartyRoleRef(
                id=reader.number(state.msisdn), name=reader.name(state.customer_name), referred_type="Customer")),
            RelatedParty(role="reporter", party_or_party_role=PartyRoleRef(
                id=filed.actor.id, name=filed.actor.id, referred_type=filed.actor.role.value)),
            RelatedParty(role="assignee", party_or_party_role=PartyRoleRef(
                id=state.assignee, name=state.assignee, referred_type="Individual")),
        ],
        trouble_ticket_relationship=[
            TroubleTicketRelationship(
                id=other, href=ticket_href(base, other), relationship_type="sameNumberAndCategory")
            for other in state.linked_cases
        ],
        engine_status=state.status.value,
        assignee=state.assignee,
        escalation_level=state.escalation_level,
        pending_question=PendingQuestion(
            question_id=question.question_id, question=question.question, options=list(question.options),
            asked_at=question.asked_at,
        ) if question else None,
        adjustment=[
            Adjustment(adjustment_id=a.adjustment_id, kind=a.kind, amount_fen=a.amount_fen, status=a.status,
                       needs_approval=a.needs_approval, decided_by=a.decided_by)
            for a in state.adjustments.values()
        ],
        disputed_since=state.disputed_since,
        rejection=Rejection(rule=state.rejection.rule, reason=state.rejection.reason,
                            oldest_accepted=state.rejection.oldest_accepted) if state.rejection else None,
    )


# Runs stopped from outside show their execution status in a list row (client.api.STOPPED_RUNS).
_STOPPED_ROW_STATUSES = frozenset({"terminated", "canceled", "failed", "timed_out"})


def row_status(row: CaseSummary, close_reason: str | None) -> TmfStatus | None:
    """A list row's TMF status: from its engine status and, for a closed case, why it closed."""
    if row.status in _STOPPED_ROW_STATUSES:
        return TmfStatus.CANCELLED
    if row.status is None:
        return None
    return tmf_status(Status(row.status), close_reason)


def ticket_from_row(row: CaseSummary, close_reason: str | None, base: str) -> TroubleTicket:
    """A list row as a ticket: what visibility holds (no personal data there at all)."""
    return TroubleTicket(
        id=row.complaint_id,
        href=ticket_href(base, row.complaint_id),
        ticket_type=row.category,
        severity=severity_of(row.priority),
        priority=row.priority,
        status=row_status(row, close_reason),
        expected_resolution_date=row.sla_due_at,
        engine_status=row.status,
        assignee=row.assignee,
        escalation_level=row.escalation_level,
    )
