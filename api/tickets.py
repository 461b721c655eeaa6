"""TMF621 troubleTicket: POST (file), GET one, GET list, PATCH (merge-patch: notes, cancel)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, Security
from fastapi.responses import JSONResponse

from api.context import ApiContext, context_of
from api.errors import ERROR_RESPONSES, ApiError
from api.filing import file_ticket
from api.listing import list_tickets
from api.models import TroubleTicket, TroubleTicketCreate, TroubleTicketPatch
from api.reading import BASE_PATH, base_url, case_events, read_ticket
from api.security import FILERS, READERS, Caller, require
from client.api import CaseNotFound, CommandRefused, NotAuthenticated
from domain.actors import Role
from domain.cases import Category
from domain.tmf_status import TmfStatus

__all__ = ["BASE_PATH", "router"]

router = APIRouter(tags=["troubleTicket"], responses=ERROR_RESPONSES)

TicketId = Annotated[str, Path(description="The ticket (complaint) id", min_length=1, max_length=64)]
Fields = Annotated[
    str | None,
    Query(description="Comma-separated first-level attributes to return (id, href and @type always are)"),
]

PATCH_CONTENT = {
    "requestBody": {
        "content": {"application/merge-patch+json": {"schema": {"$ref": "#/components/schemas/TroubleTicketPatch"}}}
    }
}


def select_fields(ticket: TroubleTicket, fields: str | None) -> dict[str, Any]:
    """The ticket as JSON, only with the asked first-level attributes when `fields` is given."""
    body: dict[str, Any] = ticket.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not fields:
        return body
    wanted = {name.strip() for name in fields.split(",") if name.strip()} | {"id", "href", "@type"}
    return {key: value for key, value in body.items() if key in wanted}


@router.post(
    "/troubleTicket",
    status_code=201,
    response_model=TroubleTicket,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    summary="File a complaint as a trouble ticket",
    description=(
        "`ticketType` is the complaint category, `severity` Minor/Major/Critical, the customer the relatedParty "
        "with role `customer` (`partyOrPartyRole.id` the mobile number, `name` the customer's name). With an "
        "`Idempotency-Key` header, the same key and body give the same ticket; another body gives 409."
    ),
)
async def create_ticket(
    request: Request,
    body: TroubleTicketCreate,
    caller: Annotated[Caller, Security(require(*FILERS))],
    context: Annotated[ApiContext, Depends(context_of)],
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=200,
                           description="The same key and body file one ticket, however often sent")
    ] = None,
    fields: Fields = None,
) -> JSONResponse:
    ticket = await file_ticket(context, caller, body, idempotency_key, base_url(request))
    return JSONResponse(select_fields(ticket, fields), status_code=201,
                        headers={"Location": ticket.href})


@router.get(
    "/troubleTicket/{id}",
    response_model=TroubleTicket,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    summary="A ticket with its status history, notes and related entities (from the case's events)",
)
async def retrieve_ticket(
    request: Request,
    id: TicketId,
    caller: Annotated[Caller, Security(require(*READERS))],
    context: Annotated[ApiContext, Depends(context_of)],
    fields: Fields = None,
) -> JSONResponse:
    ticket = await read_ticket(context, caller, id, request)
    return JSONResponse(select_fields(ticket, fields))


@router.get(
    "/troubleTicket",
    response_model=list[TroubleTicket],
    response_model_by_alias=True,
    response_model_exclude_none=True,
    summary="List tickets, soonest SLA deadline first",
    description="A customer's token lists only that customer's tickets. Filters narrow the list.",
    responses={200: {"headers": {
        "X-Total-Count": {"description": "How many tickets match", "schema": {"type": "integer"}},
        "X-Result-Count": {"description": "How many are in this page", "schema": {"type": "integer"}},
    }}},
)
async def list_tickets_route(
    request: Request,
    caller: Annotated[Caller, Security(require(*READERS))],
    context: Annotated[ApiContext, Depends(context_of)],
    fields: Fields = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000, description="Index of the first ticket returned")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000, description="How many tickets at most")] = 100,
    status: Annotated[TmfStatus | None, Query(description="TMF status")] = None,
    ticket_type: Annotated[Category | None, Query(alias="ticketType", description="complaint category")] = None,
    severity: Annotated[str | None, Query(pattern="^(Minor|Major|Critical)$")] = None,
    number: Annotated[
        str | None,
        Query(alias="relatedParty.id", max_length=32,
              description="the customer's mobile number (looked up through its keyed token, never stored)"),
    ] = None,
) -> JSONResponse:
    total, page = await list_tickets(
        context, caller, base_url(request), offset=offset, limit=limit, status=status, category=ticket_type,
        severity=severity, number=number,
    )
    return JSONResponse(
        [select_fields(ticket, fields) for ticket in page],
        headers={"X-Total-Count": str(total), "X-Result-Count": str(len(page))},
    )


@router.patch(
    "/troubleTicket/{id}",
    response_model=TroubleTicket,
    response_model_by_alias=True,
    response_model_exclude_none=True,
    summary="Merge-patch a ticket: add notes, or cancel it (the case is withdrawn)",
    description=(
        "Takes `application/merge-patch+json` (or `application/json`). New `note` entries (without id) are added "
        "as notes; `status: cancelled` withdraws the case, with `statusChangeReason` saying why. The case's own "
        "rules decide: a refused change is 409 and changes nothing. Other statuses are the engine's to set; "
        "see the task endpoints (resolve, reopen, ...)."
    ),
    openapi_extra=PATCH_CONTENT,
)
async def patch_ticket(
    request: Request,
    id: TicketId,
    body: TroubleTicketPatch,
    caller: Annotated[Caller, Security(require(*FILERS))],
    context: Annotated[ApiContext, Depends(context_of)],
    fields: Fields = None,
) -> Response:
    await case_events(context, caller, id)  # 404 unless the caller may see it
    if body.status not in (None, TmfStatus.CANCELLED):
        raise ApiError(409, f"status {body.status} is the engine's to set: a person may only cancel a ticket "
                            "(held, resolved and closed follow from the case's own steps and tasks)")
    notes = body.note or []
    # All checked before any is sent: a refused patch changes nothing.
    for note in notes:
        if note.id is not None:
            raise ApiError(409, f"note {note.id} exists already: notes are added, never changed")
        if not note.text or not note.text.strip():
            raise ApiError(400, "a note needs text")
    complaints = context.complaints.acting_as(caller.token)
    try:
        for note in notes:
            assert note.text is not None
            await complaints.note(id, note.text)
        if body.status is TmfStatus.CANCELLED:
            reason = body.status_change_reason or ("withdrawn by the customer" if caller.actor.role is Role.CUSTOMER
                                                   else f"cancelled by {caller.actor.subject}")
            await complaints.withdraw(id, reason)
    except CommandRefused as refused:
        raise ApiError(409, str(refused)) from None
    except CaseNotFound as missing:
        raise ApiError(409, f"{missing}: a closed ticket takes no change") from None
    except NotAuthenticated as refused:
        raise ApiError(401, str(refused)) from None
    ticket = await read_ticket(context, caller, id, request)
    return JSONResponse(select_fields(ticket, fields))

