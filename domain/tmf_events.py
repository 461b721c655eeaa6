"""The TMF621 v5 events a domain event gives rise to.

A pure function of the state before, the event and the state after, so the event store writes them in the same
transaction as the events themselves.

| domain                                   | TMF event                                  |
|------------------------------------------|--------------------------------------------|
| ComplaintFiled                           | TroubleTicketCreateEvent                   |
| any event that moves the TMF status      | TroubleTicketStatusChangeEvent             |
| ... into `resolved`                      | + TroubleTicketResolvedEvent               |
| CustomerAsked                            | TroubleTicketInformationRequiredEvent      |
| a note, a hand-over, money, a partner    | TroubleTicketAttributeValueChangeEvent     |

Each is TMF v5's Event (`@baseType` Event) with the ticket under `event.troubleTicket`; what changed (an
attribute, a question awaiting the customer) is named in `description`.

The events carry no personal data (no number, name, note or question text): the outbox is not sealed
under the customer's key, so a listener reads those through the API, where erasure reaches them.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict

from domain import events as ev
from domain.cases import Category, Priority
from domain.state import ComplaintState
from domain.tmf_status import TmfStatus, tmf_status

TROUBLE_TICKET_PATH = "/tmf-api/troubleTicket/v5/troubleTicket"

CREATE = "TroubleTicketCreateEvent"
STATUS_CHANGE = "TroubleTicketStatusChangeEvent"
ATTRIBUTE_VALUE_CHANGE = "TroubleTicketAttributeValueChangeEvent"
RESOLVED = "TroubleTicketResolvedEvent"
INFORMATION_REQUIRED = "TroubleTicketInformationRequiredEvent"
EVENT_TYPES = (CREATE, STATUS_CHANGE, ATTRIBUTE_VALUE_CHANGE, RESOLVED, INFORMATION_REQUIRED)

# Which ticket attribute a domain event changes without moving the status.
_ATTRIBUTE_OF: dict[type[ev.Event], str] = {
    ev.NoteAdded: "note",
    ev.CaseReassigned: "relatedParty",
    ev.CaseEscalated: "relatedParty",
    ev.PersonalDataErased: "relatedParty",
    ev.AdjustmentProposed: "relatedEntity",
    ev.AdjustmentApproved: "relatedEntity",
    ev.AdjustmentRefused: "relatedEntity",
    ev.AdjustmentApplied: "relatedEntity",
    ev.AdjustmentAlreadyRemedied: "relatedEntity",
    ev.PartnerRequestSent: "relatedEntity",
    ev.PartnerRequestConfirmed: "relatedEntity",
    ev.PartnerRequestFailed: "relatedEntity",
}


class TmfEvent(BaseModel):
    """One TMF event, ready for the outbox: `body` is what a listener receives."""

    model_config = ConfigDict(frozen=True)

    event_id: str
    event_type: str
    complaint_id: str
    seq: int  # the domain event it comes from
    ordinal: int  # its place among that domain event's TMF events
    event_time: AwareDatetime
    body: dict[str, Any]


def ticket_href(complaint_id: str) -> str:
    """The TMF href of a case's trouble ticket, relative to the API root."""
    return f"{TROUBLE_TICKET_PATH}/{complaint_id}"


@functools.lru_cache(maxsize=4096)
def _ticket_identity(complaint_id: str, category: Category, priority: Priority, filed_at: datetime) -> tuple[str, ...]:
    """What a case's ticket shows that no event changes (its href, type, priority, creation), made once per case."""
    return ticket_href(complaint_id), category.value, priority.value, filed_at.isoformat()


def _ticket(state: ComplaintState, status: TmfStatus) -> dict[str, Any]:
    """The ticket as an event shows it: identity, status and the non-personal attributes."""
    href, ticket_type, priority, created = _ticket_identity(
        state.complaint_id, state.category, state.priority, state.filed_at
    )
    ticket: dict[str, Any] = {
        "@type": "TroubleTicket",
        "id": state.complaint_id,
        "href": href,
        "ticketType": ticket_type,
        "severity": priority,
        "priority": priority,
        "status": status.value,
        "creationDate": created,
        "lastUpdate": state.updated_at.isoformat(),
    }
    if state.resolved_at is not None:
        ticket["resolutionDate"] = state.resolved_at.isoformat()
    return ticket


def _body(
    event: ev.Event, at: str, ordinal: int, event_type: str, ticket: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    return {
        "@type": event_type,
        "@baseType": "Event",
        "eventId": f"{event.complaint_id}:{event.seq}:{ordinal}",
        "eventType": event_type,
        "eventTime": at,
        "timeOccurred": at,
        "correlationId": event.complaint_id,
        "domain": "troubleTicket",
        "title": event_type,
        **extra,
        "event": {"troubleTicket": ticket},
    }


def tmf_event_bodies(before: ComplaintState | None, event: ev.Event, after: ComplaintState) -> list[dict[str, Any]]:
    """The bodies of the TMF events `event` gives rise to, in order: `tmf_events` without the models around them.

    The event store writes these for every event it appends, so they are built plainly, and only for an
    event that changes what a listener sees (most change nothing).
    """
    now = tmf_status(after.status, after.close_reason)
    kinds: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
    if before is None:
        kinds.append((CREATE, {}, {}))
    else:
        was = tmf_status(before.status, before.close_reason)
        if now is not was:
            change = {"statusChangeDate": event.at.isoformat(), "statusChangeReason": event.type}
            kinds.append((STATUS_CHANGE, change, {}))
            if now is TmfStatus.RESOLVED:
                kinds.append((RESOLVED, change, {}))
        if isinstance(event, ev.CustomerAsked):
            # The question may quote the customer: only its id travels, the text is read through the API.
            kinds.append(
                (INFORMATION_REQUIRED, {}, {"description": f"question {event.question_id} awaits the customer"})
            )
        attribute = _ATTRIBUTE_OF.get(type(event))
        if attribute is not None:
            # TMF v5's Event has no fieldPath: the changed attribute is named in the description.
            kinds.append((ATTRIBUTE_VALUE_CHANGE, {}, {"description": f"{attribute} changed"}))
    if not kinds:
        return []
    at = event.at.isoformat()
    ticket = _ticket(after, now)
    return [
        _body(event, at, ordinal, kind, {**ticket, **ticket_extra}, **extra)
        for ordinal, (kind, ticket_extra, extra) in enumerate(kinds)
    ]


def tmf_events(before: ComplaintState | None, event: ev.Event, after: ComplaintState) -> list[TmfEvent]:
    """The TMF events `event` gives rise to, in the order a listener should see them."""
    return [
        TmfEvent(
            event_id=body["eventId"],
            event_type=body["eventType"],
            complaint_id=event.complaint_id,
            seq=event.seq,
            ordinal=ordinal,
            event_time=event.at,
            body=body,
        )
        for ordinal, body in enumerate(tmf_event_bodies(before, event, after))
    ]
