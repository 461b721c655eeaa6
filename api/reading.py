"""Reading one ticket for a caller: from the event store, or from the case's workflow while it is just filed."""

from __future__ import annotations

from fastapi import Request

from api.context import ApiContext
from api.errors import ApiError
from api.mapping import Reader, ticket_from_events
from api.models import TroubleTicket
from api.security import Caller
from client.api import CaseNotFound, NotVisible, check_visible
from domain import events as ev
from domain.intake import check_complaint_id

BASE_PATH = "/tmf-api/troubleTicket/v5"


def base_url(request: Request) -> str:
    """Where this API's tickets live, as the caller reached it (for `href`)."""
    return str(request.base_url).rstrip("/") + BASE_PATH


def not_found(complaint_id: str) -> ApiError:
    """The 404 for a case that does not exist or that the caller may not see (the same answer for both)."""
    # The same answer for a case that does not exist and one the caller may not see: a customer cannot
    # learn which case ids exist.
    return ApiError(404, f"no ticket {complaint_id} that you may see")


async def case_events(context: ApiContext, caller: Caller, complaint_id: str) -> list[ev.Event]:
    """The case's events, if the caller may see the case; 404 otherwise."""
    try:
        check_complaint_id(complaint_id)
    except ValueError:
        raise not_found(complaint_id) from None
    events = await context.store.load(complaint_id)
    if not events:
        # Filed a moment ago: its first events may not be stored yet, but its workflow has them.
        try:
            view = await context.complaints.acting_as(caller.token).view(complaint_id)
        except (CaseNotFound, NotVisible):
            raise not_found(complaint_id) from None
        events = list(view.timeline)
        if not events:
            raise not_found(complaint_id)
    filed = events[0]
    if not isinstance(filed, ev.ComplaintFiled):
        raise not_found(complaint_id)
    try:
        check_visible(caller.actor, complaint_id, filed.msisdn)
    except NotVisible:
        raise not_found(complaint_id) from None
    return events


async def read_ticket(context: ApiContext, caller: Caller, complaint_id: str, request: Request) -> TroubleTicket:
    """The ticket as `caller` may see it."""
    events = await case_events(context, caller, complaint_id)
    return ticket_from_events(events, Reader(caller.actor), base_url(request))
